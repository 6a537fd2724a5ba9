package receiver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestChangesAPI(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers)
	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	tr.Receiver.now = func() time.Time { return now }

	for _, tc := range []struct {
		name, body, err string
	}{
		{name: "malformed", body: `{"service":`, err: "malformed JSON"},
		{name: "unknown field", body: `{"service":"checkout","type":"deployment","when":"2026-11-28T13:00:00Z"}`, err: `unknown field "when"`},
		{name: "no service", body: `{"type":"deployment"}`, err: `missing field "service"`},
		{name: "no type", body: `{"service":"checkout"}`, err: `missing field "type"`},
		{name: "far future", body: `{"service":"checkout","type":"deployment","timestamp":"2026-11-28T15:00:00Z"}`, err: "more than 5m0s in the future"},
		{name: "relative url", body: `{"service":"checkout","type":"deployment","url":"/builds/1"}`, err: `field "url": "/builds/1" is not an absolute URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tr.do(t, http.MethodPost, "/api/v1/changes", tc.body)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			var body map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			require.Contains(t, body["error"], tc.err)
		})
	}

	for _, body := range []string{
		`{"service":"checkout","type":"deployment","timestamp":"2026-11-28T13:56:00Z","description":"checkout v2.14","source":"github-actions","url":"https://ci.example.com/runs/42"}`,
		`{"service":"payment","type":"config","timestamp":"2026-11-28T12:00:00Z"}`,
		`{"service":"checkout","type":"feature_flag","description":"new-cart on"}`,
	} {
		rec := tr.do(t, http.MethodPost, "/api/v1/changes", body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	require.Equal(t, 3.0, testutil.ToFloat64(tr.metrics.changes.WithLabelValues(apiSource)))

	list := func(query string) []change {
		t.Helper()
		rec := tr.do(t, http.MethodGet, "/api/v1/changes"+query, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out []change
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	all := list("")
	require.Len(t, all, 3)
	// Newest first; a change without a timestamp is dated when received.
	require.Equal(t, "feature_flag", all[0].Type)
	require.Equal(t, now, all[0].Timestamp)
	require.Equal(t, change{ID: 1, Service: "checkout", Type: "deployment", Timestamp: time.Date(2026, 11, 28, 13, 56, 0, 0, time.UTC),
		Description: "checkout v2.14", Source: "github-actions", URL: "https://ci.example.com/runs/42"}, all[1])

	require.Len(t, list("?service=checkout"), 2)
	require.Len(t, list("?service=checkout&service=payment"), 3)
	require.Len(t, list("?since=1h"), 2)
	require.Len(t, list("?since=2026-11-28T13:57:00Z"), 1)
	require.Len(t, list("?limit=1"), 1)
	for _, q := range []string{"?since=yesterday", "?limit=0", "?limit=x"} {
		require.Equal(t, http.StatusBadRequest, tr.do(t, http.MethodGet, "/api/v1/changes"+q, "").Code, q)
	}
}

func TestChangesAPIRequiresIntakeCredentials(t *testing.T) {
	tr := newTestReceiver(t, twoReceivers+`
intake:
  bearer_token: s3cret
`)
	body := `{"service":"checkout","type":"deployment"}`
	rec := tr.do(t, http.MethodPost, "/api/v1/changes", body)
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	req := httptest.NewRequest(http.MethodPost, "/api/v1/changes", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret")
	ok := httptest.NewRecorder()
	tr.mux.ServeHTTP(ok, req)
	require.Equal(t, http.StatusOK, ok.Code, ok.Body.String())
}
