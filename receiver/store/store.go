// Package store is augur's embedded, durable state: the notifications
// received from Alertmanager, the outbox of deliveries to downstream
// integrations, and incidents. It is one SQLite file in WAL mode, through a
// pure-Go driver so that the binary stays static.
//
// Every write that acknowledges something to the outside (a webhook answered
// 200, a delivery marked done) is committed with synchronous=FULL before the
// call returns.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// File is the name of the database file inside the storage directory.
const File = "augur.db"

// migrations take the schema from one version to the next: migrations[i]
// from version i to i+1. The version is kept in SQLite's user_version; a
// change to the schema appends a migration, and never edits one.
var migrations = []string{
	// 1: notifications, the outbox, incidents per alert group, suppressions.
	`
CREATE TABLE notifications (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	receiver    TEXT    NOT NULL,
	group_key   TEXT    NOT NULL,
	received_at INTEGER NOT NULL,
	alerts      INTEGER NOT NULL,
	payload     BLOB    NOT NULL,
	processed   INTEGER NOT NULL DEFAULT 0,
	incident_id TEXT,
	enriched    BLOB,
	signature   INTEGER,
	decision    TEXT
);
CREATE INDEX notifications_group ON notifications (receiver, group_key, decision, id);
CREATE INDEX notifications_unprocessed ON notifications (processed, id);
CREATE INDEX notifications_received_at ON notifications (received_at);
CREATE INDEX notifications_incident ON notifications (incident_id);

CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
	receiver        TEXT    NOT NULL,
	group_key       TEXT    NOT NULL,
	integration     TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	done_at         INTEGER
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_group ON deliveries (receiver, group_key, integration, state, id);
CREATE INDEX deliveries_notification ON deliveries (notification_id);

CREATE TABLE incidents (
	id          TEXT    PRIMARY KEY,
	receiver    TEXT    NOT NULL,
	group_key   TEXT    NOT NULL,
	service     TEXT    NOT NULL DEFAULT '',
	title       TEXT    NOT NULL DEFAULT '',
	opened_at   INTEGER NOT NULL,
	resolved_at INTEGER
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE INDEX incidents_service ON incidents (service, resolved_at);
CREATE INDEX incidents_open ON incidents (receiver, group_key, resolved_at);

CREATE TABLE suppressions (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL,
	matchers   TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	comment    TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

CREATE TABLE sent_alerts (
	receiver    TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	sent_at     INTEGER NOT NULL,
	PRIMARY KEY (receiver, fingerprint)
);`,
	// 2: incidents across alert groups, made of alerts, with a priority
	// and a grace period; per receiver and alert, whether it was sent
	// (was sent_alerts) and its flap history; notifications made by augur
	// (kind) and the material part of their enrichment.
	`
ALTER TABLE incidents ADD COLUMN services TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN names TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN alert_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN firing_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN priority TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN agg_key TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN last_firing_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN quiet_since INTEGER;
UPDATE incidents SET services = json_array(service), names = json_array(title), last_firing_at = opened_at
	WHERE service != '';
UPDATE incidents SET names = json_array(title), last_firing_at = opened_at WHERE service = '';
UPDATE incidents SET quiet_since = resolved_at WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_agg_key ON incidents (agg_key, resolved_at);
CREATE INDEX incidents_quiet ON incidents (resolved_at, quiet_since);

CREATE TABLE incident_alerts (
	incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	fingerprint TEXT    NOT NULL,
	alertname   TEXT    NOT NULL,
	service     TEXT    NOT NULL,
	labels      TEXT    NOT NULL,
	firing      INTEGER NOT NULL,
	starts_at   INTEGER NOT NULL,
	ends_at     INTEGER,
	joined_at   INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	priority    TEXT    NOT NULL,
	PRIMARY KEY (incident_id, fingerprint)
);
CREATE INDEX incident_alerts_fingerprint ON incident_alerts (fingerprint);
CREATE INDEX incident_alerts_service ON incident_alerts (service, firing);

CREATE TABLE receiver_alerts (
	receiver    TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	group_key   TEXT    NOT NULL,
	sent        INTEGER NOT NULL,
	status      TEXT    NOT NULL,
	starts_at   INTEGER NOT NULL,
	changes     TEXT    NOT NULL,
	flapping    INTEGER NOT NULL,
	announced   INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (receiver, fingerprint)
);
CREATE INDEX receiver_alerts_flapping ON receiver_alerts (flapping) WHERE flapping = 1;
INSERT INTO receiver_alerts (receiver, fingerprint, group_key, sent, status, starts_at, changes, flapping, announced, updated_at)
	SELECT receiver, fingerprint, '', 1, '', 0, '[]', 0, 0, sent_at FROM sent_alerts;
DROP TABLE sent_alerts;

CREATE INDEX notifications_group_id ON notifications (receiver, group_key, id);
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN material TEXT NOT NULL DEFAULT '';`,
	// 3: change events (deploys, config and feature-flag changes) that
	// root-cause analysis correlates with anomalies.
	`
CREATE TABLE changes (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	service     TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	at          INTEGER NOT NULL,
	description TEXT    NOT NULL DEFAULT '',
	source      TEXT    NOT NULL DEFAULT '',
	url         TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX changes_service ON changes (service, at);
CREATE INDEX changes_at ON changes (at);`,
	// 4: what resolved an incident, told by a person or recorded when it
	// resolved by itself; incidents' fingerprints, for finding similar
	// ones; results of diagnostic steps that finished after their
	// notification went out.
	`
CREATE TABLE resolutions (
	incident_id TEXT    PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
	type        TEXT    NOT NULL,
	root_cause  TEXT    NOT NULL DEFAULT '',
	effective   TEXT    NOT NULL DEFAULT '[]',
	ineffective TEXT    NOT NULL DEFAULT '[]',
	notes       TEXT    NOT NULL DEFAULT '',
	source      TEXT    NOT NULL,
	recorded_at INTEGER NOT NULL
);

ALTER TABLE incidents ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';

CREATE TABLE diagnostics (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	step        TEXT    NOT NULL,
	ok          INTEGER NOT NULL,
	output      TEXT    NOT NULL,
	error       TEXT    NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX diagnostics_incident ON diagnostics (incident_id, id);`,
}

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
	Skipped   = "skipped"
)

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	db, intakeDB *sql.DB
	// intake gives intake priority over the transactions of processing,
	// delivery and upkeep.
	intake priority
}

// maxYield bounds how long a transaction yields to intake, so that a flood
// of notifications slows their processing down but does not stop it.
const maxYield = 50 * time.Millisecond

// priority lets urgent work (intake) go before work that can wait: the
// latter starts only when no urgent work is waiting or running, or once it
// has waited maxYield.
type priority struct {
	mu     sync.Mutex
	urgent int
	idle   chan struct{} // closed while urgent is 0
}

func newPriority() priority {
	idle := make(chan struct{})
	close(idle)
	return priority{idle: idle}
}

// enter marks urgent work as started; leave, as done.
func (p *priority) enter() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.urgent == 0 {
		p.idle = make(chan struct{})
	}
	p.urgent++
}

func (p *priority) leave() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.urgent--
	if p.urgent == 0 {
		close(p.idle)
	}
}

// yield waits until no urgent work is pending, for at most maxYield.
func (p *priority) yield(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	p.mu.Unlock()
	t := time.NewTimer(maxYield)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
}

// Intake marks a notification as being received, from its first byte to
// its last write: processing yields to it meanwhile (see YieldToIntake).
// done must be called.
func (s *Store) Intake() (done func()) {
	s.intake.enter()
	return s.intake.leave
}

// YieldToIntake waits, for at most maxYield, until no notification is
// being received: background work calls it before each unit of work, so
// that a flood of notifications is stored first and processed after.
func (s *Store) YieldToIntake(ctx context.Context) {
	s.intake.yield(ctx)
}

// begin starts a write transaction, after yielding to intake. done rolls
// it back unless it was committed, and must be called.
func (s *Store) begin(ctx context.Context) (tx *sql.Tx, done func(), err error) {
	s.intake.yield(ctx)
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	return tx, func() {
		_ = tx.Rollback() //nolint:errcheck // a no-op after Commit.
	}, nil
}

// Open opens (creating if needed) the store in directory dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create storage directory: %w", err)
	}
	path := filepath.Join(dir, File)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// SQLite has one writer; a single connection serialises writes without
	// busy retries and keeps reads consistent with the last write.
	db.SetMaxOpenConns(1)
	if err := migrate(db); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", path, err), db.Close())
	}
	// Intake has a connection of its own, so that it never queues behind
	// the many statements of processing for the one above: it waits only
	// for a write transaction in flight (WAL readers do not block it), and
	// no new one starts while it waits (see priority).
	intakeDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	intakeDB.SetMaxOpenConns(1)
	return &Store{db: db, intakeDB: intakeDB, intake: newPriority()}, nil
}

func migrate(db *sql.DB) error {
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this augur knows (%d): run a newer augur or move the store away", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if err := migrateTo(db, v+1); err != nil {
			return err
		}
	}
	return nil
}

// migrateTo applies the migration to version v, with the version, in one
// transaction: a failed migration leaves the store as it was.
func migrateTo(db *sql.DB, v int) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", v, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit.
	if _, err := tx.Exec(migrations[v-1]); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", v, err)
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		return fmt.Errorf("set schema version %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", v, err)
	}
	return nil
}

// Close closes the store.
func (s *Store) Close() error {
	return errors.Join(s.intakeDB.Close(), s.db.Close())
}

// Notification is a webhook notification as stored.
type Notification struct {
	ID         int64
	Receiver   string
	GroupKey   string
	ReceivedAt time.Time
	Alerts     int
	Payload    []byte
	// Kind is "" for a notification from Alertmanager, else what augur made
	// it for (KindSettled).
	Kind string
}

// AddNotification stores a received notification durably and returns its
// id. It goes before the transactions of processing and delivery (see
// priority).
func (s *Store) AddNotification(ctx context.Context, n Notification) (int64, error) {
	s.intake.enter()
	defer s.intake.leave()
	res, err := s.intakeDB.ExecContext(ctx,
		`INSERT INTO notifications (receiver, group_key, received_at, alerts, payload) VALUES (?, ?, ?, ?, ?)`,
		n.Receiver, n.GroupKey, n.ReceivedAt.UnixMilli(), n.Alerts, n.Payload)
	if err != nil {
		return 0, fmt.Errorf("insert notification: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert notification: %w", err)
	}
	return id, nil
}

// Unprocessed returns up to limit notifications with an id above after that
// have not yet been through triage and enrichment, oldest first.
func (s *Store) Unprocessed(ctx context.Context, after int64, limit int) ([]Notification, error) {
	return collect(ctx, s.db, "unprocessed notifications",
		`SELECT id, receiver, group_key, received_at, alerts, payload, kind FROM notifications
		 WHERE processed = 0 AND id > ? ORDER BY id LIMIT ?`, []any{after, limit},
		func(rows *sql.Rows) (Notification, error) {
			var (
				n  Notification
				ms int64
			)
			err := rows.Scan(&n.ID, &n.Receiver, &n.GroupKey, &ms, &n.Alerts, &n.Payload, &n.Kind)
			n.ReceivedAt = time.UnixMilli(ms)
			return n, err
		})
}

// Outcome is what processing decided for a notification.
type Outcome struct {
	// Incident is the incident the notification belongs to.
	Incident string
	// Decision is triage's decision; Signature identifies what the
	// notification says, for comparing it with later ones of its group.
	Decision  string
	Signature uint64
	// Material is what of its enrichment, changed, makes a repeat worth
	// forwarding.
	Material string
	// Enriched is the notification as it is forwarded (or would have been).
	Enriched []byte
	// States are the states of the notification's alerts that changed,
	// by fingerprint.
	States map[string]AlertState
}

// Processed records the outcome of triage and enrichment for a notification
// and queues one delivery per integration, in one transaction.
func (s *Store) Processed(ctx context.Context, id int64, o Outcome, integrations []string, now time.Time) error {
	tx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()

	var receiver, groupKey string
	err = tx.QueryRowContext(ctx,
		`UPDATE notifications SET processed = 1, incident_id = ?, decision = ?, signature = ?, material = ?, enriched = ?
		 WHERE id = ? RETURNING receiver, group_key`,
		o.Incident, o.Decision, int64(o.Signature), o.Material, o.Enriched, id).Scan(&receiver, &groupKey)
	if err != nil {
		return fmt.Errorf("mark notification %d processed: %w", id, err)
	}
	fps := slices.Sorted(maps.Keys(o.States))
	err = execEach(ctx, tx, saveAlertStateSQL, len(fps), func(i int) []any {
		return alertStateArgs(AlertKey{Receiver: receiver, GroupKey: groupKey, Fingerprint: fps[i]}, o.States[fps[i]], now)
	})
	if err != nil {
		return fmt.Errorf("save alert states: %w", err)
	}
	for _, integ := range integrations {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO deliveries (notification_id, receiver, group_key, integration, state, next_attempt_at, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, receiver, groupKey, integ, Pending, now.UnixMilli(), now.UnixMilli()); err != nil {
			return fmt.Errorf("queue delivery of notification %d to %s: %w", id, integ, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit notification %d: %w", id, err)
	}
	return nil
}

// queryer runs queries: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// collect runs query and returns its rows, each read by scan; what names
// them in errors.
func collect[T any](ctx context.Context, q queryer, what, query string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// execEach runs query n times in tx, with the arguments args(i), prepared
// once.
func execEach(ctx context.Context, tx *sql.Tx, query string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}

// Suppression is a temporary suppression made through the API.
type Suppression struct {
	ID        int64
	Name      string
	Matchers  []string
	ExpiresAt time.Time
	Comment   string
	CreatedAt time.Time
}

// AddSuppression stores a suppression and returns its id.
func (s *Store) AddSuppression(ctx context.Context, sup Suppression) (int64, error) {
	m, err := json.Marshal(sup.Matchers)
	if err != nil {
		return 0, fmt.Errorf("encode matchers: %w", err)
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO suppressions (name, matchers, expires_at, comment, created_at) VALUES (?, ?, ?, ?, ?)`,
		sup.Name, string(m), sup.ExpiresAt.UnixMilli(), sup.Comment, sup.CreatedAt.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("insert suppression: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert suppression: %w", err)
	}
	return id, nil
}

// Suppressions returns the suppressions that have not expired at now.
func (s *Store) Suppressions(ctx context.Context, now time.Time) ([]Suppression, error) {
	return collect(ctx, s.db, "suppressions",
		`SELECT id, name, matchers, expires_at, comment, created_at FROM suppressions WHERE expires_at > ? ORDER BY id`,
		[]any{now.UnixMilli()},
		func(rows *sql.Rows) (Suppression, error) {
			var (
				sup              Suppression
				matchers         string
				expires, created int64
			)
			if err := rows.Scan(&sup.ID, &sup.Name, &matchers, &expires, &sup.Comment, &created); err != nil {
				return sup, err
			}
			if err := json.Unmarshal([]byte(matchers), &sup.Matchers); err != nil {
				return sup, fmt.Errorf("decode matchers of suppression %d: %w", sup.ID, err)
			}
			sup.ExpiresAt, sup.CreatedAt = time.UnixMilli(expires), time.UnixMilli(created)
			return sup, nil
		})
}

// DeleteSuppression deletes a suppression, or returns ErrNotFound.
func (s *Store) DeleteSuppression(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM suppressions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete suppression %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete suppression %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("suppression %d: %w", id, ErrNotFound)
	}
	return nil
}

// Decided is an earlier notification of an alert group and what was
// decided for it.
type Decided struct {
	Signature  uint64
	ReceivedAt time.Time
	Incident   string
	Material   string
}

// LastDecided returns the latest processed notification of a receiver's
// alert group that was decided on its own merits (not dropped as one of
// the given decisions), and false if there is none.
func (s *Store) LastDecided(ctx context.Context, receiver, groupKey string, except ...string) (Decided, bool, error) {
	var (
		d   Decided
		sig int64
		ms  int64
	)
	err := s.db.QueryRowContext(ctx,
		`SELECT signature, received_at, incident_id, material FROM notifications
		 WHERE receiver = ? AND group_key = ? AND processed = 1 AND decision NOT IN (`+placeholders(len(except))+`)
		 ORDER BY id DESC LIMIT 1`,
		append([]any{receiver, groupKey}, anys(except)...)...).Scan(&sig, &ms, &d.Incident, &d.Material)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return d, false, nil
	case err != nil:
		return d, false, fmt.Errorf("read last notification of group %q: %w", groupKey, err)
	}
	d.Signature, d.ReceivedAt = uint64(sig), time.UnixMilli(ms)
	return d, true, nil
}

// Delivery is one notification to be sent to one integration of a receiver.
type Delivery struct {
	ID             int64
	NotificationID int64
	Receiver       string
	Integration    string
	Attempts       int
	CreatedAt      time.Time
}

// Due returns up to limit pending deliveries whose next attempt is due. A
// delivery is held back while an older one for the same group and
// integration is still pending, so that a group's notifications arrive in
// order: a resolution never overtakes the firing notification before it.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	return collect(ctx, s.db, "due deliveries",
		`SELECT d.id, d.notification_id, d.receiver, d.integration, d.attempts, d.created_at
		 FROM deliveries d
		 WHERE d.state = ? AND d.next_attempt_at <= ?
		   AND NOT EXISTS (SELECT 1 FROM deliveries o
		                   WHERE o.receiver = d.receiver AND o.group_key = d.group_key
		                     AND o.integration = d.integration AND o.state = ? AND o.id < d.id)
		 ORDER BY d.next_attempt_at, d.id LIMIT ?`,
		[]any{Pending, now.UnixMilli(), Pending, limit},
		func(rows *sql.Rows) (Delivery, error) {
			var (
				d  Delivery
				ms int64
			)
			err := rows.Scan(&d.ID, &d.NotificationID, &d.Receiver, &d.Integration, &d.Attempts, &ms)
			d.CreatedAt = time.UnixMilli(ms)
			return d, err
		})
}

// Enriched returns a processed notification as it is to be forwarded.
func (s *Store) Enriched(ctx context.Context, notificationID int64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT enriched FROM notifications WHERE id = ?`, notificationID).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("read notification %d: %w", notificationID, err)
	}
	return b, nil
}

// NextDue returns when the earliest pending delivery due after the given
// time is due, and false if there is none.
func (s *Store) NextDue(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var ms sql.NullInt64
	err := s.db.QueryRowContext(ctx,
		`SELECT MIN(next_attempt_at) FROM deliveries WHERE state = ? AND next_attempt_at > ?`,
		Pending, after.UnixMilli()).Scan(&ms)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("query next due delivery: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64), true, nil
}

// Finish records the final state of a delivery: Delivered, Failed or Skipped.
func (s *Store) Finish(ctx context.Context, id int64, state, lastErr string, now time.Time) error {
	_, err := s.db.ExecContext(ctx,
		`UPDATE deliveries SET state = ?, last_error = ?, attempts = attempts + 1, done_at = ? WHERE id = ?`,
		state, lastErr, now.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", id, err)
	}
	return nil
}

// Retry records a failed attempt and when to try again.
func (s *Store) Retry(ctx context.Context, id int64, lastErr string, next time.Time) error {
	_, err := s.db.ExecContext(ctx,
		`UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
		lastErr, next.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("reschedule delivery %d: %w", id, err)
	}
	return nil
}

// Stats are the store's gauges.
type Stats struct {
	// Backlog is the work not yet done: notifications waiting for
	// processing plus deliveries pending; Oldest is when the oldest of
	// them was received or queued.
	Backlog int
	Oldest  time.Time
	// OpenIncidents counts the incidents not yet resolved.
	OpenIncidents int
}

// Stats returns the current stats.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var (
		b             Stats
		unprocessed   int
		pending       int
		oldestN, oldD sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx,
		`SELECT (SELECT COUNT(*) FROM notifications WHERE processed = 0),
		        (SELECT MIN(received_at) FROM notifications WHERE processed = 0),
		        (SELECT COUNT(*) FROM deliveries WHERE state = ?),
		        (SELECT MIN(created_at) FROM deliveries WHERE state = ?),
		        (SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL)`, Pending, Pending).
		Scan(&unprocessed, &oldestN, &pending, &oldD, &b.OpenIncidents)
	if err != nil {
		return b, fmt.Errorf("query stats: %w", err)
	}
	b.Backlog = unprocessed + pending
	for _, ms := range []sql.NullInt64{oldestN, oldD} {
		if ms.Valid && (b.Oldest.IsZero() || time.UnixMilli(ms.Int64).Before(b.Oldest)) {
			b.Oldest = time.UnixMilli(ms.Int64)
		}
	}
	return b, nil
}

// Prune deletes notifications received before cutoff, with their
// deliveries, and resolved incidents, expired suppressions and states of
// alerts that are not flapping older than cutoff. It returns how many
// notifications were deleted and how many of their deliveries were still
// pending, so that expiring undelivered work is never silent.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (deleted, undelivered int64, err error) {
	tx, done, err := s.begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	c := cutoff.UnixMilli()
	if err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id
		 WHERE n.received_at < ? AND d.state = ?`, c, Pending).Scan(&undelivered); err != nil {
		return 0, 0, fmt.Errorf("count expiring deliveries: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM deliveries WHERE notification_id IN (SELECT id FROM notifications WHERE received_at < ?)`, c); err != nil {
		return 0, 0, fmt.Errorf("prune deliveries: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE received_at < ?`, c)
	if err != nil {
		return 0, 0, fmt.Errorf("prune notifications: %w", err)
	}
	if deleted, err = res.RowsAffected(); err != nil {
		return 0, 0, fmt.Errorf("prune notifications: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?`, c); err != nil {
		return 0, 0, fmt.Errorf("prune incidents: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE expires_at < ?`, c); err != nil {
		return 0, 0, fmt.Errorf("prune suppressions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE at < ?`, c); err != nil {
		return 0, 0, fmt.Errorf("prune changes: %w", err)
	}
	// An alert unchanged for the retention is forgotten: if it was sent
	// and still fires, its resolution may then be suppressed like any
	// other.
	if _, err := tx.ExecContext(ctx, `DELETE FROM receiver_alerts WHERE updated_at < ? AND flapping = 0`, c); err != nil {
		return 0, 0, fmt.Errorf("prune alert states: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("commit prune: %w", err)
	}
	return deleted, undelivered, nil
}
