package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
)

// webhookSink records what Alertmanager's webhook integration posts to it
// and answers with the status codes it is given, one per request, then 200.
type webhookSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   []webhook.Message
	codes []int
}

func newWebhookSink(t *testing.T, codes ...int) *webhookSink {
	s := &webhookSink{codes: codes}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhook.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		code := http.StatusOK
		if len(s.codes) > 0 {
			code, s.codes = s.codes[0], s.codes[1:]
		}
		if code == http.StatusOK {
			s.got = append(s.got, m)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) messages() []webhook.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhook.Message(nil), s.got...)
}

func (s *webhookSink) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes)
}

func sinkConfig(url string, extra string) string {
	return fmt.Sprintf(`
receivers:
  - name: team
    webhook_configs:
      - url: %s
        %s
forward:
  initial_backoff: 10ms
  max_backoff: 50ms
`, url, extra)
}

// run runs the receiver's loops until the test ends.
func (tr *testReceiver) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		require.NoError(t, tr.Run(ctx))
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, msg)
}

func TestForwardsEnrichedNotification(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, ""))
	tr.run(t)

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "application/json", validPayload(t), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 1 }, "nothing forwarded")

	m := sink.messages()[0]
	require.Equal(t, "4", m.Version)
	require.Equal(t, "team", m.Receiver)
	require.Equal(t, `{}:{alertname="HighErrorRate"}`, m.GroupKey)
	require.Equal(t, "http://alertmanager.example.org:9093", m.ExternalURL, "links keep pointing at the sending Alertmanager")
	require.Equal(t, "firing", m.Status)
	require.Len(t, m.Alerts, 2)
	var incident string
	// Both alerts are on checkout, so each has the other agreeing (1 of 3);
	// severity page scores 1, ticket 0.5: 0.75 × severity + 0.25 × 1/3.
	wantScores := []struct {
		score    float64
		priority string
		severity float64
	}{{0.75 + 0.25/3, "P1", 1}, {0.375 + 0.25/3, "P3", 0.5}}
	for i, a := range m.Alerts {
		require.Equal(t, "firing", a.Status, "alert %d: firing alerts stay firing however late they are forwarded", i)
		require.Equal(t, "HighErrorRate", a.Labels["alertname"])
		require.Equal(t, "checkout error rate above 5%", a.Annotations["summary"])
		require.Regexp(t, `^inc-\d{4}-\d{2}-\d{2}-0001$`, a.Annotations[AnnotationIncident])
		var e enrich.Enrichment
		require.NoError(t, json.Unmarshal([]byte(a.Annotations[AnnotationEnrichment]), &e))
		require.Equal(t, 1, e.Version)
		require.Equal(t, a.Annotations[AnnotationIncident], e.IncidentID)
		require.NotNil(t, e.Score)
		require.InDelta(t, wantScores[i].score, *e.Score, 1e-9)
		require.Equal(t, wantScores[i].priority, e.Priority)
		require.Equal(t, map[string]float64{"severity": wantScores[i].severity, "agreement": 1.0 / 3}, e.ScoreParts)
		require.Empty(t, e.Skipped)
		incident = e.IncidentID
	}
	require.Equal(t, m.Alerts[0].Annotations[AnnotationIncident], m.Alerts[1].Annotations[AnnotationIncident])
	require.NotEmpty(t, incident)
	delivered := tr.metrics.forwarded.WithLabelValues("team", "webhook", "delivered")
	waitFor(t, func() bool { return testutil.ToFloat64(delivered) == 1 }, "delivery not recorded")
}

func resolvedPayload(t *testing.T) string {
	body := validPayload(t)
	body = strings.ReplaceAll(body, `"status": "firing"`, `"status": "resolved"`)
	return strings.ReplaceAll(body, `"endsAt": "0001-01-01T00:00:00Z"`, `"endsAt": "2026-11-28T14:20:00Z"`)
}

func TestIncidentStableUntilResolved(t *testing.T) {
	for _, tc := range []struct {
		grace string
		want  []string
	}{
		// Within the grace period, the problem coming back is the same
		// incident.
		{"5m", []string{"0001", "0001", "0001"}},
		{"0s", []string{"0001", "0001", "0002"}},
	} {
		t.Run("grace "+tc.grace, func(t *testing.T) {
			sink := newWebhookSink(t)
			tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+"triage: {aggregation: {grace_period: "+tc.grace+"}}\n")
			tr.run(t)
			for i, body := range []string{validPayload(t), resolvedPayload(t), validPayload(t)} {
				require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", body, nil).Code)
				waitFor(t, func() bool { return len(sink.messages()) == i+1 }, "not forwarded")
			}
			var ids []string
			for _, m := range sink.messages() {
				ids = append(ids, m.Alerts[0].Annotations[AnnotationIncident][len("inc-2026-11-29-"):])
			}
			require.Equal(t, tc.want, ids)
		})
	}
}

// withNewAlert is the firing payload with its second alert replaced by
// another instance, as when a new alert joins the group.
func withNewAlert(t *testing.T) string {
	return strings.Replace(validPayload(t), "checkout-2:8080", "checkout-3:8080", 1)
}

func TestDuplicatesAndRepeatsDropped(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+"triage:\n  dedup_window: 5m\n  repeat_interval: 4h\n")
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 14, 5, 0, 0, time.UTC)
	tr.Receiver.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	tr.run(t)

	triaged := func(d string) func() float64 {
		return func() float64 { return testutil.ToFloat64(tr.metrics.triage.WithLabelValues(d)) }
	}
	forwarded, duplicate, repeat := triaged("forwarded"), triaged("duplicate"), triaged("repeat")
	for _, step := range []struct {
		name    string
		advance time.Duration
		body    string
		want    [3]float64 // forwarded, duplicate, repeat alerts so far
	}{
		{name: "first", body: validPayload(t), want: [3]float64{2, 0, 0}},
		{name: "the HA peer's copy", advance: 10 * time.Second, body: validPayload(t), want: [3]float64{2, 2, 0}},
		{name: "repeat before repeat_interval", advance: time.Hour, body: validPayload(t), want: [3]float64{2, 2, 2}},
		{name: "a new alert joins", advance: time.Minute, body: withNewAlert(t), want: [3]float64{4, 2, 2}},
		{name: "repeat after repeat_interval", advance: 4 * time.Hour, body: withNewAlert(t), want: [3]float64{6, 2, 2}},
		{name: "resolved", advance: time.Minute, body: resolvedPayload(t), want: [3]float64{8, 2, 2}},
		{name: "resolved again from the peer", advance: time.Second, body: resolvedPayload(t), want: [3]float64{8, 4, 2}},
	} {
		advance(step.advance)
		require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", step.body, nil).Code, step.name)
		waitFor(t, func() bool {
			return [3]float64{forwarded(), duplicate(), repeat()} == step.want
		}, step.name)
	}
	waitFor(t, func() bool { return len(sink.messages()) == 4 }, "four notifications forwarded")
	require.InDelta(t, 6.0/14, tr.metrics.reductionRatio(), 1e-9, "6 of 14 alerts not forwarded")

	// The dropped ones are on the incident, with their decision.
	id := sink.messages()[0].Alerts[0].Annotations[AnnotationIncident]
	rec := httptest.NewRecorder()
	tr.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/incidents/"+id, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var inc incident
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &inc))
	var decisions []string
	for _, n := range inc.Notifications {
		decisions = append(decisions, n.Decision)
	}
	require.Equal(t, []string{"forwarded", "duplicate", "repeat", "forwarded", "forwarded", "forwarded", "duplicate"}, decisions,
		"all on one incident: the peer's copy of the resolution opened no new one")
}

func TestSendResolvedFalseSkipsResolvedOnly(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "send_resolved: false"))
	tr.run(t)

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", resolvedPayload(t), nil).Code)
	skipped := tr.metrics.forwarded.WithLabelValues("team", "webhook", "skipped")
	waitFor(t, func() bool { return testutil.ToFloat64(skipped) == 1 }, "resolved notification not skipped")
	require.Empty(t, sink.messages())

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", validPayload(t), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 1 }, "firing notification not forwarded")
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	sink := newWebhookSink(t, http.StatusBadRequest)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, ""))
	tr.run(t)

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", validPayload(t), nil).Code)
	failed := tr.metrics.forwarded.WithLabelValues("team", "webhook", "failed")
	waitFor(t, func() bool { return testutil.ToFloat64(failed) == 1 }, "a 400 from the webhook is not retryable")
	require.Equal(t, 0.0, testutil.ToFloat64(tr.metrics.retries.WithLabelValues("team", "webhook")))
	require.Empty(t, sink.messages())
}

func TestRetriesKeepGroupOrder(t *testing.T) {
	// The first two attempts fail with 503 (retryable): the firing
	// notification waits for its retries and the resolved one behind it.
	sink := newWebhookSink(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, ""))
	tr.run(t)

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", validPayload(t), nil).Code)
	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", resolvedPayload(t), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 2 }, "not both delivered")
	require.Zero(t, sink.pending())

	ms := sink.messages()
	require.Equal(t, []string{"firing", "resolved"}, []string{ms[0].Status, ms[1].Status})
	require.Equal(t, 2.0, testutil.ToFloat64(tr.metrics.retries.WithLabelValues("team", "webhook")))
	delivered := tr.metrics.forwarded.WithLabelValues("team", "webhook", "delivered")
	waitFor(t, func() bool { return testutil.ToFloat64(delivered) == 2 }, "deliveries not recorded")
}

// blockingEnricher never finishes before its context ends.
type blockingEnricher struct{}

func (blockingEnricher) Name() string { return "blocking" }
func (blockingEnricher) Enrich(ctx context.Context, _ enrich.Input) (enrich.Apply, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestSlowEnricherFailsOpen(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+"enrich:\n  deadline: 50ms\n", blockingEnricher{})
	tr.run(t)

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", validPayload(t), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 1 }, "alert held back by a slow enricher")
	var e enrich.Enrichment
	require.NoError(t, json.Unmarshal([]byte(sink.messages()[0].Alerts[0].Annotations[AnnotationEnrichment]), &e))
	require.Contains(t, e.Skipped["blocking"], "50ms deadline")
}

func TestBackoff(t *testing.T) {
	r := &Receiver{}
	c := config.DefaultForwardConfig
	for _, tc := range []struct {
		attempts int
		atLeast  time.Duration
		lo, hi   time.Duration
	}{
		{attempts: 0, lo: 500 * time.Millisecond, hi: time.Second},
		{attempts: 3, lo: 4 * time.Second, hi: 8 * time.Second},
		{attempts: 10, lo: 30 * time.Second, hi: time.Minute},
		{attempts: 1000, lo: 30 * time.Second, hi: time.Minute},
		{attempts: 0, atLeast: 5 * time.Minute, lo: 5 * time.Minute, hi: 5 * time.Minute},
	} {
		t.Run(fmt.Sprintf("attempts=%d,atLeast=%s", tc.attempts, tc.atLeast), func(t *testing.T) {
			for range 100 {
				d := r.backoff(c, tc.attempts, tc.atLeast)
				require.GreaterOrEqual(t, d, tc.lo)
				require.LessOrEqual(t, d, tc.hi)
			}
		})
	}
}

func TestApplyConfigRefusesBrokenTemplates(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers)
	dir := t.TempDir()
	cfg, err := config.Load([]byte(twoReceivers), dir)
	require.NoError(t, err)
	cfg.Templates = []string{writeTemplate(t, dir, `{{ define "x" }}{{ .Broken `)}
	err = tr.ApplyConfig(cfg, enrich.NewOrchestrator(nil, time.Second, enrich.NewMetrics(nil), nil), nil, nil)
	require.ErrorContains(t, err, "templates:")
	require.True(t, tr.Ready(), "the previous config stays in force")
}

func writeTemplate(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "broken.tmpl")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

func TestIncidentAPI(t *testing.T) {
	sink := newWebhookSink(t, http.StatusServiceUnavailable)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, ""))
	ext, err := url.Parse("https://augur.example.org/prefix")
	require.NoError(t, err)
	tr.externalURL = ext
	tr.run(t)

	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", validPayload(t), nil).Code)
	delivered := tr.metrics.forwarded.WithLabelValues("team", "webhook", "delivered")
	waitFor(t, func() bool { return testutil.ToFloat64(delivered) == 1 }, "not delivered")
	a := sink.messages()[0].Alerts[0]
	id := a.Annotations[AnnotationIncident]
	require.Equal(t, "https://augur.example.org/prefix/api/v1/incidents/"+id, a.Annotations[AnnotationIncidentURL])

	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		tr.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	rec := get("/api/v1/incidents/" + id)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var inc incident
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &inc))
	require.Equal(t, id, inc.ID)
	require.Equal(t, "team", inc.Receiver)
	require.Equal(t, "open", inc.State)
	require.Nil(t, inc.ResolvedAt)
	require.Equal(t, "checkout: HighErrorRate", inc.Title)
	require.Equal(t, "2 of 2 alerts firing on checkout", inc.Summary)
	require.Equal(t, "P1", inc.Priority, "the page alert's")
	require.Len(t, inc.AlertList, 2)
	require.Equal(t, "checkout-1:8080", inc.AlertList[0].Labels["instance"])
	require.Equal(t, "firing", inc.AlertList[0].Status)
	var events []string
	for _, e := range inc.Timeline {
		events = append(events, e.Event+" "+e.Detail)
	}
	require.Equal(t, []string{"alert_firing ", "alert_firing ", "incident_opened checkout: HighErrorRate", "notification forwarded"}, events,
		"the alerts started before augur heard of them")
	require.Len(t, inc.Notifications, 1)
	n := inc.Notifications[0]
	require.Equal(t, "firing", n.Status)
	require.Len(t, n.Alerts, 2)
	require.Equal(t, id, n.Alerts[1].Annotations[AnnotationIncident])
	require.Len(t, n.Deliveries, 1)
	d := n.Deliveries[0]
	require.Equal(t, "webhook[0]", d.Integration)
	require.Equal(t, "delivered", d.State)
	require.Equal(t, 2, d.Attempts, "one 503, then delivered")
	require.NotNil(t, d.DoneAt)
	require.Nil(t, inc.Resolution, "open, and nobody said what resolved it")

	// What resolved it, told by the on-call engineer.
	for _, tc := range []struct{ body, err string }{
		{`{"effective_actions":["rollback"]}`, `missing field "resolution_type"`},
		{`{"resolution_type":"rollback","worked":["x"]}`, `unknown field "worked"`},
		{`{"resolution_type":"rollback","effective_actions":[" "]}`, `field "effective_actions": action 0 is empty`},
	} {
		rec = tr.do(t, http.MethodPost, "/api/v1/incidents/"+id+"/resolution", tc.body)
		require.Equal(t, http.StatusBadRequest, rec.Code, tc.body)
		var body map[string]string
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.Contains(t, body["error"], tc.err)
	}
	rec = tr.do(t, http.MethodPost, "/api/v1/incidents/inc-1999-01-01-0001/resolution", `{"resolution_type":"rollback"}`)
	require.Equal(t, http.StatusNotFound, rec.Code)
	rec = tr.do(t, http.MethodPost, "/api/v1/incidents/"+id+"/resolution",
		`{"resolution_type":"rollback","root_cause":"v2.14 broke the cart","effective_actions":["rollback to v2.13"],"ineffective_actions":["restart pods"],"notes":"see PR 812"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(get("/api/v1/incidents/"+id).Body.Bytes(), &inc))
	require.NotNil(t, inc.Resolution)
	require.Equal(t, "rollback", inc.Resolution.ResolutionType)
	require.Equal(t, []string{"rollback to v2.13"}, inc.Resolution.EffectiveActions)
	require.Equal(t, []string{"restart pods"}, inc.Resolution.IneffectiveActions)
	require.Equal(t, "api", inc.Resolution.Source)

	rec = get("/api/v1/incidents/inc-1999-01-01-0001")
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Contains(t, rec.Body.String(), `incident \"inc-1999-01-01-0001\": not found`)
}

func TestIncidentList(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+"triage: {aggregation: {grace_period: 0s}}\n")
	tr.run(t)

	other := strings.NewReplacer(`HighErrorRate`, `DiskFull`, `"service": "checkout"`, `"service": "db"`).Replace(validPayload(t))
	for i, body := range []string{validPayload(t), other, resolvedPayload(t)} {
		require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", body, nil).Code)
		waitFor(t, func() bool { return len(sink.messages()) == i+1 }, "not forwarded")
	}
	require.Equal(t, 2.0, testutil.ToFloat64(tr.metrics.incidents))

	list := func(query string) []incidentSummary {
		rec := httptest.NewRecorder()
		tr.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/incidents"+query, nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out []incidentSummary
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	all := list("")
	require.Len(t, all, 2)
	require.Equal(t, "db: DiskFull", all[0].Title, "newest first")
	require.Equal(t, []string{"db"}, all[0].Services)
	require.Equal(t, "open", all[0].State)
	require.Equal(t, 1, all[0].Notifications)
	require.Equal(t, "checkout: HighErrorRate", all[1].Title)
	require.Equal(t, []string{"checkout"}, all[1].Services)
	require.Equal(t, "resolved", all[1].State)
	require.Equal(t, 2, all[1].Notifications)

	require.Equal(t, []string{all[0].ID}, ids(list("?state=open")))
	require.Equal(t, []string{all[1].ID}, ids(list("?state=resolved")))
	require.Equal(t, []string{all[1].ID}, ids(list("?service=checkout")))
	require.Equal(t, []string{all[0].ID}, ids(list("?limit=1")))

	for _, q := range []string{"?state=closed", "?limit=0", "?limit=x", "?limit=1001"} {
		rec := httptest.NewRecorder()
		tr.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/incidents"+q, nil))
		require.Equal(t, http.StatusBadRequest, rec.Code, q)
	}
}

func ids(list []incidentSummary) []string {
	out := []string{}
	for _, i := range list {
		out = append(out, i.ID)
	}
	return out
}

func TestExternalURLsAreBounded(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", ""))
	x := tr.state.Load().integrations
	for i := range maxExternalURLs + 10 {
		m, err := x.forURL(fmt.Sprintf("http://am-%d:9093", i))
		require.NoError(t, err)
		require.Len(t, m["team"], 1)
	}
	require.Len(t, x.byURL, maxExternalURLs)
}

func TestLowScoreHeldBack(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+"triage:\n  min_score: 0.6\n")
	tr.run(t)

	// page scores 0.83 and goes out; ticket scores 0.46 and is held back.
	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", validPayload(t), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 1 }, "not forwarded")
	require.Len(t, sink.messages()[0].Alerts, 1)
	require.Equal(t, "page", sink.messages()[0].Alerts[0].Labels["severity"])
	lowScore := tr.metrics.triage.WithLabelValues("low_score")
	waitFor(t, func() bool { return testutil.ToFloat64(lowScore) == 1 }, "low score not counted")

	rec := httptest.NewRecorder()
	tr.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/incidents/"+sink.messages()[0].Alerts[0].Annotations[AnnotationIncident], nil))
	var inc incident
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &inc))
	require.Equal(t, "score 0.46 below triage.min_score 0.60", inc.Notifications[0].Alerts[1].Annotations[AnnotationLowScore])

	// Resolved: the page alert's resolution goes out, the ticket's does not.
	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", resolvedPayload(t), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 2 }, "resolution not forwarded")
	require.Len(t, sink.messages()[1].Alerts, 1)
	require.Equal(t, "page", sink.messages()[1].Alerts[0].Labels["severity"])
}
