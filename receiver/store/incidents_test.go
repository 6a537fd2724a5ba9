package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func firingAlert(fp, name, service, priority string) IncidentAlert {
	return IncidentAlert{Fingerprint: fp, Name: name, Service: service, Labels: map[string]string{"alertname": name},
		Firing: true, StartsAt: t0, Priority: priority}
}

func resolvedAlert(fp, name, service string, at time.Time) IncidentAlert {
	a := firingAlert(fp, name, service, "")
	a.Firing, a.EndsAt = false, at
	return a
}

func TestJoinIncident(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	const window, grace = 15 * time.Minute, 5 * time.Minute
	join := func(group string, at time.Time, aggKey string, alerts ...IncidentAlert) Joined {
		t.Helper()
		j := Join{Receiver: "team", GroupKey: group, Alerts: alerts, AggKey: aggKey, Since: at.Add(-window), Grace: grace, Now: at}
		for _, a := range alerts {
			if a.Firing && a.Service != "" {
				j.Services = append(j.Services, a.Service)
			}
		}
		got, err := s.JoinIncident(ctx, j)
		require.NoError(t, err)
		return got
	}
	min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

	a := join("errors", min(0), "", firingAlert("a1", "HighErrorRate", "checkout", "P2"))
	require.True(t, a.Opened)
	require.Equal(t, "inc-2026-11-28-0001", a.ID)
	require.Equal(t, "checkout: HighErrorRate", a.Title)

	b := join("disk", min(1), "", firingAlert("b1", "DiskFull", "db", "P3"))
	require.Equal(t, "inc-2026-11-28-0002", b.ID, "another service: another incident")

	// The same group again, with a new alert.
	a = join("errors", min(5), "", firingAlert("a1", "HighErrorRate", "checkout", "P2"), firingAlert("a2", "HighErrorRate", "checkout", "P2"))
	require.False(t, a.Opened)
	require.Equal(t, "inc-2026-11-28-0001", a.ID)
	require.Len(t, a.New, 1)
	require.Equal(t, "a2", a.New[0].Fingerprint)
	require.Equal(t, 2, a.Alerts)

	// Another group on the same service within the window joins, and its
	// priority is the incident's now.
	c := join("latency", min(10), "", firingAlert("c1", "HighLatency", "checkout", "P1"))
	require.Equal(t, "inc-2026-11-28-0001", c.ID)
	require.Equal(t, "P1", c.Priority)
	require.Equal(t, "checkout: HighErrorRate, HighLatency", c.Title)

	// The aggregation key joins services.
	e := join("pay", min(11), "cluster=eu", firingAlert("e1", "HighErrorRate", "payment", "P2"))
	require.Equal(t, "inc-2026-11-28-0003", e.ID)
	f := join("front", min(12), "cluster=eu", firingAlert("f1", "HighErrorRate", "frontend", "P3"))
	require.Equal(t, "inc-2026-11-28-0003", f.ID)
	require.Equal(t, "Multi-service incident affecting frontend, payment: HighErrorRate", f.Title)
	require.Equal(t, []string{"frontend", "payment"}, f.Services)

	// The last firing on checkout was at min(10): past the window, a new
	// alert there opens a new incident.
	d := join("cpu", min(26), "", firingAlert("d1", "HighCPU", "checkout", "P3"))
	require.Equal(t, "inc-2026-11-28-0004", d.ID)

	// All of db's alerts resolved: the incident stays open for the grace
	// period, then resolves as of its end.
	b = join("disk", min(30), "", resolvedAlert("b1", "DiskFull", "db", min(29)))
	require.Equal(t, "inc-2026-11-28-0002", b.ID)
	require.Equal(t, "open", b.State())
	require.Equal(t, min(30), b.QuietSince.UTC())
	ids, err := s.ResolveQuiet(ctx, grace, min(34))
	require.NoError(t, err)
	require.Empty(t, ids)
	ids, err = s.ResolveQuiet(ctx, grace, min(35))
	require.NoError(t, err)
	require.Equal(t, []string{"inc-2026-11-28-0002"}, ids)
	rec, err := s.IncidentByID(ctx, "inc-2026-11-28-0002")
	require.NoError(t, err)
	require.Equal(t, min(35), rec.ResolvedAt.UTC())
	// It resolved by itself: recorded as auto_resolved, until someone
	// says what resolved it.
	res, ok, err := s.ResolutionOf(ctx, "inc-2026-11-28-0002")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, Resolution{IncidentID: "inc-2026-11-28-0002", Type: AutoResolved, EffectiveActions: []string{}, IneffectiveActions: []string{},
		Source: ResolutionByAuto, RecordedAt: min(35)}, res)
	told := Resolution{IncidentID: "inc-2026-11-28-0002", Type: "rollback", RootCause: "bad disk quota in v2",
		EffectiveActions: []string{"rollback to v1"}, IneffectiveActions: []string{"restart"}, Notes: "n", Source: ResolutionByAPI, RecordedAt: min(50)}
	require.NoError(t, s.SetResolution(ctx, told))
	res, ok, err = s.ResolutionOf(ctx, "inc-2026-11-28-0002")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, told, res)
	require.ErrorIs(t, s.SetResolution(ctx, Resolution{IncidentID: "inc-nope", Type: "rollback"}), ErrNotFound)
	_, ok, err = s.ResolutionOf(ctx, "inc-nope")
	require.NoError(t, err)
	require.False(t, ok)

	// A problem that comes back within the grace period is the same
	// incident.
	join("front", min(40), "", resolvedAlert("f1", "HighErrorRate", "frontend", min(40)))
	join("pay", min(40), "", resolvedAlert("e1", "HighErrorRate", "payment", min(40)))
	e = join("pay", min(42), "cluster=eu", firingAlert("e1", "HighErrorRate", "payment", "P2"))
	require.Equal(t, "inc-2026-11-28-0003", e.ID)
	require.True(t, e.QuietSince.IsZero())

	// A late resolution of an alert of a resolved incident is recorded on
	// it; a new firing opens a new one.
	b = join("disk", min(50), "", resolvedAlert("b1", "DiskFull", "db", min(29)))
	require.Equal(t, "inc-2026-11-28-0002", b.ID)
	require.Equal(t, "resolved", b.State())
	b = join("disk", min(51), "", firingAlert("b1", "DiskFull", "db", "P3"))
	require.Equal(t, "inc-2026-11-28-0005", b.ID)

	// Numbered per UTC day.
	g := join("other", t0.Add(12*time.Hour), "", firingAlert("g1", "X", "", ""))
	require.Equal(t, "inc-2026-11-29-0001", g.ID)
	require.Equal(t, "X", g.Title)

	open, err := s.Incidents(ctx, IncidentFilter{State: "open", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"inc-2026-11-29-0001", "inc-2026-11-28-0005", "inc-2026-11-28-0004", "inc-2026-11-28-0003", "inc-2026-11-28-0001"},
		summaryIDs(open), "newest first")
	byService, err := s.Incidents(ctx, IncidentFilter{Service: "payment", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"inc-2026-11-28-0003"}, summaryIDs(byService))

	n, err := s.FiringOnServices(ctx, []string{"checkout", "payment", "db"}, []string{"a1"}, 3)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"checkout": 3, "payment": 1, "db": 1}, n, "checkout: a2, c1 and d1")
	n, err = s.FiringOnServices(ctx, []string{"checkout"}, nil, 2)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"checkout": 2}, n, "counted up to the limit")
}

func summaryIDs(list []IncidentSummary) []string {
	var ids []string
	for _, i := range list {
		ids = append(ids, i.ID)
	}
	return ids
}

// With no grace period, an incident resolves with its last alert.
func TestJoinIncidentWithoutGrace(t *testing.T) {
	s := open(t)
	j := Join{Receiver: "team", GroupKey: "g", Alerts: []IncidentAlert{firingAlert("a1", "X", "svc", "P1")}, Now: t0}
	got, err := s.JoinIncident(context.Background(), j)
	require.NoError(t, err)
	require.Equal(t, "open", got.State())
	j.Alerts, j.Now = []IncidentAlert{resolvedAlert("a1", "X", "svc", t0.Add(time.Minute))}, t0.Add(2*time.Minute)
	got, err = s.JoinIncident(context.Background(), j)
	require.NoError(t, err)
	require.Equal(t, "resolved", got.State())
	require.Equal(t, t0.Add(2*time.Minute), got.ResolvedAt.UTC())
}

func TestTitle(t *testing.T) {
	require.Equal(t, "A, B", Title(nil, []string{"A", "B"}))
	require.Equal(t, "s1, s2, s3, s4, s5 and 2 more: A", Title([]string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"}, []string{"A"})[len("Multi-service incident affecting "):])
}
