package store

import (
	"context"
	"path/filepath"
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
	require.NoError(t, s.Processed(ctx, sent, Outcome{Incident: "inc", Fired: []string{"fp1"}}, nil, t0))
	firing, err := s.FiringSent(ctx, "team", []string{"fp1", "fp2"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"fp1": true}, firing)

	deleted, undelivered, err := s.Prune(ctx, t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(2), deleted)
	require.Equal(t, int64(1), undelivered, "slack[0] was never delivered")
	firing, err = s.FiringSent(ctx, "team", []string{"fp1"})
	require.NoError(t, err)
	require.Empty(t, firing, "records of sent alerts older than the retention are pruned")
	ns, err := s.Unprocessed(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	require.Equal(t, fresh, ns[0].ID)
	require.Empty(t, dueIDs(t, s, t0.Add(72*time.Hour)))
}

func TestIncidentIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	id := func(group string, resolved bool, at time.Time) string {
		t.Helper()
		inc, _, err := s.Incident(ctx, IncidentKey{Receiver: "team", GroupKey: group}, resolved, at)
		require.NoError(t, err)
		return inc
	}
	require.Equal(t, "inc-2026-11-28-0001", id("a", false, t0))
	require.Equal(t, "inc-2026-11-28-0002", id("b", false, t0))
	require.Equal(t, "inc-2026-11-28-0001", id("a", false, t0.Add(time.Hour)), "same open incident")
	require.Equal(t, "inc-2026-11-28-0001", id("a", true, t0.Add(time.Hour)), "the resolving notification still belongs to it")
	require.Equal(t, "inc-2026-11-28-0003", id("a", false, t0.Add(2*time.Hour)), "a new firing opens a new incident")
	require.Equal(t, "inc-2026-11-29-0001", id("c", false, t0.Add(12*time.Hour)), "numbered per UTC day")
	inc, opened, err := s.Incident(ctx, IncidentKey{Receiver: "other", GroupKey: "a", Service: "db", Title: "DiskFull"}, false, t0)
	require.NoError(t, err)
	require.True(t, opened)
	require.Equal(t, "inc-2026-11-28-0004", inc, "groups are per receiver")

	list, err := s.Incidents(ctx, IncidentFilter{State: "open", Limit: 10})
	require.NoError(t, err)
	var ids []string
	for _, i := range list {
		ids = append(ids, i.ID)
	}
	require.Equal(t, []string{"inc-2026-11-29-0001", "inc-2026-11-28-0003", "inc-2026-11-28-0004", "inc-2026-11-28-0002"}, ids, "newest first")
	list, err = s.Incidents(ctx, IncidentFilter{Service: "db", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []IncidentSummary{{Incident: Incident{ID: "inc-2026-11-28-0004", Receiver: "other", GroupKey: "a", Service: "db", Title: "DiskFull", OpenedAt: t0.Local()}}}, list)
	list, err = s.Incidents(ctx, IncidentFilter{State: "resolved", Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "inc-2026-11-28-0001", list[0].ID)
	require.Equal(t, 0, list[0].Notifications)
	stats, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, stats.OpenIncidents)
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
