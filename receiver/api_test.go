package receiver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
)

// validPayload is a webhook body as Alertmanager v0.28 sends it (without
// notification_reason and routeLabels).
func validPayload(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "firing.json"))
	require.NoError(t, err)
	return string(b)
}

type testReceiver struct {
	*Receiver
	store *store.Store
	reg   *prometheus.Registry
	mux   *http.ServeMux
}

// newTestReceiver returns a receiver on a fresh store with the given
// config, with an orchestrator running enrichers.
func newTestReceiver(t testing.TB, yml string, enrichers ...enrich.Enricher) *testReceiver {
	t.Helper()
	return newTestReceiverIn(t, t.TempDir(), yml, enrichers...)
}

// newTestReceiverIn is newTestReceiver with its store in dir.
func newTestReceiverIn(t testing.TB, dir, yml string, enrichers ...enrich.Enricher) *testReceiver {
	t.Helper()
	cfg, err := config.Load([]byte(yml), t.TempDir())
	require.NoError(t, err)
	st, err := store.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	r := New(Options{Store: st, Registry: reg, Logger: logger})
	o := enrich.NewOrchestrator(enrichers, time.Duration(cfg.Enrich.Deadline), enrich.NewMetrics(reg), logger)
	require.NoError(t, r.ApplyConfig(cfg, o, nil, nil))
	mux := http.NewServeMux()
	r.Register(mux)
	return &testReceiver{Receiver: r, store: st, reg: reg, mux: mux}
}

func (tr *testReceiver) post(t testing.TB, path, contentType, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	tr.mux.ServeHTTP(rec, req)
	return rec
}

func (tr *testReceiver) stored(t testing.TB) []store.Notification {
	t.Helper()
	ns, err := tr.store.Unprocessed(context.Background(), 0, 1000)
	require.NoError(t, err)
	return ns
}

const twoReceivers = `
receivers:
  - name: team
  - name: other
`

func TestIntakeRejectsBadInput(t *testing.T) {
	valid := validPayload(t)
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		code        int
		err         string
	}{
		{name: "wrong method", method: http.MethodGet, path: "/api/v1/webhook/team", code: 405, err: "method GET not allowed: use POST"},
		{name: "wrong content type", path: "/api/v1/webhook/team", contentType: "text/plain", body: valid, code: 415, err: `content type "text/plain" not supported`},
		{name: "malformed JSON", path: "/api/v1/webhook/team", body: `{"version": "4",`, code: 400, err: "malformed JSON"},
		{name: "trailing garbage", path: "/api/v1/webhook/team", body: valid + `{}`, code: 400, err: "unexpected data after the notification object"},
		{name: "not an object", path: "/api/v1/webhook/team", body: `[]`, code: 400, err: "malformed JSON"},
		{name: "missing version", path: "/api/v1/webhook/team", body: strings.Replace(valid, `"version": "4",`, "", 1), code: 400, err: `missing field "version"`},
		{name: "other version", path: "/api/v1/webhook/team", body: strings.Replace(valid, `"version": "4"`, `"version": "3"`, 1), code: 400, err: `unsupported webhook version "3"`},
		{name: "missing group key", path: "/api/v1/webhook/team", body: strings.Replace(valid, `"groupKey": "{}:{alertname=\"HighErrorRate\"}",`, "", 1), code: 400, err: `missing field "groupKey"`},
		{name: "bad status", path: "/api/v1/webhook/team", body: strings.Replace(valid, `"status": "firing",`, `"status": "burning",`, 1), code: 400, err: `field "status": want "firing" or "resolved", got "burning"`},
		{name: "no alerts", path: "/api/v1/webhook/team", body: `{"version":"4","groupKey":"k","status":"firing","receiver":"team","alerts":[]}`, code: 400, err: `field "alerts": must not be empty`},
		{name: "alert without labels", path: "/api/v1/webhook/team", body: `{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{},"startsAt":"2026-11-28T14:02:00Z"}]}`, code: 400, err: `alerts[0]: field "labels": at least one label is required`},
		{name: "alert without start", path: "/api/v1/webhook/team", body: `{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}`, code: 400, err: `alerts[0]: missing field "startsAt"`},
		{name: "resolved without end", path: "/api/v1/webhook/team", body: `{"version":"4","groupKey":"k","status":"resolved","alerts":[{"status":"resolved","labels":{"a":"b"},"startsAt":"2026-11-28T14:02:00Z"}]}`, code: 400, err: `alerts[0]: resolved alert without "endsAt"`},
		{name: "invalid label name", path: "/api/v1/webhook/team", body: `{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"":"b"},"startsAt":"2026-11-28T14:02:00Z"}]}`, code: 400, err: `invalid label name ""`},
		{name: "unknown receiver in path", path: "/api/v1/webhook/nobody", body: valid, code: 404, err: `unknown receiver "nobody": augur.yml defines "other", "team"`},
		{name: "unknown receiver in payload", path: "/api/v1/webhook", body: strings.Replace(valid, `"receiver": "team"`, `"receiver": "nobody"`, 1), code: 404, err: `unknown receiver "nobody"`},
		{name: "no receiver at all", path: "/api/v1/webhook", body: strings.Replace(valid, `"receiver": "team",`, "", 1), code: 400, err: `missing field "receiver"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestReceiver(t, twoReceivers)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req := httptest.NewRequest(method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			tr.mux.ServeHTTP(rec, req)

			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			var body map[string]string
			require.NoError(t, json.NewDecoder(rec.Body).Decode(&body))
			require.Contains(t, body["error"], tc.err)
			require.Empty(t, tr.stored(t), "nothing is stored from a refused request")
			require.Equal(t, 1.0, testutil.ToFloat64(tr.metrics.webhookRequests.WithLabelValues(strconv.Itoa(tc.code))))
		})
	}
}

func TestIntakeStoresBeforeAnswering(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers)
	body := validPayload(t)

	rec := tr.post(t, "/api/v1/webhook/team", "application/json; charset=utf-8", body, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = tr.post(t, "/api/v1/webhook", "", body, nil)
	require.Equal(t, http.StatusOK, rec.Code, "no content type is taken as JSON")

	ns := tr.stored(t)
	require.Len(t, ns, 2)
	for _, n := range ns {
		require.Equal(t, "team", n.Receiver)
		require.Equal(t, `{}:{alertname="HighErrorRate"}`, n.GroupKey)
		require.Equal(t, 2, n.Alerts)
		require.JSONEq(t, body, string(n.Payload), "stored exactly as received")
	}
	require.Equal(t, 4.0, testutil.ToFloat64(tr.metrics.alertsReceived.WithLabelValues("team")))
}

func TestIntakeDefaultReceiver(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers+"intake:\n  default_receiver: other\n")
	body := strings.Replace(validPayload(t), `"receiver": "team"`, `"receiver": "augur"`, 1)
	rec := tr.post(t, "/api/v1/webhook", "application/json", body, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "other", tr.stored(t)[0].Receiver)

	rec = tr.post(t, "/api/v1/webhook/augur", "application/json", body, nil)
	require.Equal(t, http.StatusNotFound, rec.Code, "a receiver named in the path is never substituted")
}

func TestIntakeBodyLimit(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers+"intake:\n  max_body_bytes: 100\n")
	rec := tr.post(t, "/api/v1/webhook/team", "application/json", validPayload(t), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Contains(t, rec.Body.String(), "body larger than intake.max_body_bytes (100 bytes)")
	require.Empty(t, tr.stored(t))
}

func TestIntakeAuth(t *testing.T) {
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	basic := func(user, pass string) http.Header {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.SetBasicAuth(user, pass)
		return req.Header
	}
	for _, tc := range []struct {
		name   string
		intake string
		header http.Header
		code   int
	}{
		{name: "bearer: none given", intake: "bearer_token: s3cret", header: nil, code: 401},
		{name: "bearer: wrong", intake: "bearer_token: s3cret", header: bearer("guess"), code: 401},
		{name: "bearer: basic instead", intake: "bearer_token: s3cret", header: basic("u", "s3cret"), code: 401},
		{name: "bearer: right", intake: "bearer_token: s3cret", header: bearer("s3cret"), code: 200},
		{name: "basic: none given", intake: "basic_auth: {username: am, password: pw}", header: nil, code: 401},
		{name: "basic: wrong user", intake: "basic_auth: {username: am, password: pw}", header: basic("x", "pw"), code: 401},
		{name: "basic: wrong password", intake: "basic_auth: {username: am, password: pw}", header: basic("am", "x"), code: 401},
		{name: "basic: right", intake: "basic_auth: {username: am, password: pw}", header: basic("am", "pw"), code: 200},
		{name: "no auth configured", intake: "max_body_bytes: 1000000", header: nil, code: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestReceiver(t, twoReceivers+"intake:\n  "+tc.intake+"\n")
			rec := tr.post(t, "/api/v1/webhook/team", "application/json", validPayload(t), tc.header)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			if tc.code == 401 {
				require.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
				require.Empty(t, tr.stored(t))
			}
		})
	}
}

func TestIntakeBeforeConfig(t *testing.T) {
	st, err := store.Open(t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	r := New(Options{Store: st, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	r.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/webhook/team", strings.NewReader("{}")))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	require.Contains(t, string(b), "no config loaded yet")
}
