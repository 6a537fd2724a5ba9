package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Resolution types augur records itself, and the sources of a resolution.
const (
	AutoResolved     = "auto_resolved"
	ResolutionByAPI  = "api"
	ResolutionByAuto = "auto"
)

// Resolution is what resolved an incident.
type Resolution struct {
	IncidentID string
	// Type is rollback, manual_fix, scaling, auto_resolved, ...
	Type               string
	RootCause          string
	EffectiveActions   []string
	IneffectiveActions []string
	Notes              string
	// Source is ResolutionByAPI or ResolutionByAuto.
	Source     string
	RecordedAt time.Time
}

// SetResolution records what resolved an incident, replacing what was
// recorded before (an auto_resolved guess, or an earlier account), or
// returns ErrNotFound when there is no such incident.
func (s *Store) SetResolution(ctx context.Context, r Resolution) error {
	eff, err := json.Marshal(nonNil(r.EffectiveActions))
	if err != nil {
		return fmt.Errorf("encode effective actions: %w", err)
	}
	ineff, err := json.Marshal(nonNil(r.IneffectiveActions))
	if err != nil {
		return fmt.Errorf("encode ineffective actions: %w", err)
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO resolutions (incident_id, type, root_cause, effective, ineffective, notes, source, recorded_at)
		 SELECT id, ?, ?, ?, ?, ?, ?, ? FROM incidents WHERE id = ?
		 ON CONFLICT (incident_id) DO UPDATE SET type = excluded.type, root_cause = excluded.root_cause,
		   effective = excluded.effective, ineffective = excluded.ineffective, notes = excluded.notes,
		   source = excluded.source, recorded_at = excluded.recorded_at`,
		r.Type, r.RootCause, string(eff), string(ineff), r.Notes, r.Source, r.RecordedAt.UnixMilli(), r.IncidentID)
	if err != nil {
		return fmt.Errorf("record resolution of %s: %w", r.IncidentID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("record resolution of %s: %w", r.IncidentID, err)
	}
	if n == 0 {
		return fmt.Errorf("incident %s: %w", r.IncidentID, ErrNotFound)
	}
	return nil
}

// ResolutionOf returns what resolved an incident, and false when nothing
// is recorded.
func (s *Store) ResolutionOf(ctx context.Context, id string) (Resolution, bool, error) {
	r := Resolution{IncidentID: id}
	var eff, ineff string
	var at int64
	err := s.db.QueryRowContext(ctx,
		`SELECT type, root_cause, effective, ineffective, notes, source, recorded_at FROM resolutions WHERE incident_id = ?`, id).
		Scan(&r.Type, &r.RootCause, &eff, &ineff, &r.Notes, &r.Source, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return r, false, nil
	case err != nil:
		return r, false, fmt.Errorf("read resolution of %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(eff), &r.EffectiveActions); err != nil {
		return r, false, fmt.Errorf("decode effective actions of %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(ineff), &r.IneffectiveActions); err != nil {
		return r, false, fmt.Errorf("decode ineffective actions of %s: %w", id, err)
	}
	r.RecordedAt = time.UnixMilli(at).UTC()
	return r, true, nil
}

// recordAutoResolved records the incidents of ids, which resolved by
// themselves, as auto_resolved, unless a resolution is recorded already.
func recordAutoResolved(ctx context.Context, tx *sql.Tx, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO resolutions (incident_id, type, source, recorded_at)
		 SELECT id, ?, ?, ? FROM incidents WHERE id IN (`+placeholders(len(ids))+`)
		 ON CONFLICT (incident_id) DO NOTHING`,
		append([]any{AutoResolved, ResolutionByAuto, now.UnixMilli()}, anys(ids)...)...)
	if err != nil {
		return fmt.Errorf("record auto-resolved incidents: %w", err)
	}
	return nil
}

// nonNil returns v, or an empty slice for nil, so that it encodes as [].
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
