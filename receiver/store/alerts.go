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

// AlertState is what augur keeps of one alert at one receiver: whether its
// firing was forwarded and not yet its resolution (Sent), and its flap
// history: its last seen status and start time, its state changes (Unix
// milliseconds), whether it is flapping and whether a notification said so.
type AlertState struct {
	Sent      bool
	Status    string
	StartsAt  time.Time
	Changes   []int64
	Flapping  bool
	Announced bool
}

// Equal reports whether two states are the same.
func (a AlertState) Equal(b AlertState) bool {
	return a.Sent == b.Sent && a.Status == b.Status && a.StartsAt.Equal(b.StartsAt) && slices.Equal(a.Changes, b.Changes) &&
		a.Flapping == b.Flapping && a.Announced == b.Announced
}

// AlertKey names an alert at a receiver, with the alert group it came in.
type AlertKey struct {
	Receiver, GroupKey, Fingerprint string
}

// AlertStates returns the states of the given alerts at a receiver, by
// fingerprint; alerts never seen are missing.
func (s *Store) AlertStates(ctx context.Context, receiver string, fingerprints []string) (map[string]AlertState, error) {
	type row struct {
		fp string
		st AlertState
	}
	rows, err := collect(ctx, s.db, "alert states",
		`SELECT fingerprint, sent, status, starts_at, changes, flapping, announced FROM receiver_alerts
		 WHERE receiver = ? AND fingerprint IN (`+placeholders(len(fingerprints))+`)`,
		append([]any{receiver}, anys(fingerprints)...),
		func(rows *sql.Rows) (r row, err error) {
			r.fp, r.st, err = scanAlertState(rows)
			return r, err
		})
	if err != nil {
		return nil, err
	}
	out := make(map[string]AlertState, len(rows))
	for _, r := range rows {
		out[r.fp] = r.st
	}
	return out, nil
}

func scanAlertState(row scanner, extra ...any) (string, AlertState, error) {
	var (
		fp      string
		st      AlertState
		starts  int64
		changes string
	)
	if err := row.Scan(append([]any{&fp, &st.Sent, &st.Status, &starts, &changes, &st.Flapping, &st.Announced}, extra...)...); err != nil {
		return "", st, fmt.Errorf("scan alert state: %w", err)
	}
	if err := json.Unmarshal([]byte(changes), &st.Changes); err != nil {
		return "", st, fmt.Errorf("decode flap history of %s: %w", fp, err)
	}
	st.StartsAt = time.UnixMilli(starts)
	return fp, st, nil
}

const saveAlertStateSQL = `INSERT INTO receiver_alerts (receiver, fingerprint, group_key, sent, status, starts_at, changes, flapping, announced, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (receiver, fingerprint) DO UPDATE SET
	  group_key = excluded.group_key, sent = excluded.sent, status = excluded.status, starts_at = excluded.starts_at,
	  changes = excluded.changes, flapping = excluded.flapping, announced = excluded.announced,
	  updated_at = excluded.updated_at`

// alertStateArgs are saveAlertStateSQL's arguments.
func alertStateArgs(k AlertKey, st AlertState, now time.Time) []any {
	changes, _ := json.Marshal(st.Changes) //nolint:errcheck // []int64 always encodes.
	return []any{k.Receiver, k.Fingerprint, k.GroupKey, st.Sent, st.Status, st.StartsAt.UnixMilli(), string(changes),
		st.Flapping, st.Announced, now.UnixMilli()}
}

// FlappingAlert is an alert that is flapping, with its state.
type FlappingAlert struct {
	AlertKey
	AlertState
}

// Flapping returns the alerts that are flapping.
func (s *Store) Flapping(ctx context.Context) ([]FlappingAlert, error) {
	return collect(ctx, s.db, "flapping alerts",
		`SELECT fingerprint, sent, status, starts_at, changes, flapping, announced, receiver, group_key FROM receiver_alerts WHERE flapping = 1`,
		nil,
		func(rows *sql.Rows) (a FlappingAlert, err error) {
			a.Fingerprint, a.AlertState, err = scanAlertState(rows, &a.Receiver, &a.GroupKey)
			return a, err
		})
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
	tx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := tx.ExecContext(ctx,
		`UPDATE receiver_alerts SET flapping = 0, updated_at = ? WHERE receiver = ? AND fingerprint IN (`+placeholders(len(fingerprints))+`)`,
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
