package receiver

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich"
	enrichhistory "github.com/augur-sre/augur/enrich/history"
)

// TestSimilarPastIncident runs the real history enricher on the
// receiver's store: an incident resolves, the on-call engineer records
// that a rollback fixed it, and the next incident like it is forwarded
// with it, the rollback suggested, and its fingerprint on the API.
func TestSimilarPastIncident(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", "")+`
triage:
  aggregation:
    grace_period: 0s
`)
	// What the rootcause enricher would have found.
	rootcause := foundCause{}
	he, err := enrichhistory.NewEnricher(enrichhistory.DefaultOptions(), tr.Receiver, nil, tr.now)
	require.NoError(t, err)
	st := *tr.state.Load()
	st.orchestrator = enrich.NewOrchestrator([]enrich.Enricher{rootcause, he}, time.Second, enrich.NewMetrics(nil), tr.logger)
	tr.state.Store(&st)
	ctx := context.Background()
	labels := map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
	group := map[string]string{"alertname": "HighErrorRate"}

	first, err := tr.Replay(ctx, amNotification(t, "team", group, amAlert(labels, minute(0), time.Time{})), minute(0))
	require.NoError(t, err)
	_, err = tr.Replay(ctx, amNotification(t, "team", group, amAlert(labels, minute(0), minute(14))), minute(14))
	require.NoError(t, err)
	_, err = tr.ReplayClock(ctx, minute(15))
	require.NoError(t, err)
	rec := tr.do(t, http.MethodPost, "/api/v1/incidents/"+first.Incident+"/resolution",
		`{"resolution_type":"rollback","effective_actions":["rollback to v2.13"],"ineffective_actions":["restart pods"]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	second, err := tr.Replay(ctx, amNotification(t, "team", group, amAlert(labels, minute(60), time.Time{})), minute(60))
	require.NoError(t, err)
	require.NotEqual(t, first.Incident, second.Incident)
	inc, err := tr.store.IncidentByID(ctx, second.Incident)
	require.NoError(t, err)
	e := enrichmentOf(t, inc.Notifications[0], 0)
	require.Len(t, e.SimilarIncidents, 1)
	sim := e.SimilarIncidents[0]
	require.Equal(t, first.Incident, sim.ID)
	require.Greater(t, sim.Similarity, 0.8)
	require.Equal(t, "rollback", sim.ResolutionType)
	require.Equal(t, (14 * time.Minute).Seconds(), sim.TimeToResolveSeconds)
	require.Equal(t, []string{"rollback to v2.13 — worked in 1 of 1 similar incident"}, e.SuggestedActions)
	require.Equal(t, (14 * time.Minute).Seconds(), *e.EstimatedTimeToResolveSeconds)
	msg, err := enrichedMessage(inc.Notifications[0].Enriched)
	require.NoError(t, err)
	require.Contains(t, msg.Alerts[0].Annotations[enrichhistory.AnnotationSimilar], first.Incident)

	rec = tr.do(t, http.MethodGet, "/api/v1/incidents/"+second.Incident, "")
	require.Equal(t, http.StatusOK, rec.Code)
	var api incident
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &api))
	var fp enrichhistory.Fingerprint
	require.NoError(t, json.Unmarshal(api.Fingerprint, &fp))
	require.Equal(t, "deployment_regression", fp.Cause)
	require.Equal(t, []string{"checkout"}, fp.Services)
	require.Equal(t, []string{"P1"}, fp.Severity)
	require.Equal(t, first.Incident, api.SimilarIncidents[0].ID)
	require.Equal(t, e.SuggestedActions, api.SuggestedActions)
}

// foundCause stands in for the rootcause enricher: a step in checkout's
// error rate, likely a bad deploy.
type foundCause struct{}

func (foundCause) Name() string { return "rootcause" }
func (foundCause) Enrich(context.Context, enrich.Input) (enrich.Apply, error) {
	return func(e *enrich.Enrichment) {
		e.Signature = map[string]string{"error_rate": "step_change", "latency": "stable"}
		e.RootCauses = []enrich.RootCause{{Cause: "deployment_regression", Confidence: 0.9, Service: "checkout"}}
	}, nil
}

// A novel incident gets no match, and says so.
func TestNoSimilarPastIncident(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", ""))
	he, err := enrichhistory.NewEnricher(enrichhistory.DefaultOptions(), tr.Receiver, nil, tr.now)
	require.NoError(t, err)
	st := *tr.state.Load()
	st.orchestrator = enrich.NewOrchestrator([]enrich.Enricher{he}, time.Second, enrich.NewMetrics(nil), tr.logger)
	tr.state.Store(&st)
	ctx := context.Background()
	res, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": "DiskFull"},
		amAlert(map[string]string{"alertname": "DiskFull", "service": "db"}, minute(0), time.Time{})), minute(0))
	require.NoError(t, err)
	inc, err := tr.store.IncidentByID(ctx, res.Incident)
	require.NoError(t, err)
	msg, err := enrichedMessage(inc.Notifications[0].Enriched)
	require.NoError(t, err)
	require.Equal(t, "no similar past incident", msg.Alerts[0].Annotations[enrichhistory.AnnotationSimilar])
	require.Empty(t, enrichmentOf(t, inc.Notifications[0], 0).SimilarIncidents)
}

// Diagnostic results that come after the notification are recorded on
// the incident and shown by the API.
func TestLateDiagnosticsOnTheIncident(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", ""))
	ctx := context.Background()
	res, err := tr.Replay(ctx, amNotification(t, "team", map[string]string{"alertname": "DiskFull"},
		amAlert(map[string]string{"alertname": "DiskFull", "service": "db"}, minute(0), time.Time{})), minute(0))
	require.NoError(t, err)
	tr.RecordDiagnostics(enrich.Input{Incident: res.Incident}, []enrich.Diagnostic{
		{Step: "db-port", OK: true, Output: "127.0.0.1:5432 open in 1ms"},
		{Step: "slow-queries", OK: false, Error: "timeout after 5s"},
	})
	rec := tr.do(t, http.MethodGet, "/api/v1/incidents/"+res.Incident, "")
	require.Equal(t, http.StatusOK, rec.Code)
	var api incident
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &api))
	require.Len(t, api.Diagnostics, 2)
	require.Equal(t, "db-port", api.Diagnostics[0].Step)
	require.True(t, api.Diagnostics[0].OK)
	require.Equal(t, "timeout after 5s", api.Diagnostics[1].Error)
}
