package runbook

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeLoki stands in for Loki's HTTP API. Grafana Loki itself cannot be
// run by these tests: it is AGPL-licensed, so augur does not vendor or
// download it, and Debian's `loki` package is an unrelated biology tool
// (linkage analysis), not Grafana's. The fake checks each request the way
// Loki parses it (/loki/api/v1/query_range: query, start and end in
// nanoseconds, limit, direction; /loki/api/v1/query: query, time) and
// answers in Loki's JSON shapes.
type fakeLoki struct {
	t testing.TB
	// streams is the "streams" result of query_range; matrix, when set,
	// is a "matrix" result instead.
	streams, matrix string
	// count is the number count_over_time answers.
	count int
	// wantQuery is the rendered query the test expects, wantLimit its
	// limit; status, when set, is the error answer.
	wantQuery string
	wantLimit int
	status    int
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	require.Equal(t, http.MethodGet, r.Method)
	q := r.URL.Query()
	end := fixedNow()
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = fmt.Fprint(w, "parse error at line 1, col 7: syntax error: unexpected IDENTIFIER")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/loki/api/v1/query_range":
		require.Equal(t, f.wantQuery, q.Get("query"))
		require.Equal(t, strconv.FormatInt(end.Add(-15*time.Minute).UnixNano(), 10), q.Get("start"))
		require.Equal(t, strconv.FormatInt(end.UnixNano(), 10), q.Get("end"))
		require.Equal(t, strconv.Itoa(f.wantLimit), q.Get("limit"))
		require.Equal(t, "backward", q.Get("direction"))
		if f.matrix != "" {
			_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":%s,"stats":{}}}`, f.matrix)
			return
		}
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"streams","result":%s,"stats":{}}}`, f.streams)
	case "/loki/api/v1/query":
		require.Equal(t, "sum(count_over_time("+f.wantQuery+" [15m]))", q.Get("query"))
		require.Equal(t, strconv.FormatInt(end.UnixNano(), 10), q.Get("time"))
		result := "[]"
		if f.count > 0 {
			result = fmt.Sprintf(`[{"metric":{},"value":[%d,"%d"]}]`, end.Unix(), f.count)
		}
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":%s,"stats":{}}}`, result)
	default:
		http.NotFound(w, r)
	}
}

func TestLogQuery(t *testing.T) {
	ns := func(d time.Duration) string { return strconv.FormatInt(fixedNow().Add(-d).UnixNano(), 10) }
	streams := fmt.Sprintf(`[
		{"stream":{"app":"checkout","pod":"checkout-0"},"values":[["%s","level=error msg=\"db timeout\""],["%s","level=error msg=\"old\""]]},
		{"stream":{"app":"checkout","pod":"checkout-1"},"values":[["%s","level=error msg=\"conn reset\""]]}
	]`, ns(time.Minute), ns(10*time.Minute), ns(2*time.Minute))
	const query = `{app="checkout"} |= "error"`
	cases := []struct {
		name   string
		loki   fakeLoki
		limit  int
		output string
		err    string
	}{
		{"lines", fakeLoki{streams: streams, count: 142}, 2,
			"142 lines in the last 15m; latest:\nlevel=error msg=\"db timeout\" | level=error msg=\"conn reset\"", ""},
		{"fewer than the limit", fakeLoki{streams: streams, count: 3}, 5,
			"3 lines in the last 15m; latest:\nlevel=error msg=\"db timeout\" | level=error msg=\"conn reset\" | level=error msg=\"old\"", ""},
		{"none", fakeLoki{streams: "[]"}, 5, "no lines in the last 15m", ""},
		{"metric query", fakeLoki{matrix: `[{"metric":{"pod":"checkout-0"},"values":[[1700000000,"3"],[1700000060,"4"]]},{"metric":{"pod":"checkout-1"},"values":[[1700000060,"9"]]}]`}, 5,
			`2 series; max 9 {pod="checkout-1"} (last sample)`, ""},
		{"error", fakeLoki{status: http.StatusBadRequest}, 5, "",
			"loki /loki/api/v1/query_range: HTTP 400: parse error at line 1, col 7: syntax error: unexpected IDENTIFIER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.loki.t, c.loki.wantQuery, c.loki.wantLimit = t, query, c.limit
			srv := httptest.NewServer(&c.loki)
			defer srv.Close()
			res := runOne(t, fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1]
  loki: {url: '%s'}
  by_alertname:
    A:
      - name: logs
        log_query: {query: '{app="{{ .Labels.service }}"} |= "error"', limit: %d}
`, srv.URL, c.limit), nil)
			require.Equal(t, c.err == "", res.OK, res.Error)
			require.Equal(t, c.output, res.Output)
			require.Equal(t, c.err, res.Error)
		})
	}
}

func TestLogQuerySendsLokiCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "augur" || pass != "tok-from-file" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = fmt.Fprint(w, `{"status":"success","data":{"resultType":"streams","result":[]}}`)
	}))
	defer srv.Close()
	cfg, err := parse(t, fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1]
  loki: {url: '%s', http_config: {basic_auth: {username: augur, password_file: secrets/token}}}
  by_alertname:
    A: [{name: logs, log_query: {query: '{app="x"}'}}]
`, srv.URL))
	require.NoError(t, err)
	cfg.SetDirectory("testdata")
	r, err := NewRunner(cfg, fixedNow)
	require.NoError(t, err)
	res := r.Run(t.Context(), cfg.ByAlertname["A"], testAlert, nil)[0]
	require.True(t, res.OK, res.Error)
	require.Equal(t, "no lines in the last 15m", res.Output)
}
