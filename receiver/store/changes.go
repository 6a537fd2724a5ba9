package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Change is a change event: a deploy, a config or feature-flag change, a
// scaling action. Root-cause analysis correlates changes with the onset
// of an anomaly.
type Change struct {
	ID          int64
	Service     string
	Type        string
	At          time.Time
	Description string
	Source      string
	URL         string
	CreatedAt   time.Time
}

// ChangeFilter selects changes: of any of Services (all when empty),
// at or after Since and before Until (unbounded when zero), the latest
// Limit of them (all when 0).
type ChangeFilter struct {
	Services     []string
	Since, Until time.Time
	Limit        int
}

// AddChange stores a change event and returns its id.
func (s *Store) AddChange(ctx context.Context, c Change) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO changes (service, type, at, description, source, url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Service, c.Type, c.At.UnixMilli(), c.Description, c.Source, c.URL, c.CreatedAt.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("insert change: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert change: %w", err)
	}
	return id, nil
}

// Changes returns the changes the filter selects, newest first.
func (s *Store) Changes(ctx context.Context, f ChangeFilter) ([]Change, error) {
	var (
		where []string
		args  []any
	)
	if len(f.Services) > 0 {
		where = append(where, "service IN ("+placeholders(len(f.Services))+")")
		args = append(args, anys(f.Services)...)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.Until.UnixMilli())
	}
	q := `SELECT id, service, type, at, description, source, url, created_at FROM changes`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return collect(ctx, s.db, "changes", q, args, func(rows *sql.Rows) (Change, error) {
		var (
			c           Change
			at, created int64
		)
		if err := rows.Scan(&c.ID, &c.Service, &c.Type, &at, &c.Description, &c.Source, &c.URL, &created); err != nil {
			return c, err
		}
		c.At, c.CreatedAt = time.UnixMilli(at), time.UnixMilli(created)
		return c, nil
	})
}
