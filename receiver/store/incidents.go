package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrNotFound is returned for an id that is not in the store.
var ErrNotFound = errors.New("not found")

// IncidentAlert is an alert as its incident records it.
type IncidentAlert struct {
	Fingerprint string
	Name        string // the alertname label
	Service     string
	Labels      map[string]string
	Firing      bool
	StartsAt    time.Time
	EndsAt      time.Time // zero while firing
	// JoinedAt is when the alert joined the incident; UpdatedAt, when a
	// notification last changed its state.
	JoinedAt  time.Time
	UpdatedAt time.Time
	Priority  string
}

// Join asks for the incident that the alerts of one notification belong to.
type Join struct {
	// Receiver and GroupKey name the notification's alert group; a new
	// incident records them as the group that opened it.
	Receiver string
	GroupKey string
	Alerts   []IncidentAlert
	// AggKey is the alerts' values of the triage.aggregation.by labels, ""
	// if there are none: firing alerts join the open incident with the
	// same key.
	AggKey string
	// Services: firing alerts join an open incident with a firing alert on
	// one of these services at or after Since.
	Services []string
	// Adjacent: failing that, firing alerts join an open incident with a
	// firing alert at or after Since on one of these, the services next
	// to theirs in the dependency graph.
	Adjacent []string
	Since    time.Time
	// Grace is how long an incident whose alerts all resolved stays open
	// (see ResolveQuiet); zero resolves it at once.
	Grace time.Duration
	Now   time.Time
}

// Joined is the incident that a notification's alerts joined.
type Joined struct {
	Incident
	// Opened is true if the incident was opened for these alerts.
	Opened bool
	// New lists the alerts that were not part of it before.
	New []IncidentAlert
}

// Incident is an incident's own record.
type Incident struct {
	ID string
	// Receiver and GroupKey are of the alert group that opened it.
	Receiver, GroupKey string
	Title              string
	Services           []string
	// Names are the alert names of its alerts.
	Names []string
	// Fingerprint is its fingerprint as last recorded (JSON), nil before
	// any.
	Fingerprint []byte
	Priority    string
	// Alerts and Firing count its alerts, and those of them firing.
	Alerts, Firing int
	OpenedAt       time.Time
	// QuietSince is when its last firing alert resolved (zero while one
	// fires); ResolvedAt, when it was resolved (zero while open).
	QuietSince time.Time
	ResolvedAt time.Time
}

// State is "open", or "resolved" once all its alerts resolved and the
// grace period passed.
func (i Incident) State() string {
	if i.ResolvedAt.IsZero() {
		return "open"
	}
	return "resolved"
}

// maxTitleItems bounds the services and alert names a title lists.
const maxTitleItems = 5

// Title names an incident by its services and alert names:
// "HighErrorRate", "checkout: HighErrorRate, HighLatency" or
// "Multi-service incident affecting checkout, payment: HighErrorRate".
func Title(services, names []string) string {
	list := func(items []string) string {
		if len(items) > maxTitleItems {
			return strings.Join(items[:maxTitleItems], ", ") + fmt.Sprintf(" and %d more", len(items)-maxTitleItems)
		}
		return strings.Join(items, ", ")
	}
	switch len(services) {
	case 0:
		return list(names)
	case 1:
		return services[0] + ": " + list(names)
	default:
		return "Multi-service incident affecting " + list(services) + ": " + list(names)
	}
}

// incidentColumns are what scanIncident reads, from incidents i.
const incidentColumns = `i.id, i.receiver, i.group_key, i.title, i.services, i.names, i.priority, i.opened_at, i.quiet_since, i.resolved_at,
	i.alert_count, i.firing_count, i.fingerprint`

type scanner interface{ Scan(dest ...any) error }

func scanIncident(row scanner, extra ...any) (Incident, error) {
	var (
		inc              Incident
		services, names  string
		fingerprint      string
		opened           int64
		quiet, resolved  sql.NullInt64
		incidentAndExtra = append([]any{&inc.ID, &inc.Receiver, &inc.GroupKey, &inc.Title, &services, &names, &inc.Priority,
			&opened, &quiet, &resolved, &inc.Alerts, &inc.Firing, &fingerprint}, extra...)
	)
	if err := row.Scan(incidentAndExtra...); err != nil {
		return inc, err
	}
	inc.Services, inc.Names = jsonList(services), jsonList(names)
	if fingerprint != "" {
		inc.Fingerprint = []byte(fingerprint)
	}
	inc.OpenedAt = time.UnixMilli(opened)
	inc.QuietSince = optionalMilli(quiet)
	inc.ResolvedAt = optionalMilli(resolved)
	return inc, nil
}

func optionalMilli(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// onServicesSQL selects the first open incident with a firing alert at
// or after a time (the first argument) on one of n services (the others).
func onServicesSQL(n int) string {
	return `SELECT id FROM incidents
	 WHERE resolved_at IS NULL AND last_firing_at >= ?
	   AND EXISTS (SELECT 1 FROM json_each(incidents.services) WHERE value IN (` + placeholders(n) + `))
	 ORDER BY opened_at LIMIT 1`
}

// JoinIncident finds or opens the incident of a notification's alerts and
// records them on it, in one transaction. The alerts join, in this order:
// the open incident that has one of them already; for firing alerts, the
// open incident with the same aggregation key, or one with a recent firing
// alert on one of the services, or on one adjacent to them; for resolutions only, the latest incident
// that has one of them; else a new incident. Ids read inc-YYYY-MM-DD-NNNN,
// numbered per UTC day.
func (s *Store) JoinIncident(ctx context.Context, j Join) (Joined, error) {
	tx, done, err := s.begin(ctx)
	if err != nil {
		return Joined{}, err
	}
	defer done()

	firing := slices.ContainsFunc(j.Alerts, func(a IncidentAlert) bool { return a.Firing })
	fps := make([]string, len(j.Alerts))
	for i, a := range j.Alerts {
		fps[i] = a.Fingerprint
	}
	// The open incident that has one of the alerts already, and the states
	// it has of them.
	id, known, err := openIncidentOf(ctx, tx, fps)
	if err != nil {
		return Joined{}, err
	}
	candidates := []struct {
		ok    bool
		query string
		args  []any
	}{
		{id == "" && firing && j.AggKey != "",
			`SELECT id FROM incidents WHERE resolved_at IS NULL AND agg_key = ? ORDER BY opened_at LIMIT 1`,
			[]any{j.AggKey}},
		{id == "" && firing && len(j.Services) > 0, onServicesSQL(len(j.Services)), append([]any{j.Since.UnixMilli()}, anys(j.Services)...)},
		{id == "" && firing && len(j.Adjacent) > 0, onServicesSQL(len(j.Adjacent)), append([]any{j.Since.UnixMilli()}, anys(j.Adjacent)...)},
		{id == "" && !firing,
			`SELECT i.id FROM incident_alerts a JOIN incidents i ON i.id = a.incident_id
			 WHERE a.fingerprint IN (` + placeholders(len(fps)) + `) ORDER BY i.opened_at DESC LIMIT 1`,
			anys(fps)},
	}
	for _, c := range candidates {
		if !c.ok {
			continue
		}
		err := tx.QueryRowContext(ctx, c.query, c.args...).Scan(&id)
		if err == nil {
			if known, err = incidentAlertStates(ctx, tx, id, fps); err != nil {
				return Joined{}, err
			}
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Joined{}, fmt.Errorf("find incident: %w", err)
		}
	}

	var out Joined
	if id == "" {
		if id, err = openIncident(ctx, tx, j); err != nil {
			return Joined{}, err
		}
		out.Opened = true
	}

	upsert, err := tx.PrepareContext(ctx, upsertAlertSQL)
	if err != nil {
		return Joined{}, fmt.Errorf("prepare: %w", err)
	}
	defer upsert.Close()
	var d incidentDelta
	for _, a := range j.Alerts {
		prev, ok := known[a.Fingerprint]
		switch {
		case !ok:
			out.New = append(out.New, a)
			d.alerts++
			d.names = append(d.names, a.Name)
			d.services = append(d.services, a.Service)
		case prev.same(a):
			// Nothing to record: a repeat, or the same alert in another
			// group's notification.
			continue
		case prev.firing:
			d.firing--
		}
		if a.Firing {
			d.firing++
		}
		if a.Priority != "" && (d.priority == "" || a.Priority < d.priority) {
			d.priority = a.Priority
		}
		if err := upsertAlert(ctx, upsert, id, a, j.Now); err != nil {
			return Joined{}, err
		}
	}
	if err := updateIncident(ctx, tx, id, d, firing, j.Grace, j.Now); err != nil {
		return Joined{}, err
	}
	if out.Incident, err = scanIncident(tx.QueryRowContext(ctx,
		`SELECT `+incidentColumns+` FROM incidents i WHERE i.id = ?`, id)); err != nil {
		return Joined{}, fmt.Errorf("read incident %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Joined{}, fmt.Errorf("commit incident %s: %w", id, err)
	}
	return out, nil
}

func openIncident(ctx context.Context, tx *sql.Tx, j Join) (string, error) {
	prefix := "inc-" + j.Now.UTC().Format("2006-01-02") + "-"
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx,
		`SELECT MAX(CAST(substr(id, ?) AS INTEGER)) FROM incidents WHERE id LIKE ?`,
		len(prefix)+1, prefix+"%").Scan(&last); err != nil {
		return "", fmt.Errorf("number incident: %w", err)
	}
	id := prefix + fmt.Sprintf("%04d", last.Int64+1)
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO incidents (id, receiver, group_key, agg_key, opened_at, last_firing_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, j.Receiver, j.GroupKey, j.AggKey, j.Now.UnixMilli(), j.Now.UnixMilli()); err != nil {
		return "", fmt.Errorf("open incident: %w", err)
	}
	return id, nil
}

const upsertAlertSQL = `INSERT INTO incident_alerts (incident_id, fingerprint, alertname, service, labels, firing, starts_at, ends_at, joined_at, updated_at, priority)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (incident_id, fingerprint) DO UPDATE SET
	  firing = excluded.firing, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
	  updated_at = excluded.updated_at,
	  priority = CASE WHEN excluded.priority = '' THEN priority ELSE excluded.priority END`

func upsertAlert(ctx context.Context, stmt *sql.Stmt, id string, a IncidentAlert, now time.Time) error {
	labels, err := json.Marshal(a.Labels)
	if err != nil {
		return fmt.Errorf("encode labels of alert %s: %w", a.Fingerprint, err)
	}
	var ends sql.NullInt64
	if !a.EndsAt.IsZero() {
		ends = sql.NullInt64{Int64: a.EndsAt.UnixMilli(), Valid: true}
	}
	_, err = stmt.ExecContext(ctx, id, a.Fingerprint, a.Name, a.Service, string(labels), a.Firing, a.StartsAt.UnixMilli(), ends,
		now.UnixMilli(), now.UnixMilli(), a.Priority)
	if err != nil {
		return fmt.Errorf("record alert %s on incident %s: %w", a.Fingerprint, id, err)
	}
	return nil
}

// alertState is what an incident records of an alert's state.
type alertState struct {
	firing   bool
	starts   int64
	ends     sql.NullInt64
	priority string
}

// same reports whether a says nothing new of the alert.
func (st alertState) same(a IncidentAlert) bool {
	var ends sql.NullInt64
	if !a.EndsAt.IsZero() {
		ends = sql.NullInt64{Int64: a.EndsAt.UnixMilli(), Valid: true}
	}
	return st.firing == a.Firing && st.starts == a.StartsAt.UnixMilli() && st.ends == ends &&
		(a.Priority == "" || a.Priority == st.priority)
}

// incidentAlertStates returns the states of the given alerts that the
// incident has, by fingerprint.
func incidentAlertStates(ctx context.Context, tx *sql.Tx, id string, fps []string) (map[string]alertState, error) {
	_, states, err := alertStates(ctx, tx, `a.incident_id = ?`, id, fps)
	return states, err
}

// openIncidentOf returns the oldest open incident that has one of the
// given alerts, and the states it has of them; "" if there is none.
func openIncidentOf(ctx context.Context, tx *sql.Tx, fps []string) (string, map[string]alertState, error) {
	return alertStates(ctx, tx, `i.resolved_at IS NULL`, nil, fps)
}

// alertStates reads the given alerts of the incidents that match where
// (with its argument, if not nil), and returns the oldest such incident
// and the states it has of them.
func alertStates(ctx context.Context, tx *sql.Tx, where string, arg any, fps []string) (string, map[string]alertState, error) {
	args := anys(fps)
	if arg != nil {
		args = append(args, arg)
	}
	type row struct {
		incident, fp string
		opened       int64
		st           alertState
	}
	rows, err := collect(ctx, tx, "alerts of incidents",
		`SELECT a.incident_id, i.opened_at, a.fingerprint, a.firing, a.starts_at, a.ends_at, a.priority
		 FROM incident_alerts a JOIN incidents i ON i.id = a.incident_id
		 WHERE a.fingerprint IN (`+placeholders(len(fps))+`) AND `+where, args,
		func(rows *sql.Rows) (r row, err error) {
			return r, rows.Scan(&r.incident, &r.opened, &r.fp, &r.st.firing, &r.st.starts, &r.st.ends, &r.st.priority)
		})
	if err != nil {
		return "", nil, err
	}
	var (
		id     string
		oldest int64
		byID   = map[string]map[string]alertState{}
	)
	for _, r := range rows {
		if byID[r.incident] == nil {
			byID[r.incident] = map[string]alertState{}
		}
		byID[r.incident][r.fp] = r.st
		if id == "" || r.opened < oldest || (r.opened == oldest && r.incident < id) {
			id, oldest = r.incident, r.opened
		}
	}
	if byID[id] == nil {
		return id, map[string]alertState{}, nil
	}
	return id, byID[id], nil
}

// incidentDelta is what a notification's alerts change of their incident:
// alerts and firing alerts added (firing may be negative), the names and
// services of new alerts, and their highest priority.
type incidentDelta struct {
	alerts, firing  int
	names, services []string
	priority        string
}

// updateIncident applies a delta to an incident: its counts, title,
// services, priority and quiet time. Alerts never leave an incident, so its
// names and services only grow, and its priority is the highest any of its
// alerts had.
func updateIncident(ctx context.Context, tx *sql.Tx, id string, d incidentDelta, firing bool, grace time.Duration, now time.Time) error {
	var (
		namesJSON, servicesJSON, priority string
		names, services                   []string
		firingCount                       int
	)
	err := tx.QueryRowContext(ctx, `SELECT names, services, priority, firing_count FROM incidents WHERE id = ?`, id).
		Scan(&namesJSON, &servicesJSON, &priority, &firingCount)
	if err != nil {
		return fmt.Errorf("read incident %s: %w", id, err)
	}
	names, services = jsonList(namesJSON), jsonList(servicesJSON)
	for _, n := range d.names {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, svc := range d.services {
		if svc != "" && !slices.Contains(services, svc) {
			services = append(services, svc)
		}
	}
	slices.Sort(names)
	slices.Sort(services)
	if d.priority != "" && (priority == "" || d.priority < priority) {
		priority = d.priority // "P1" < "P2" < ...
	}
	anyFiring := firingCount+d.firing > 0
	nb, err := json.Marshal(names)
	if err != nil {
		return fmt.Errorf("encode incident %s: %w", id, err)
	}
	sb, err := json.Marshal(services)
	if err != nil {
		return fmt.Errorf("encode incident %s: %w", id, err)
	}
	ms := now.UnixMilli()
	_, err = tx.ExecContext(ctx,
		`UPDATE incidents SET title = ?, names = ?, services = ?, service = ?, priority = ?,
		   alert_count = alert_count + ?, firing_count = firing_count + ?,
		   last_firing_at = CASE WHEN ? THEN ? ELSE last_firing_at END,
		   quiet_since = CASE WHEN ? THEN NULL ELSE COALESCE(quiet_since, ?) END,
		   resolved_at = CASE WHEN NOT ? AND ? AND resolved_at IS NULL THEN ? ELSE resolved_at END
		 WHERE id = ?`,
		Title(services, names), string(nb), string(sb), singleOrEmpty(services), priority,
		d.alerts, d.firing,
		firing, ms,
		anyFiring, ms,
		anyFiring, grace == 0, ms,
		id)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", id, err)
	}
	return nil
}

// jsonList decodes a JSON list of strings as stored, "" being empty.
func jsonList(s string) []string {
	var out []string
	if s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return []string{s}
		}
	}
	return out
}

func singleOrEmpty(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return ""
}

// ResolveQuiet resolves the open incidents whose alerts all resolved at
// least grace ago, as of the end of their grace period, and returns their
// ids. An incident with a flapping alert stays open: it is not over while
// the alert keeps coming back.
func (s *Store) ResolveQuiet(ctx context.Context, grace time.Duration, now time.Time) ([]string, error) {
	tx, done, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	ids, err := collect(ctx, tx, "quiet incidents",
		`UPDATE incidents SET resolved_at = quiet_since + ?
		 WHERE resolved_at IS NULL AND quiet_since IS NOT NULL AND quiet_since <= ?
		   AND NOT EXISTS (SELECT 1 FROM incident_alerts a JOIN receiver_alerts f ON f.fingerprint = a.fingerprint
		                   WHERE a.incident_id = incidents.id AND f.flapping = 1)
		 RETURNING id`,
		[]any{grace.Milliseconds(), now.Add(-grace).UnixMilli()},
		func(rows *sql.Rows) (id string, err error) { return id, rows.Scan(&id) })
	if err != nil {
		return nil, err
	}
	if err := recordAutoResolved(ctx, tx, ids, now); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit resolved incidents: %w", err)
	}
	return ids, nil
}

// FiringOnServices counts, per service, the firing alerts on the given
// services but for the given ones, up to limit: enough to know whether
// at least limit agree. A firing alert is always on an open incident.
func (s *Store) FiringOnServices(ctx context.Context, services, except []string, limit int) (map[string]int, error) {
	out := map[string]int{}
	if len(services) == 0 {
		return out, nil
	}
	// The excepted alerts recorded firing, by service, are counted and
	// taken off, rather than excluded from every count.
	firing, err := collect(ctx, s.db, "services of firing alerts",
		`SELECT service FROM incident_alerts WHERE firing = 1 AND fingerprint IN (`+placeholders(len(except))+`)`, anys(except),
		func(rows *sql.Rows) (svc string, err error) { return svc, rows.Scan(&svc) })
	if err != nil {
		return nil, err
	}
	excepted := map[string]int{}
	for _, svc := range firing {
		excepted[svc]++
	}
	stmt, err := s.db.PrepareContext(ctx,
		`SELECT COUNT(*) FROM (SELECT 1 FROM incident_alerts WHERE service = ? AND firing = 1 LIMIT ?)`)
	if err != nil {
		return nil, fmt.Errorf("count firing alerts by service: %w", err)
	}
	defer stmt.Close()
	for _, svc := range services {
		var n int
		if err := stmt.QueryRowContext(ctx, svc, limit+excepted[svc]).Scan(&n); err != nil {
			return nil, fmt.Errorf("count firing alerts of %q: %w", svc, err)
		}
		out[svc] = max(n-excepted[svc], 0)
	}
	return out, nil
}

// IncidentFilter selects incidents to list.
type IncidentFilter struct {
	// State is "open", "resolved" or "" for both.
	State   string
	Service string
	Limit   int
}

// IncidentSummary is an incident as listed.
type IncidentSummary struct {
	Incident
	Notifications int
}

// Incidents lists incidents, newest first.
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]IncidentSummary, error) {
	q := `SELECT ` + incidentColumns + `, (SELECT COUNT(*) FROM notifications n WHERE n.incident_id = i.id)
	      FROM incidents i WHERE 1 = 1`
	var args []any
	switch f.State {
	case "open":
		q += ` AND i.resolved_at IS NULL`
	case "resolved":
		q += ` AND i.resolved_at IS NOT NULL`
	}
	if f.Service != "" {
		q += ` AND (i.service = ? OR EXISTS (SELECT 1 FROM incident_alerts a WHERE a.incident_id = i.id AND a.service = ?))`
		args = append(args, f.Service, f.Service)
	}
	q += ` ORDER BY i.opened_at DESC, i.id DESC LIMIT ?`
	args = append(args, f.Limit)
	out, err := collect(ctx, s.db, "incidents", q, args, func(rows *sql.Rows) (sum IncidentSummary, err error) {
		sum.Incident, err = scanIncident(rows, &sum.Notifications)
		return sum, err
	})
	if out == nil && err == nil {
		out = []IncidentSummary{}
	}
	return out, err
}

// IncidentRecord is an incident with its alerts and the notifications that
// belong to it, oldest first.
type IncidentRecord struct {
	Incident
	AlertList     []IncidentAlert
	Notifications []NotificationRecord
	// Diagnostics are the diagnostic results that came after their
	// notification.
	Diagnostics []Diagnostic
}

// NotificationRecord is a processed notification and its deliveries.
type NotificationRecord struct {
	ID         int64
	ReceivedAt time.Time
	Decision   string
	Enriched   []byte
	Deliveries []DeliveryRecord
}

// DeliveryRecord is the state of one delivery.
type DeliveryRecord struct {
	Integration string
	State       string
	Attempts    int
	LastError   string
	DoneAt      time.Time // zero while pending
}

// IncidentByID returns an incident with its alerts, notifications and
// deliveries, or ErrNotFound.
func (s *Store) IncidentByID(ctx context.Context, id string) (IncidentRecord, error) {
	var (
		rec IncidentRecord
		err error
	)
	rec.Incident, err = scanIncident(s.db.QueryRowContext(ctx,
		`SELECT `+incidentColumns+` FROM incidents i WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("incident %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("read incident %q: %w", id, err)
	}
	if rec.AlertList, err = s.incidentAlerts(ctx, id); err != nil {
		return rec, err
	}
	if rec.Notifications, err = s.incidentNotifications(ctx, id); err != nil {
		return rec, err
	}
	if rec.Diagnostics, err = s.Diagnostics(ctx, id); err != nil {
		return rec, err
	}
	return rec, nil
}

func (s *Store) incidentAlerts(ctx context.Context, id string) ([]IncidentAlert, error) {
	return collect(ctx, s.db, "alerts of incident "+id,
		`SELECT fingerprint, alertname, service, labels, firing, starts_at, ends_at, joined_at, updated_at, priority
		 FROM incident_alerts WHERE incident_id = ? ORDER BY joined_at, starts_at, fingerprint`, []any{id},
		func(rows *sql.Rows) (IncidentAlert, error) {
			var (
				a                      IncidentAlert
				labels                 string
				starts, joined, update int64
				ends                   sql.NullInt64
			)
			if err := rows.Scan(&a.Fingerprint, &a.Name, &a.Service, &labels, &a.Firing, &starts, &ends, &joined, &update, &a.Priority); err != nil {
				return a, err
			}
			if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
				return a, fmt.Errorf("decode labels of alert %s: %w", a.Fingerprint, err)
			}
			a.StartsAt, a.EndsAt = time.UnixMilli(starts), optionalMilli(ends)
			a.JoinedAt, a.UpdatedAt = time.UnixMilli(joined), time.UnixMilli(update)
			return a, nil
		})
}

func (s *Store) incidentNotifications(ctx context.Context, id string) ([]NotificationRecord, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT n.id, n.received_at, n.decision, n.enriched, d.integration, d.state, d.attempts, d.last_error, d.done_at
		 FROM notifications n LEFT JOIN deliveries d ON d.notification_id = n.id
		 WHERE n.incident_id = ? ORDER BY n.id, d.id`, id)
	if err != nil {
		return nil, fmt.Errorf("read notifications of incident %q: %w", id, err)
	}
	defer rows.Close()
	var out []NotificationRecord
	for rows.Next() {
		var (
			nid, received int64
			decision      sql.NullString
			enriched      []byte
			integ, state  sql.NullString
			attempts      sql.NullInt64
			lastErr       sql.NullString
			done          sql.NullInt64
		)
		if err := rows.Scan(&nid, &received, &decision, &enriched, &integ, &state, &attempts, &lastErr, &done); err != nil {
			return nil, fmt.Errorf("scan notification of incident %q: %w", id, err)
		}
		if n := len(out); n == 0 || out[n-1].ID != nid {
			out = append(out, NotificationRecord{ID: nid, ReceivedAt: time.UnixMilli(received), Decision: decision.String, Enriched: enriched})
		}
		if !integ.Valid {
			continue
		}
		last := &out[len(out)-1]
		last.Deliveries = append(last.Deliveries, DeliveryRecord{
			Integration: integ.String, State: state.String, Attempts: int(attempts.Int64),
			LastError: lastErr.String, DoneAt: optionalMilli(done),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notifications of incident %q: %w", id, err)
	}
	return out, nil
}
