package runbook

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich"
)

// enricherFixture is a web server with a fast and a slow endpoint, a
// closed port, and a runbooks section using them.
func enricherFixture(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
		_, _ = fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := closed.Addr().String()
	require.NoError(t, closed.Close())
	return fmt.Sprintf(`
runbooks:
  allowed_hosts: [127.0.0.1]
  by_alertname:
    HighErrorRate:
      - {name: health, http_check: {url: '%[1]s/health'}}
      - {name: db-port, tcp_check: {address: '%[2]s'}}
  by_cause:
    deployment_regression:
      - {name: health, http_check: {url: '%[1]s/other'}}
      - {name: slow-check, timeout: 2s, http_check: {url: '%[1]s/slow'}}
`, srv.URL, addr)
}

func newEnricher(t *testing.T, o Options) *Enricher {
	t.Helper()
	cfg, err := parse(t, enricherFixture(t))
	require.NoError(t, err)
	e, err := New(cfg, o)
	require.NoError(t, err)
	return e
}

func input(alertname string) enrich.Input {
	return enrich.Input{Alert: model.Alert{Labels: model.LabelSet{"alertname": model.LabelValue(alertname)}}, Incident: "inc-1"}
}

func TestStepsByAlertnameAndCause(t *testing.T) {
	cause := func(enrich.Input) string { return "deployment_regression" }
	cases := []struct {
		name      string
		alertname string
		causeOf   func(enrich.Input) string
		want      []string
	}{
		{"alertname", "HighErrorRate", nil, []string{"health", "db-port"}},
		{"alertname and cause, names not repeated", "HighErrorRate", cause, []string{"health", "db-port", "slow-check"}},
		{"cause only", "Other", cause, []string{"health", "slow-check"}},
		{"unknown cause", "Other", func(enrich.Input) string { return "" }, nil},
		{"nothing", "Other", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnricher(t, Options{CauseOf: c.causeOf})
			var names []string
			for _, s := range e.Steps(input(c.alertname)) {
				names = append(names, s.Name)
			}
			require.Equal(t, c.want, names)
		})
	}
}

func TestEnrich(t *testing.T) {
	e := newEnricher(t, Options{})
	require.Equal(t, "runbook", e.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	apply, err := e.Enrich(ctx, input("HighErrorRate"))
	require.NoError(t, err)
	var out enrich.Enrichment
	apply(&out)
	require.Regexp(t, `^1 of 2 checks ok; db-port: dial tcp 127\.0\.0\.1:\d+: connect: connection refused$`, out.Lines[AnnotationDiagnostics])

	d, err := e.Diagnose(ctx, input("HighErrorRate"))
	require.NoError(t, err)
	require.Len(t, d, 2)
	require.Equal(t, Diagnostic{Step: "health", OK: true, Output: "HTTP 200: ok"}, d[0])
	require.False(t, d[1].OK)

	apply, err = e.Enrich(ctx, input("Unknown"))
	require.NoError(t, err)
	require.Nil(t, apply, "no runbook, no part")
}

func TestDiagnosticJSON(t *testing.T) {
	b, err := json.Marshal([]Diagnostic{{Step: "health", OK: true, Output: "HTTP 200"}})
	require.NoError(t, err)
	require.JSONEq(t, `[{"step":"health","ok":true,"output":"HTTP 200","error":""}]`, string(b))
}

func TestLine(t *testing.T) {
	cases := []struct {
		name    string
		d       []Diagnostic
		running int
		want    string
	}{
		{"all ok", []Diagnostic{{Step: "a", OK: true}, {Step: "b", OK: true}}, 0, "2 of 2 checks ok"},
		{"failures", []Diagnostic{{Step: "a", Error: "status 503, want 2xx"}, {Step: "b", OK: true}, {Step: "c", Error: "x"}}, 0,
			"1 of 3 checks ok; a: status 503, want 2xx; 1 more failed"},
		{"running", []Diagnostic{{Step: "a", OK: true}}, 2, "1 of 3 checks ok; 2 still running"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Line(c.d, c.running), c.name)
	}
}

func TestSlowStepsFollowUp(t *testing.T) {
	type post struct {
		incident string
		d        []Diagnostic
	}
	followup := make(chan post, 1)
	e := newEnricher(t, Options{
		CauseOf:  func(enrich.Input) string { return "deployment_regression" },
		Followup: func(in enrich.Input, d []Diagnostic) { followup <- post{in.Incident, d} },
	})
	// The enrichment deadline is shorter than the slow step.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	apply, err := e.Enrich(ctx, input("HighErrorRate"))
	require.NoError(t, err)
	require.Less(t, time.Since(start), 150*time.Millisecond, "answers before the deadline")
	var out enrich.Enrichment
	apply(&out)
	require.Regexp(t, `^1 of 3 checks ok; db-port: .*; 1 still running$`, out.Lines[AnnotationDiagnostics])

	select {
	case p := <-followup:
		require.Equal(t, "inc-1", p.incident)
		require.Len(t, p.d, 3)
		require.Equal(t, Diagnostic{Step: "slow-check", OK: true, Output: "HTTP 200: ok"}, p.d[2], "not cut off by the enrichment deadline")
	case <-time.After(3 * time.Second):
		require.FailNow(t, "no follow-up")
	}
}

func TestSlowStepsWithoutFollowUpEndAtTheDeadline(t *testing.T) {
	e := newEnricher(t, Options{CauseOf: func(enrich.Input) string { return "deployment_regression" }})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	d, err := e.Diagnose(ctx, input("HighErrorRate"))
	require.NoError(t, err)
	require.Len(t, d, 3)
	require.Equal(t, "slow-check", d[2].Step)
	require.Contains(t, d[2].Error, "timed out after")
}
