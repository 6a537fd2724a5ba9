package receiver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

var past = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return past.Add(time.Duration(n) * time.Minute) }

func enrichmentOf(t *testing.T, rec store.NotificationRecord, alert int) enrich.Enrichment {
	t.Helper()
	msg, err := enrichedMessage(rec.Enriched)
	require.NoError(t, err)
	var e enrich.Enrichment
	require.NoError(t, json.Unmarshal([]byte(msg.Alerts[alert].Annotations[AnnotationEnrichment]), &e))
	return e
}

// Alerts of another group on the same service join the open incident; the
// notification says which incident and what is new.
func TestAlertJoinsIncidentOfAnotherGroup(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", ""))
	ctx := context.Background()
	errors := amAlert(map[string]string{"alertname": "HighErrorRate", "service": "checkout", "instance": "c-1", "severity": "critical"}, minute(0), time.Time{})
	latency := amAlert(map[string]string{"alertname": "HighLatency", "service": "checkout", "instance": "c-1", "severity": "warning"}, minute(1), time.Time{})
	other := amAlert(map[string]string{"alertname": "DiskFull", "service": "db", "instance": "db-1", "severity": "warning"}, minute(1), time.Time{})

	first, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": "HighErrorRate"}, errors), minute(0))
	require.NoError(t, err)
	db, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": "DiskFull"}, other), minute(2))
	require.NoError(t, err)
	second, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": "HighLatency"}, latency), minute(2))
	require.NoError(t, err)
	require.Equal(t, first.Incident, second.Incident)
	require.NotEqual(t, first.Incident, db.Incident)

	rec, err := tr.store.IncidentByID(ctx, first.Incident)
	require.NoError(t, err)
	require.Equal(t, "checkout: HighErrorRate, HighLatency", rec.Title)
	require.Equal(t, "P1", rec.Priority, "the highest of its alerts")
	require.Len(t, rec.AlertList, 2)
	require.Len(t, rec.Notifications, 2)

	e := enrichmentOf(t, rec.Notifications[0], 0)
	require.False(t, e.Incident.NewAlert, "the alert that opened it is not news")
	msg, err := enrichedMessage(rec.Notifications[0].Enriched)
	require.NoError(t, err)
	require.NotContains(t, msg.Alerts[0].Annotations, AnnotationSummary)

	e = enrichmentOf(t, rec.Notifications[1], 0)
	require.True(t, e.Incident.NewAlert)
	require.Equal(t, 2, e.Incident.Alerts)
	msg, err = enrichedMessage(rec.Notifications[1].Enriched)
	require.NoError(t, err)
	require.Equal(t, "Joins "+first.Incident+": checkout: HighErrorRate, HighLatency (P1, 2 of 2 alerts firing, open since 10:00 UTC)",
		msg.Alerts[0].Annotations[AnnotationSummary])
}

// A repeat is forwarded when its enrichment changed materially: here its
// priority rose as other alerts on its service started to fire.
func TestRepeatForwardedWhenPriorityChanged(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", ""))
	ctx := context.Background()
	warn := amAlert(map[string]string{"alertname": "SlowQueries", "service": "checkout", "instance": "c-1", "severity": "warning"}, minute(0), time.Time{})
	group := map[string]string{"alertname": "SlowQueries"}
	res, err := tr.Replay(ctx, amNotification(t, "team", group, warn), minute(0))
	require.NoError(t, err)
	require.Equal(t, triage.Forward, res.Decision)

	// Alone it was P3; three more alerts on checkout agree with it.
	for i, name := range []string{"HighErrorRate", "HighLatency", "PodRestarts"} {
		a := amAlert(map[string]string{"alertname": name, "service": "checkout", "instance": "c-1", "severity": "warning"}, minute(1), time.Time{})
		_, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": name}, a), minute(2+i))
		require.NoError(t, err)
	}
	res, err = tr.Replay(ctx, amNotification(t, "team", group, warn), minute(60))
	require.NoError(t, err)
	require.Equal(t, triage.Forward, res.Decision, "P3 became P2")
	res, err = tr.Replay(ctx, amNotification(t, "team", group, warn), minute(120))
	require.NoError(t, err)
	require.Equal(t, triage.Repeat, res.Decision, "nothing changed since")

	rec, err := tr.store.IncidentByID(ctx, res.Incident)
	require.NoError(t, err)
	var prios []string
	for _, n := range rec.Notifications {
		msg, err := enrichedMessage(n.Enriched)
		require.NoError(t, err)
		if n.Decision == string(triage.Forward) && msg.GroupLabels["alertname"] == "SlowQueries" {
			prios = append(prios, enrichmentOf(t, n, 0).Priority)
		}
	}
	require.Equal(t, []string{"P3", "P2"}, prios)
}

// Incidents and flap histories survive a restart: after it, the alerts of
// an open incident still join it, and a flapping alert is still held.
func TestTriageStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	labels := map[string]string{"alertname": "QueueBacklog", "service": "billing", "instance": "b-1", "severity": "warning"}
	group := map[string]string{"alertname": "QueueBacklog"}
	// Fires and resolves every five minutes: flapping from minute 25.
	flap := func(tr *testReceiver, min int) Triaged {
		a := amAlert(labels, minute(min-min%10), time.Time{})
		if min%10 == 5 {
			a = amAlert(labels, minute(min-5), minute(min))
		}
		res, err := tr.Replay(ctx, amNotification(t, "team", group, a), minute(min))
		require.NoError(t, err)
		return res
	}
	before := newTestReceiverIn(t, dir, sinkConfig("http://127.0.0.1:1/", ""))
	var first Triaged
	for min := 0; min <= 30; min += 5 {
		first = flap(before, min)
	}
	require.Equal(t, triage.Flapping, first.Decision)
	require.NoError(t, before.store.Close())

	after := newTestReceiverIn(t, dir, sinkConfig("http://127.0.0.1:1/", ""))
	res := flap(after, 35)
	require.Equal(t, triage.Flapping, res.Decision, "still flapping after the restart")
	require.Equal(t, first.Incident, res.Incident, "the same incident")
	other := amAlert(map[string]string{"alertname": "HighLatency", "service": "billing", "instance": "b-1", "severity": "warning"}, minute(36), time.Time{})
	joined, err := after.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": "HighLatency"}, other), minute(36))
	require.NoError(t, err)
	require.Equal(t, first.Incident, joined.Incident, "a new alert on its service joins it")
}

func TestSummaryNamesTheOriginFirst(t *testing.T) {
	onset := time.Date(2026, 11, 28, 14, 2, 0, 0, time.UTC)
	rc := enrich.RootCause{Cause: "deployment_regression", Confidence: 0.86, Service: "checkout", Onset: onset,
		Changes: []enrich.Change{{Service: "checkout", Type: "deployment", Timestamp: onset.Add(-4 * time.Minute), Description: "v2.14", Correlation: 0.9}}}
	for _, tc := range []struct {
		name    string
		e       enrich.Enrichment
		service string
		want    string
	}{
		{name: "nothing to say", e: enrich.Enrichment{}, service: "checkout", want: ""},
		{name: "cause on the alert's service", e: enrich.Enrichment{RootCauses: []enrich.RootCause{rc},
			Topology: &enrich.Topology{Origin: "checkout", Path: []string{"checkout"}}}, service: "checkout",
			want: "likely deployment_regression (0.86): deployment of checkout (v2.14) 4m before onset"},
		{name: "cause upstream", e: enrich.Enrichment{RootCauses: []enrich.RootCause{rc},
			Topology: &enrich.Topology{Origin: "checkout", Path: []string{"checkout", "frontend"}}}, service: "frontend",
			want: "origin checkout (checkout → frontend); likely deployment_regression (0.86) at checkout: deployment of checkout (v2.14) 4m before onset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, summary(tc.e, tc.service))
		})
	}
}

// adjacency is a dependency graph for tests: service → adjacent services.
type adjacency map[string][]string

func (a adjacency) Adjacent(service string) []string { return a[service] }

// Alerts on services next to each other in the dependency graph make one
// incident; an alert on a service not next to them makes its own.
func TestAlertsOnAdjacentServicesJoinOneIncident(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", ""))
	st := *tr.state.Load()
	st.topology = adjacency{"payment": {"checkout", "postgres"}, "checkout": {"payment"}, "postgres": {"payment"}}
	tr.state.Store(&st)
	ctx := context.Background()
	fire := func(name, service string, at time.Time) string {
		t.Helper()
		a := amAlert(map[string]string{"alertname": name, "service": service, "severity": "critical"}, at, time.Time{})
		res, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": name, "service": service}, a), at)
		require.NoError(t, err)
		return res.Incident
	}
	db := fire("SlowQueries", "postgres", minute(0))
	require.Equal(t, db, fire("HighLatency", "payment", minute(1)), "payment calls postgres")
	require.NotEqual(t, db, fire("DiskFull", "search", minute(2)), "search is not next to them")
	rec, err := tr.store.IncidentByID(ctx, db)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"postgres", "payment"}, rec.Services)
}
