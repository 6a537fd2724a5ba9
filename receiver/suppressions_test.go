package receiver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func (tr *testReceiver) do(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	tr.mux.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func TestSuppressionAPI(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers+`
triage:
  suppress:
    - name: staging
      matchers: ['env="staging"']
`)
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	tr.Receiver.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	for _, tc := range []struct {
		name, body, err string
	}{
		{name: "malformed", body: `{"name":`, err: "malformed JSON"},
		{name: "unknown field", body: `{"name":"x","matcher":["a=\"b\""],"expires_at":"2026-11-28T16:00:00Z"}`, err: `unknown field "matcher"`},
		{name: "no name", body: `{"matchers":["a=\"b\""],"expires_at":"2026-11-28T16:00:00Z"}`, err: `missing field "name"`},
		{name: "no matchers", body: `{"name":"x","expires_at":"2026-11-28T16:00:00Z"}`, err: `at least one matcher is required`},
		{name: "bad matcher", body: `{"name":"x","matchers":["a=~\"(\""],"expires_at":"2026-11-28T16:00:00Z"}`, err: `field "matchers": "a=~\"(\""`},
		{name: "no expiry", body: `{"name":"x","matchers":["a=\"b\""]}`, err: `missing field "expires_at"`},
		{name: "expiry in the past", body: `{"name":"x","matchers":["a=\"b\""],"expires_at":"2026-11-28T13:00:00Z"}`, err: "2026-11-28T13:00:00Z is not in the future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tr.do(t, http.MethodPost, "/api/v1/suppressions", tc.body)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			var body map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			require.Contains(t, body["error"], tc.err)
		})
	}

	rec := tr.do(t, http.MethodPost, "/api/v1/suppressions",
		`{"name":"deploy","matchers":["service=\"checkout\"","severity!=\"page\""],"expires_at":"2026-11-28T16:00:00Z","comment":"rolling out v2.14"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var created suppression
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
	require.Equal(t, "1", created.ID)

	list := func() []suppression {
		rec := tr.do(t, http.MethodGet, "/api/v1/suppressions", "")
		require.Equal(t, http.StatusOK, rec.Code)
		var out []suppression
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	require.Equal(t, []suppression{
		{ID: "staging", Source: "config", Name: "staging", Matchers: []string{`env="staging"`}},
		{ID: "1", Source: "api", Name: "deploy", Matchers: []string{`service="checkout"`, `severity!="page"`},
			ExpiresAt: time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC), Comment: "rolling out v2.14", CreatedAt: now},
	}, list())

	mu.Lock()
	now = now.Add(3 * time.Hour)
	mu.Unlock()
	require.Len(t, list(), 1, "expired suppressions are not listed")

	require.Equal(t, http.StatusNotFound, tr.do(t, http.MethodDelete, "/api/v1/suppressions/staging", "").Code,
		"config rules are removed in augur.yml")
	require.Equal(t, http.StatusNoContent, tr.do(t, http.MethodDelete, "/api/v1/suppressions/1", "").Code)
	require.Equal(t, http.StatusNotFound, tr.do(t, http.MethodDelete, "/api/v1/suppressions/1", "").Code)
}

// staging is the firing payload with its second alert in staging.
func staging(body string) string {
	return strings.Replace(body, `"instance": "checkout-2:8080",`, `"instance": "checkout-2:8080", "env": "staging",`, 1)
}

func TestSuppressedAlertsStayOnTheIncident(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+`
triage:
  suppress:
    - name: staging
      matchers: ['env="staging"']
`)
	tr.run(t)

	// One of two alerts suppressed: the other goes out alone.
	require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", staging(validPayload(t)), nil).Code)
	waitFor(t, func() bool { return len(sink.messages()) == 1 }, "not forwarded")
	m := sink.messages()[0]
	require.Len(t, m.Alerts, 1)
	require.Equal(t, "checkout-1:8080", m.Alerts[0].Labels["instance"])
	require.NotContains(t, m.Alerts[0].Annotations, AnnotationSuppressed)
	require.Equal(t, 1.0, testutil.ToFloat64(tr.metrics.triage.WithLabelValues("suppressed")))
	require.Equal(t, 1.0, testutil.ToFloat64(tr.metrics.triage.WithLabelValues("forwarded")))

	rec := tr.do(t, http.MethodGet, "/api/v1/incidents/"+m.Alerts[0].Annotations[AnnotationIncident], "")
	require.Equal(t, http.StatusOK, rec.Code)
	var inc incident
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &inc))
	require.Len(t, inc.Notifications[0].Alerts, 2, "the suppressed alert is recorded on the incident")
	require.Equal(t, "staging", inc.Notifications[0].Alerts[1].Annotations[AnnotationSuppressed])
}

func TestSuppressionNeverHidesAResolutionOfWhatWasSent(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, ""))
	tr.run(t)
	post := func(body string) {
		t.Helper()
		require.Equal(t, http.StatusOK, tr.post(t, "/api/v1/webhook/team", "", body, nil).Code)
	}
	suppressAll := `{"name":"maintenance","matchers":["service=\"checkout\""],"expires_at":"2999-01-01T00:00:00Z"}`

	// Fired before the suppression: its resolution still goes out.
	post(validPayload(t))
	waitFor(t, func() bool { return len(sink.messages()) == 1 }, "firing not forwarded")
	require.Equal(t, http.StatusOK, tr.do(t, http.MethodPost, "/api/v1/suppressions", suppressAll).Code)
	post(resolvedPayload(t))
	waitFor(t, func() bool { return len(sink.messages()) == 2 }, "the resolution of a sent alert was suppressed")
	require.Equal(t, "resolved", sink.messages()[1].Status)
	require.Len(t, sink.messages()[1].Alerts, 2)

	// Fired under the suppression: neither firing nor resolution goes out.
	post(withNewAlert(t))
	post(strings.Replace(resolvedPayload(t), "checkout-2:8080", "checkout-3:8080", 1))
	suppressed := tr.metrics.triage.WithLabelValues("suppressed")
	waitFor(t, func() bool { return testutil.ToFloat64(suppressed) == 4 }, "not suppressed")
	require.Len(t, sink.messages(), 2)
}
