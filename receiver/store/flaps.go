package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Flap is the flap history of one alert at one receiver: its last seen
// status and start time, its state changes (Unix milliseconds), whether it
// is flapping and whether a notification said so.
type Flap struct {
	Status    string
	StartsAt  time.Time
	Changes   []int64
	Flapping  bool
	Announced bool
}

// Equal reports whether two histories are the same.
func (f Flap) Equal(g Flap) bool {
	return f.Status == g.Status && f.StartsAt.Equal(g.StartsAt) && slices.Equal(f.Changes, g.Changes) &&
		f.Flapping == g.Flapping && f.Announced == g.Announced
}

// FlapKey names an alert at a receiver, with the alert group it came in.
type FlapKey struct {
	Receiver, GroupKey, Fingerprint string
}

// Flaps returns the flap histories of the given alerts of a receiver, by
// fingerprint; alerts never seen are missing.
func (s *Store) Flaps(ctx context.Context, receiver string, fingerprints []string) (map[string]Flap, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT fingerprint, status, starts_at, changes, flapping, announced FROM flaps
		 WHERE receiver = ? AND fingerprint IN (`+placeholders(len(fingerprints))+`)`,
		append([]any{receiver}, anys(fingerprints)...)...)
	if err != nil {
		return nil, fmt.Errorf("read flap histories: %w", err)
	}
	defer rows.Close()
	out := map[string]Flap{}
	for rows.Next() {
		fp, f, err := scanFlap(rows)
		if err != nil {
			return nil, err
		}
		out[fp] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read flap histories: %w", err)
	}
	return out, nil
}

func scanFlap(row scanner, extra ...any) (string, Flap, error) {
	var (
		fp      string
		f       Flap
		starts  int64
		changes string
	)
	if err := row.Scan(append([]any{&fp, &f.Status, &starts, &changes, &f.Flapping, &f.Announced}, extra...)...); err != nil {
		return "", f, fmt.Errorf("scan flap history: %w", err)
	}
	if err := json.Unmarshal([]byte(changes), &f.Changes); err != nil {
		return "", f, fmt.Errorf("decode flap history of %s: %w", fp, err)
	}
	f.StartsAt = time.UnixMilli(starts)
	return fp, f, nil
}

const saveFlapSQL = `INSERT INTO flaps (receiver, fingerprint, group_key, status, starts_at, changes, flapping, announced, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (receiver, fingerprint) DO UPDATE SET
	  group_key = excluded.group_key, status = excluded.status, starts_at = excluded.starts_at,
	  changes = excluded.changes, flapping = excluded.flapping, announced = excluded.announced,
	  updated_at = excluded.updated_at`

// flapArgs are saveFlapSQL's arguments.
func flapArgs(k FlapKey, f Flap, now time.Time) []any {
	changes, _ := json.Marshal(f.Changes) //nolint:errcheck // []int64 always encodes.
	return []any{k.Receiver, k.Fingerprint, k.GroupKey, f.Status, f.StartsAt.UnixMilli(), string(changes), f.Flapping, f.Announced, now.UnixMilli()}
}

// FlappingAlert is an alert that is flapping, with its history.
type FlappingAlert struct {
	FlapKey
	Flap
}

// Flapping returns the alerts that are flapping.
func (s *Store) Flapping(ctx context.Context) ([]FlappingAlert, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT fingerprint, status, starts_at, changes, flapping, announced, receiver, group_key FROM flaps WHERE flapping = 1`)
	if err != nil {
		return nil, fmt.Errorf("read flapping alerts: %w", err)
	}
	defer rows.Close()
	var out []FlappingAlert
	for rows.Next() {
		var a FlappingAlert
		if a.Fingerprint, a.Flap, err = scanFlap(rows, &a.Receiver, &a.GroupKey); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read flapping alerts: %w", err)
	}
	return out, nil
}

// KindSettled marks a notification that augur made when alerts of its
// group stopped flapping: the group's latest notification again, so that
// their final state is forwarded.
const KindSettled = "settled"

// Settle records that the given alerts of one receiver's alert group are no
// longer flapping, and queues the group's latest notification again, as a
// new notification of kind KindSettled received at now, so that their final
// state is forwarded. Both happen in one transaction.
func (s *Store) Settle(ctx context.Context, receiver, groupKey string, fingerprints []string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit.
	if _, err := tx.ExecContext(ctx,
		`UPDATE flaps SET flapping = 0, updated_at = ? WHERE receiver = ? AND fingerprint IN (`+placeholders(len(fingerprints))+`)`,
		append([]any{now.UnixMilli(), receiver}, anys(fingerprints)...)...); err != nil {
		return fmt.Errorf("settle flapping alerts: %w", err)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO notifications (receiver, group_key, received_at, alerts, payload, kind)
		 SELECT receiver, group_key, ?, alerts, payload, ? FROM notifications
		 WHERE receiver = ? AND group_key = ? AND kind = '' ORDER BY id DESC LIMIT 1`,
		now.UnixMilli(), KindSettled, receiver, groupKey)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("queue final state of group %q: %w", groupKey, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit settled alerts: %w", err)
	}
	return nil
}
