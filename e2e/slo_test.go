package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich/slo"
	spec "github.com/augur-sre/augur/rules/slo"
)

// TestSLOBurnEqualsTheGeneratedRules loads the rules `augur rules
// generate` writes for examples/slos/checkout.sloth.yml into the real
// Prometheus, which scrapes request counters the test serves (2% of them
// errors), and checks that the burn rates and budget the slo enricher
// computes equal, to 1e-9, what the generated recording rules recorded at
// the same evaluation: read through the recording rules, and, for the 5m
// window, from the SLO's own queries. Then an alert on checkout goes
// through Alertmanager and augur, and reaches the receiver with its slo
// part and the results of its runbook's read-only steps, run against the
// real Prometheus (a query), the exporter (an HTTP check) and its port.
func TestSLOBurnEqualsTheGeneratedRules(t *testing.T) {
	begin := time.Now()
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := time.Since(begin).Seconds()
		fmt.Fprintf(w, "# TYPE http_requests_total counter\n"+
			"http_requests_total{service=\"checkout\",code=\"200\"} %g\n"+
			"http_requests_total{service=\"checkout\",code=\"500\"} %g\n"+
			"payment_provider_requests_total{service=\"checkout\",outcome=\"ok\"} %g\n"+
			"payment_provider_requests_total{service=\"checkout\",outcome=\"error\"} %g\n", 98*s, 2*s, 99*s, s*s/100)
	}))
	t.Cleanup(exporter.Close)

	dir := t.TempDir()
	specFile, err := filepath.Abs("../examples/slos/checkout.sloth.yml")
	require.NoError(t, err)
	out := filepath.Join(dir, "rules")
	// Groups every 5s, scrapes every 1s: a group's evaluation is over long
	// before the next group reads what it recorded.
	gen := exec.Command(augurBin, "rules", "generate", "--slo.file="+specFile, "--out="+out, "--interval=5s")
	gen.Stderr = os.Stderr
	require.NoError(t, gen.Run())

	promPort := freePort(t)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	startPrometheus(t, dir, promPort, fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: checkout
    static_configs:
      - targets: [%q]
`, filepath.Join(out, "*.rules.yml"), strings.TrimPrefix(exporter.URL, "http://")))

	data, err := os.ReadFile(specFile)
	require.NoError(t, err)
	slos, err := spec.Parse(specFile, data)
	require.NoError(t, err)
	// Queries at exactly the evaluation time: augur's querier aligns
	// instant queries to 15s for its cache.
	q := exactQuerier{url: promURL}
	ctx := context.Background()

	for i := range slos {
		s := &slos[i]
		t.Run(s.Name, func(t *testing.T) {
			sel := s.Selector(spec.NamingSloth)
			names := spec.NamingSloth.Names()
			// Recent evaluations of the SLI group and of the metadata
			// group, a few back, when every scrape before them was in.
			evaluation := func(series string) time.Time {
				var at time.Time
				eventually(t, 90*time.Second, func() bool {
					samples := recentSamples(t, promURL, series+sel)
					if len(samples) < 4 {
						return false
					}
					at = samples[len(samples)-2].Timestamp.Time()
					return true
				}, "no %s%s recorded", series, sel)
				return at
			}
			recorded := func(name string, at time.Time) float64 {
				v, err := q.Query(ctx, name+sel, at)
				require.NoError(t, err)
				vec := v.(model.Vector)
				require.Len(t, vec, 1, name)
				return float64(vec[0].Value)
			}

			// The error ratios, read through the recording rules and, where
			// the rule is the SLO's own query (the windows of a raw SLI but
			// the period, the 5m window of an events SLI), computed from
			// the queries.
			at := evaluation(names.ErrorRatio(5 * time.Minute))
			st, err := slo.Evaluate(ctx, q, s, spec.NamingSloth, true, at)
			require.NoError(t, err)
			raw, err := slo.Evaluate(ctx, q, s, spec.NamingSloth, false, at)
			require.NoError(t, err)
			direct := 0
			for _, w := range slo.Windows(s) {
				want := recorded(names.ErrorRatio(w), at)
				ratio, ok := st.Ratios[w]
				require.True(t, ok && st.Recorded[w], "window %s", model.Duration(w))
				requireClose(t, want, ratio, "error ratio "+model.Duration(w).String())
				// The period's ratio of a raw SLI is, as Sloth records it,
				// the mean of the 5m ratios; the SLO's query over the period
				// weighs them by traffic.
				if (s.SLI.Raw != nil && w != s.Period()) || w == spec.BaseWindow {
					requireClose(t, want, raw.Ratios[w], "error ratio "+model.Duration(w).String()+" from the SLO's queries")
					direct++
				}
			}

			// The burn rates and the budget, as the metadata rules record
			// them at one of their evaluations.
			at = evaluation(names.CurrentBurnRate())
			st, err = slo.Evaluate(ctx, q, s, spec.NamingSloth, true, at)
			require.NoError(t, err)
			burn5m, ok := st.Burn(5 * time.Minute)
			require.True(t, ok)
			requireClose(t, recorded(names.CurrentBurnRate(), at), burn5m, "current burn rate (5m)")
			burnPeriod, ok := st.Burn(s.Period())
			require.True(t, ok)
			requireClose(t, recorded(names.PeriodBurnRate(), at), burnPeriod, "period burn rate")
			left, ok := st.BudgetRemaining()
			require.True(t, ok)
			requireClose(t, recorded(names.BudgetRemaining(), at), left, "budget remaining")
			t.Logf("at %s: burn %.6gx (5m), %.6gx (period), budget left %.6g, %d error ratios (%d also from the SLO's queries): equal to the recorded rules to 1e-9",
				at.Format(time.RFC3339), burn5m, burnPeriod, left, len(slo.Windows(s)), direct)
		})
	}

	// The same SLO on an alert that goes through augur.
	hook := newSink(t, 0)
	augurPort := freePort(t)
	_, amURL := startAlertmanager(t, fmt.Sprintf("http://127.0.0.1:%d/api/v1/webhook/team", augurPort))
	startAugurOn(t, augurPort, fmt.Sprintf(`
receivers:
  - name: team
    webhook_configs:
      - url: %s
prometheus:
  url: %s
slo_files: [%q]
enrich:
  deadline: 5s
runbooks:
  allowed_hosts: [127.0.0.1]
  by_alertname:
    CheckoutHighErrorRate:
      - name: server-errors
        prometheus_query:
          query: 'sum by (code) (rate(http_requests_total{service="{{ .Labels.service }}",code=~"5.."}[1m]))'
      - name: metrics-endpoint
        http_check:
          url: '%s/metrics'
          expect_body: http_requests_total
      - name: exporter-port
        tcp_check: {address: '%s'}
`, hook.srv.URL, promURL, specFile, exporter.URL, strings.TrimPrefix(exporter.URL, "http://")))
	require.NoError(t, postAlertsOn(ctx, amURL, "checkout", "CheckoutHighErrorRate"))
	type sloPart struct {
		Name      string             `json:"name"`
		BurnRates map[string]float64 `json:"burn_rates"`
		Severity  string             `json:"severity"`
	}
	var e struct {
		SLO         []sloPart        `json:"slo"`
		Diagnostics []map[string]any `json:"diagnostics"`
	}
	var text string
	eventually(t, 60*time.Second, func() bool {
		messages, _, _ := hook.snapshot()
		for _, m := range messages {
			for _, a := range m.Alerts {
				if json.Unmarshal([]byte(a.Annotations["augur_enrichment"]), &e) == nil && len(e.SLO) > 0 {
					text = a.Annotations["augur_diagnostics"]
					return true
				}
			}
		}
		return false
	}, "no alert with an slo part reached the receiver")
	part := e.SLO
	require.Len(t, part, 2, "both SLOs of checkout")
	require.Equal(t, "requests-availability", part[0].Name)
	require.InDelta(t, 20, part[0].BurnRates["5m"], 0.5, "2%% errors against a 0.1%% budget")
	require.Equal(t, "critical", part[0].Severity)

	// The runbook's steps ran against the real Prometheus and the
	// exporter, and their results came with the alert.
	require.Len(t, e.Diagnostics, 3, "diagnostics: %v", e.Diagnostics)
	byStep := map[string]map[string]any{}
	for _, d := range e.Diagnostics {
		byStep[d["step"].(string)] = d
	}
	for _, step := range []string{"server-errors", "metrics-endpoint", "exporter-port"} {
		require.Equal(t, true, byStep[step]["ok"], "%s: %v", step, byStep[step])
	}
	require.Contains(t, byStep["server-errors"]["output"], `code="500"`)
	require.Contains(t, text, "3 of 3 checks ok")
	t.Logf("augur_diagnostics: %s", text)
}

// exactQuerier runs instant queries at the time given, to the second's
// fraction, through Prometheus's HTTP API.
type exactQuerier struct {
	url string
}

func (q exactQuerier) Query(ctx context.Context, query string, ts time.Time) (model.Value, error) {
	form := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(ts.UnixNano())/1e9, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.url+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result model.Vector `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", query, body.Error)
	}
	return body.Data.Result, nil
}

func (q exactQuerier) QueryRange(context.Context, string, time.Time, time.Time, time.Duration) (model.Value, error) {
	return nil, fmt.Errorf("the slo enricher runs no range queries")
}

// requireClose checks two numbers agree to a relative 1e-9.
func requireClose(t *testing.T, want, got float64, what string) {
	t.Helper()
	require.False(t, math.IsNaN(want) || math.IsNaN(got), "%s: %v vs %v", what, want, got)
	require.InDelta(t, 0, (got-want)/math.Max(math.Abs(want), 1e-12), 1e-9, "%s: enricher %v, recorded %v", what, got, want)
}

// recentSamples returns the samples, with the times they were recorded
// at, of the one series a selector matches over the last 40s.
func recentSamples(t *testing.T, promURL, selector string) []model.SamplePair {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/query?query=%s", promURL, url.QueryEscape(selector+"[40s]")))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result model.Matrix `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	if len(body.Data.Result) != 1 {
		return nil
	}
	return body.Data.Result[0].Values
}
