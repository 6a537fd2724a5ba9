package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// SetFingerprint records an incident's fingerprint (the history
// enricher's JSON), replacing the one before.
func (s *Store) SetFingerprint(ctx context.Context, id string, fingerprint []byte) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE incidents SET fingerprint = ? WHERE id = ?`, string(fingerprint), id); err != nil {
		return fmt.Errorf("record fingerprint of %s: %w", id, err)
	}
	return nil
}

// PastIncident is a resolved incident with a fingerprint, and what
// resolved it.
type PastIncident struct {
	ID          string
	Fingerprint []byte
	OpenedAt    time.Time
	ResolvedAt  time.Time
	Resolution  Resolution
	// Changed is when it resolved or its resolution was last recorded,
	// whichever is later.
	Changed time.Time
}

// ResolvedSince returns the resolved incidents with a fingerprint that
// resolved, or whose resolution was recorded, at or after since, oldest
// change first.
func (s *Store) ResolvedSince(ctx context.Context, since time.Time) ([]PastIncident, error) {
	return collect(ctx, s.db, "resolved incidents",
		`SELECT i.id, i.fingerprint, i.opened_at, i.resolved_at,
		        COALESCE(r.type, ''), COALESCE(r.effective, '[]'), COALESCE(r.ineffective, '[]'),
		        MAX(i.resolved_at, COALESCE(r.recorded_at, 0)) AS changed
		 FROM incidents i LEFT JOIN resolutions r ON r.incident_id = i.id
		 WHERE i.resolved_at IS NOT NULL AND i.fingerprint != ''
		   AND (i.resolved_at >= ? OR r.recorded_at >= ?)
		 ORDER BY changed, i.id`,
		[]any{since.UnixMilli(), since.UnixMilli()},
		func(rows *sql.Rows) (PastIncident, error) {
			var (
				p                         PastIncident
				fp, eff, ineff            string
				opened, resolved, changed int64
			)
			if err := rows.Scan(&p.ID, &fp, &opened, &resolved, &p.Resolution.Type, &eff, &ineff, &changed); err != nil {
				return p, err
			}
			if err := json.Unmarshal([]byte(eff), &p.Resolution.EffectiveActions); err != nil {
				return p, fmt.Errorf("decode effective actions of %s: %w", p.ID, err)
			}
			if err := json.Unmarshal([]byte(ineff), &p.Resolution.IneffectiveActions); err != nil {
				return p, fmt.Errorf("decode ineffective actions of %s: %w", p.ID, err)
			}
			p.Fingerprint, p.Resolution.IncidentID = []byte(fp), p.ID
			p.OpenedAt, p.ResolvedAt, p.Changed = time.UnixMilli(opened), time.UnixMilli(resolved), time.UnixMilli(changed)
			return p, nil
		})
}

// Diagnostic is a diagnostic step's result recorded on an incident.
type Diagnostic struct {
	Step, Output, Error string
	OK                  bool
	At                  time.Time
}

// AddDiagnostics records diagnostic results on an incident.
func (s *Store) AddDiagnostics(ctx context.Context, id string, ds []Diagnostic) error {
	tx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	err = execEach(ctx, tx,
		`INSERT INTO diagnostics (incident_id, step, ok, output, error, at) SELECT id, ?, ?, ?, ?, ? FROM incidents WHERE id = ?`,
		len(ds), func(i int) []any {
			d := ds[i]
			return []any{d.Step, d.OK, d.Output, d.Error, d.At.UnixMilli(), id}
		})
	if err != nil {
		return fmt.Errorf("record diagnostics of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record diagnostics of %s: %w", id, err)
	}
	return nil
}

// Diagnostics returns the diagnostic results recorded on an incident, in
// the order they came.
func (s *Store) Diagnostics(ctx context.Context, id string) ([]Diagnostic, error) {
	return collect(ctx, s.db, "diagnostics",
		`SELECT step, ok, output, error, at FROM diagnostics WHERE incident_id = ? ORDER BY id`, []any{id},
		func(rows *sql.Rows) (Diagnostic, error) {
			var d Diagnostic
			var at int64
			err := rows.Scan(&d.Step, &d.OK, &d.Output, &d.Error, &at)
			d.At = time.UnixMilli(at)
			return d, err
		})
}
