package store

import (
	"context"
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "nested", "dir"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func add(t *testing.T, s *Store, receiver, group string, at time.Time) int64 {
	t.Helper()
	id, err := s.AddNotification(context.Background(), Notification{
		Receiver: receiver, GroupKey: group, ReceivedAt: at, Alerts: 1, Payload: []byte(`{}`),
	})
	require.NoError(t, err)
	return id
}

func dueIDs(t *testing.T, s *Store, now time.Time) []int64 {
	t.Helper()
	ds, err := s.Due(context.Background(), now, 100)
	require.NoError(t, err)
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.NotificationID)
	}
	return ids
}

func TestOutboxOrder(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	a1 := add(t, s, "team", "a", t0)
	a2 := add(t, s, "team", "a", t0)
	b1 := add(t, s, "team", "b", t0)

	ns, err := s.Unprocessed(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, ns, 3)
	ns, err = s.Unprocessed(ctx, a2, 10)
	require.NoError(t, err)
	require.Len(t, ns, 1, "the high-water mark skips what was handed out")

	for _, id := range []int64{a1, a2, b1} {
		require.NoError(t, s.Processed(ctx, id, Outcome{Incident: "inc", Decision: "forwarded", Signature: uint64(id), Enriched: []byte(`{"enriched":true}`)}, []string{"webhook[0]"}, t0))
	}
	ns, err = s.Unprocessed(ctx, 0, 10)
	require.NoError(t, err)
	require.Empty(t, ns)

	require.Equal(t, []int64{a1, b1}, dueIDs(t, s, t0), "a2 waits behind a1 of the same group")

	ds, err := s.Due(ctx, t0, 100)
	require.NoError(t, err)
	b, err := s.Enriched(ctx, ds[0].NotificationID)
	require.NoError(t, err)
	require.Equal(t, []byte(`{"enriched":true}`), b)
	require.NoError(t, s.Retry(ctx, ds[0].ID, "503", t0.Add(time.Minute)))
	require.Equal(t, []int64{b1}, dueIDs(t, s, t0), "a1 is not due yet and still holds a2 back")
	next, ok, err := s.NextDue(ctx, t0)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, t0.Add(time.Minute).Equal(next), "next due %s", next)

	require.Equal(t, []int64{b1, a1}, dueIDs(t, s, t0.Add(time.Minute)))
	require.NoError(t, s.Finish(ctx, ds[0].ID, Delivered, "", t0.Add(time.Minute)))
	require.Equal(t, []int64{a2, b1}, dueIDs(t, s, t0.Add(time.Minute)))

	backlog, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, backlog.Backlog)
	require.True(t, t0.Equal(backlog.Oldest), "oldest %s", backlog.Oldest)
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	old := add(t, s, "team", "a", t0)
	require.NoError(t, s.Processed(ctx, old, Outcome{Incident: "inc"}, []string{"webhook[0]", "slack[0]"}, t0))
	ds, err := s.Due(ctx, t0, 10)
	require.NoError(t, err)
	require.NoError(t, s.Finish(ctx, ds[0].ID, Delivered, "", t0))
	fresh := add(t, s, "team", "a", t0.Add(48*time.Hour))

	sent := add(t, s, "team", "b", t0)
	flapping := AlertState{Status: "firing", StartsAt: t0, Changes: []int64{1, 2, 3}, Flapping: true, Announced: true}
	require.NoError(t, s.Processed(ctx, sent, Outcome{Incident: "inc", States: map[string]AlertState{
		"fp1": {Sent: true, Status: "firing", StartsAt: t0, Changes: []int64{t0.UnixMilli()}},
		"fp3": flapping,
	}}, nil, t0))
	states, err := s.AlertStates(ctx, "team", []string{"fp1", "fp2", "fp3"})
	require.NoError(t, err)
	require.Len(t, states, 2)
	require.True(t, states["fp1"].Sent)
	require.True(t, states["fp3"].Equal(flapping), "%+v", states["fp3"])

	deleted, undelivered, err := s.Prune(ctx, t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(2), deleted)
	require.Equal(t, int64(1), undelivered, "slack[0] was never delivered")
	states, err = s.AlertStates(ctx, "team", []string{"fp1", "fp3"})
	require.NoError(t, err)
	require.Equal(t, []string{"fp3"}, slices.Collect(maps.Keys(states)),
		"states unchanged for the retention are pruned, but for flapping alerts")
	ns, err := s.Unprocessed(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	require.Equal(t, fresh, ns[0].ID)
	require.Empty(t, dueIDs(t, s, t0.Add(72*time.Hour)))
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	_, err = s.AddNotification(ctx, Notification{Receiver: "team", GroupKey: "a", ReceivedAt: t0, Alerts: 3, Payload: []byte(`{"x":1}`)})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ns, err := s.Unprocessed(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	require.Equal(t, Notification{ID: 1, Receiver: "team", GroupKey: "a", ReceivedAt: t0.Local(), Alerts: 3, Payload: []byte(`{"x":1}`)}, ns[0])
}

// A store written by schema version 1 opens with its data.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, File))
	require.NoError(t, err)
	_, err = db.Exec(migrations[0])
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO incidents (id, receiver, group_key, service, title, opened_at) VALUES
		('inc-2026-11-28-0001', 'team', 'g', 'checkout', 'HighErrorRate', ?)`, t0.UnixMilli())
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO notifications (receiver, group_key, received_at, alerts, payload, processed, incident_id, decision)
		VALUES ('team', 'g', ?, 1, '{}', 1, 'inc-2026-11-28-0001', 'forwarded')`, t0.UnixMilli())
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sent_alerts (receiver, fingerprint, sent_at) VALUES ('team', 'fp1', ?)`, t0.UnixMilli())
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA user_version = 1`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	rec, err := s.IncidentByID(ctx, "inc-2026-11-28-0001")
	require.NoError(t, err)
	require.Equal(t, []string{"checkout"}, rec.Services)
	require.Equal(t, "HighErrorRate", rec.Title)
	require.Len(t, rec.Notifications, 1)
	list, err := s.Incidents(ctx, IncidentFilter{Service: "checkout", Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	states, err := s.AlertStates(ctx, "team", []string{"fp1"})
	require.NoError(t, err)
	require.True(t, states["fp1"].Sent, "what was sent is still known")
	var v int
	require.NoError(t, s.db.QueryRow(`PRAGMA user_version`).Scan(&v))
	require.Equal(t, len(migrations), v)
}
