package runbook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich"
)

// testAlert is the alert the tests run steps for.
var testAlert = model.Alert{
	Labels:      model.LabelSet{"alertname": "HighErrorRate", "service": "checkout", "instance": "127.0.0.1"},
	Annotations: model.LabelSet{"summary": "checkout errors", "health": "/health"},
}

// runOne loads the runbooks section given (its by_alertname.A list holds
// the step) and runs the step for testAlert.
func runOne(t testing.TB, section string, q enrich.Querier) Result {
	t.Helper()
	cfg, err := parse(t, section)
	require.NoError(t, err)
	r, err := NewRunner(cfg, fixedNow)
	require.NoError(t, err)
	steps := cfg.ByAlertname["A"]
	require.Len(t, steps, 1)
	res := r.Run(context.Background(), steps, testAlert, q)
	require.Len(t, res, 1)
	return res[0]
}

func fixedNow() time.Time { return time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC) }

// httpSection is a runbooks section allowing 127.0.0.1 with one
// http_check step (the YAML of its mapping).
func httpSection(check string) string {
	return fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1]
  max_response_bytes: 1024
  step_timeout: 2s
  by_alertname:
    A:
      - name: web
        http_check: %s
`, check)
}

func TestHTTPCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			require.Equal(t, "augur-runbook", r.Header.Get("User-Agent"))
			_, _ = fmt.Fprint(w, `{"status":"UP"}`)
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprint(w, "database unreachable\nretrying")
		case "/created":
			w.WriteHeader(http.StatusCreated)
		case "/big":
			_, _ = fmt.Fprint(w, strings.Repeat("a", 1<<20)+"NEEDLE")
		case "/hops":
			http.Redirect(w, r, "/health", http.StatusFound)
		case "/head":
			require.Equal(t, http.MethodHead, r.Method)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	cases := []struct {
		name     string
		check    string
		ok       bool
		output   string
		errorMsg string
	}{
		{"up", `{url: '%s/health', expect_status: 200, expect_body: UP}`, true, `HTTP 200: {"status":"UP"}`, ""},
		{"any 2xx", `{url: '%s/created'}`, true, "HTTP 201", ""},
		{"regexp", `{url: '%s/health', expect_body_regexp: '"status":"(UP|OK)"'}`, true, `HTTP 200: {"status":"UP"}`, ""},
		{"head", `{url: '%s/head', method: HEAD}`, true, "HTTP 200", ""},
		{"redirect to an allowed host", `{url: '%s/hops', expect_body: UP}`, true, `HTTP 200: {"status":"UP"}`, ""},
		{"down", `{url: '%s/down'}`, false, "HTTP 503: database unreachable retrying", "status 503, want 2xx"},
		{"wrong status", `{url: '%s/created', expect_status: 200}`, false, "HTTP 201", "status 201, want 200"},
		{"body mismatch", `{url: '%s/health', expect_body: DOWN}`, false, `HTTP 200: {"status":"UP"}`, `body does not contain "DOWN"`},
		{"regexp mismatch", `{url: '%s/health', expect_body_regexp: '^ok$'}`, false, `HTTP 200: {"status":"UP"}`, `body does not match "^ok$"`},
		{"capped body", `{url: '%s/big', expect_body: NEEDLE}`, false,
			"HTTP 200: " + strings.Repeat("a", 99) + "… (body cut at 1024 bytes)", `body does not contain "NEEDLE"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runOne(t, httpSection(fmt.Sprintf(c.check, srv.URL)), nil)
			require.Equal(t, "web", res.Step)
			require.Equal(t, c.ok, res.OK, res.Error)
			require.Equal(t, c.output, res.Output)
			require.Equal(t, c.errorMsg, res.Error)
			require.Positive(t, res.Duration)
		})
	}
}

func TestHTTPCheckTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()

	cases := []struct {
		name        string
		stepTimeout string
		ctxTimeout  time.Duration
	}{
		{"step timeout", "timeout: 100ms", time.Minute},
		{"context deadline before the step timeout", "timeout: 10s", 100 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parse(t, fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1]
  by_alertname:
    A:
      - name: slow
        %s
        http_check: {url: '%s/'}
`, c.stepTimeout, srv.URL))
			require.NoError(t, err)
			r, err := NewRunner(cfg, nil)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), c.ctxTimeout)
			defer cancel()
			start := time.Now()
			res := r.Run(ctx, cfg.ByAlertname["A"], testAlert, nil)
			require.Less(t, time.Since(start), 2*time.Second)
			require.False(t, res[0].OK)
			require.Contains(t, res[0].Error, "timed out after")
			require.Contains(t, res[0].Error, "context deadline exceeded")
		})
	}
}

func TestHTTPRedirectToDisallowedHostIsRefused(t *testing.T) {
	var hits atomic.Int32
	// The second server is reached as localhost, which is not allowed.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer other.Close()
	_, port, err := net.SplitHostPort(other.Listener.Addr().String())
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+port+"/", http.StatusFound)
	}))
	defer srv.Close()

	res := runOne(t, httpSection(fmt.Sprintf(`{url: '%s/'}`, srv.URL)), nil)
	require.False(t, res.OK)
	require.Equal(t, fmt.Sprintf(`GET %s/: redirect refused: host "localhost" is not in runbooks.allowed_hosts`, srv.URL), res.Error)
	require.Zero(t, hits.Load())
}

func TestTemplates(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.RequestURI() + " " + r.Header.Get("X-Summary"))
		_, _ = fmt.Fprint(w, "checkout ok")
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	cases := []struct {
		name   string
		url    string
		labels model.LabelSet
		err    string
	}{
		{"labels and annotations", "http://{{ .Labels.instance }}:" + port + "{{ .Annotations.health }}?svc={{ .Labels.service | urlquery }}", nil, ""},
		{"renders a host that is not allowed", "http://{{ .Labels.instance }}:" + port + "/",
			model.LabelSet{"instance": "evil.example"}, `host "evil.example" is not in runbooks.allowed_hosts`},
		{"label cuts the URL short", "http://{{ .Labels.instance }}.svc.cluster.local:" + port + "/",
			model.LabelSet{"instance": "evil.example/#"}, `host "evil.example" is not in runbooks.allowed_hosts`},
		{"label smuggles user information", "http://{{ .Labels.instance }}:" + port + "/",
			model.LabelSet{"instance": "127.0.0.1@evil.example"}, "user information in the URL is not allowed"},
		{"missing label", "http://{{ .Labels.nope }}/", nil, `render url: template: url:1:17: executing "url" at <.Labels.nope>: map has no entry for key "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got.Store("")
			cfg, err := parse(t, fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1, "*.svc.cluster.local"]
  by_alertname:
    A:
      - name: web
        http_check:
          url: '%s'
          expect_body: '{{ .Labels.service }} ok'
          headers: {X-Summary: '{{ .Annotations.summary }}'}
`, c.url))
			require.NoError(t, err)
			r, err := NewRunner(cfg, nil)
			require.NoError(t, err)
			a := testAlert
			a.Labels = testAlert.Labels.Merge(c.labels)
			res := r.Run(context.Background(), cfg.ByAlertname["A"], a, nil)[0]
			if c.err != "" {
				require.False(t, res.OK)
				require.Contains(t, res.Error, c.err)
				require.Equal(t, "", got.Load(), "no request")
				return
			}
			require.True(t, res.OK, res.Error)
			require.Equal(t, "/health?svc=checkout checkout errors", got.Load())
		})
	}
}

func TestSecretHeaders(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("Bearer file-s3cret\n"), 0o600))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer file-s3cret" || r.Header.Get("X-Key") != "inline-s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// A server that echoes what it got must not get the secrets into
		// the notification.
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, "bad request with %s and %s", r.Header.Get("Authorization"), r.Header.Get("X-Key"))
	}))
	defer srv.Close()

	cfg, err := parse(t, httpSection(fmt.Sprintf(`
          url: '%s/?k=v'
          expect_body: inline-s3cret
          headers:
            Authorization: {secret_file: token}
            X-Key: {secret: inline-s3cret}`, srv.URL)))
	require.NoError(t, err)
	cfg.SetDirectory(dir)
	r, err := NewRunner(cfg, nil)
	require.NoError(t, err)
	res := r.Run(context.Background(), cfg.ByAlertname["A"], testAlert, nil)[0]
	require.False(t, res.OK)
	require.Equal(t, "HTTP 500: bad request with <secret> and <secret>", res.Output)
	require.Equal(t, "status 500, want 2xx", res.Error)

	// A missing file fails the step and says which.
	require.NoError(t, os.Remove(filepath.Join(dir, "token")))
	res = r.Run(context.Background(), cfg.ByAlertname["A"], testAlert, nil)[0]
	require.False(t, res.OK)
	require.Equal(t, "read secret of header Authorization: open "+filepath.Join(dir, "token")+": no such file or directory", res.Error)
}

func TestTCPCheck(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer open.Close() //nolint:errcheck // test listener.
	go func() {
		for {
			c, err := open.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	require.NoError(t, closed.Close())
	_, openPort, err := net.SplitHostPort(open.Addr().String())
	require.NoError(t, err)

	cases := []struct {
		name, address, output, err string
	}{
		{"open", open.Addr().String(), open.Addr().String() + " accepts connections", ""},
		{"templated", "{{ .Labels.instance }}:" + openPort, open.Addr().String() + " accepts connections", ""},
		{"closed", closedAddr, "", "dial tcp " + closedAddr + ": connect: connection refused"},
		{"not allowed", "{{ .Labels.service }}:" + openPort, "", `host "checkout" is not in runbooks.allowed_hosts`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runOne(t, fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1]
  by_alertname:
    A: [{name: port, tcp_check: {address: '%s'}}]
`, c.address), nil)
			require.Equal(t, c.err == "", res.OK)
			require.Equal(t, c.output, res.Output)
			require.Equal(t, c.err, res.Error)
		})
	}
}

func TestDNSLookup(t *testing.T) {
	cases := []struct {
		name, step string
		ok         bool
		err        string
	}{
		{"resolves", `{host: localhost}`, true, ""},
		{"expected address", `{host: localhost, expect: 127.0.0.1}`, true, ""},
		{"unexpected address", `{host: localhost, expect: 10.9.9.9}`, false, "localhost does not resolve to 10.9.9.9"},
		{"not allowed", `{host: '{{ .Labels.service }}.exfil.example'}`, false, `host "checkout.exfil.example" is not in runbooks.allowed_hosts`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runOne(t, fmt.Sprintf(`
runbooks:
  allowed_hosts: [localhost]
  by_alertname:
    A: [{name: dns, dns_lookup: %s}]
`, c.step), nil)
			require.Equal(t, c.ok, res.OK, res.Error)
			require.Equal(t, c.err, res.Error)
			if c.ok {
				require.Contains(t, res.Output, "localhost → ")
				require.Contains(t, res.Output, "127.0.0.1")
			}
		})
	}
}

// fakeQuerier stands in for Prometheus: it answers instant queries from a
// table and records what it was asked.
type fakeQuerier struct {
	answers map[string]model.Value
	asked   chan string
}

func (f *fakeQuerier) Query(_ context.Context, q string, ts time.Time) (model.Value, error) {
	if f.asked != nil {
		f.asked <- q + " @ " + ts.Format(time.RFC3339)
	}
	v, ok := f.answers[q]
	if !ok {
		return nil, fmt.Errorf("bad_data: unknown query")
	}
	return v, nil
}

func (f *fakeQuerier) QueryRange(context.Context, string, time.Time, time.Time, time.Duration) (model.Value, error) {
	return nil, fmt.Errorf("no range queries here")
}

func TestPrometheusQuery(t *testing.T) {
	const rendered = `sum by (pod) (rate(http_requests_total{service="checkout",code=~"5.."}[5m]))`
	vector := model.Vector{
		{Metric: model.Metric{"pod": "checkout-0", "service": "checkout"}, Value: 0.012},
		{Metric: model.Metric{"pod": "checkout-1", "service": "checkout"}, Value: 0.079},
		{Metric: model.Metric{"pod": "checkout-2", "service": "checkout"}, Value: 0.003},
	}
	cases := []struct {
		name   string
		answer model.Value
		output string
		err    string
	}{
		{"vector", vector, `3 series; max 0.079 {pod="checkout-1"}`, ""},
		{"one series", vector[:1], `1 series; 0.012 {pod="checkout-0", service="checkout"}`, ""},
		{"empty", model.Vector{}, "no series", ""},
		{"scalar", &model.Scalar{Value: 0.5}, "0.5", ""},
		{"error", nil, "", "query " + rendered + ": bad_data: unknown query"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &fakeQuerier{answers: map[string]model.Value{}, asked: make(chan string, 1)}
			if c.answer != nil {
				q.answers[rendered] = c.answer
			}
			res := runOne(t, `
runbooks:
  by_alertname:
    A:
      - name: errors
        prometheus_query:
          query: 'sum by (pod) (rate(http_requests_total{service="{{ .Labels.service }}",code=~"5.."}[5m]))'
`, q)
			require.Equal(t, rendered+" @ 2026-11-28T10:00:00Z", <-q.asked)
			require.Equal(t, c.err == "", res.OK)
			require.Equal(t, c.output, res.Output)
			require.Equal(t, c.err, res.Error)
		})
	}

	res := runOne(t, "runbooks: {by_alertname: {A: [{name: q, prometheus_query: {query: up}}]}}", nil)
	require.Equal(t, "no Prometheus to query", res.Error)
}

func TestRunIsConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
	}))
	defer srv.Close()
	var steps strings.Builder
	for i := range 5 {
		fmt.Fprintf(&steps, "      - {name: s%d, http_check: {url: '%s/%d'}}\n", i, srv.URL, i)
	}
	cfg, err := parse(t, "runbooks:\n  allowed_hosts: [127.0.0.1]\n  by_alertname:\n    A:\n"+steps.String())
	require.NoError(t, err)
	r, err := NewRunner(cfg, nil)
	require.NoError(t, err)
	start := time.Now()
	res := r.Run(context.Background(), cfg.ByAlertname["A"], testAlert, nil)
	require.Less(t, time.Since(start), 600*time.Millisecond, "five 200ms steps at once")
	for i, x := range res {
		require.Equal(t, fmt.Sprintf("s%d", i), x.Step, "in the order of the steps")
		require.True(t, x.OK, x.Error)
	}
}
