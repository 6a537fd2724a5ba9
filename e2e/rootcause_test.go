package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRootCauseOfADeployRegression runs the real Prometheus scraping a
// checkout service whose error ratio steps from 0.5% to 10% a minute in,
// right after CI posted its deploy to augur's changes API. An alert on
// checkout then goes through the real Alertmanager and augur, and must
// reach the receiver naming deployment_regression, with the deploy as its
// change, a step in the error rate, and checkout as the origin.
func TestRootCauseOfADeployRegression(t *testing.T) {
	begin := time.Now()
	const stepAfter = 60 * time.Second
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := time.Since(begin).Seconds()
		errs := 0.5 * s // 0.5 of 100 a second
		if d := time.Since(begin) - stepAfter; d > 0 {
			errs = 0.5*stepAfter.Seconds() + 10*d.Seconds()
		}
		fmt.Fprintf(w, "# TYPE http_requests_total counter\n"+
			"http_requests_total{service=\"checkout\",code=\"200\"} %g\n"+
			"http_requests_total{service=\"checkout\",code=\"500\"} %g\n"+
			"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total{service=\"checkout\"} %g\n",
			100*s-errs, errs, 0.3*s)
	}))
	t.Cleanup(exporter.Close)

	dir := t.TempDir()
	promPort := freePort(t)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	startPrometheus(t, dir, promPort, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: checkout
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(exporter.URL, "http://")))

	hook := newSink(t, 0)
	augurPort := freePort(t)
	_, amURL := startAlertmanager(t, fmt.Sprintf("http://127.0.0.1:%d/api/v1/webhook/team", augurPort))
	a := startAugurOn(t, augurPort, fmt.Sprintf(`
receivers:
  - name: team
    webhook_configs:
      - url: %s
prometheus:
  url: %s
enrich:
  deadline: 5s
  forecast: {enabled: false}
  baseline: {enabled: false}
  rootcause:
    # From 15s after the exporter started: the first rates of a new
    # series ramp up from nothing.
    lookback: 80s
    step: 2s
# Short rate windows: the test has minutes, not hours.
signals:
  request_rate: sum(rate(http_requests_total{service="{{ .service }}"}[10s]))
  error_rate: sum(rate(http_requests_total{service="{{ .service }}",code=~"5.."}[10s])) / sum(rate(http_requests_total{service="{{ .service }}"}[10s]))
  cpu: sum(rate(process_cpu_seconds_total{service="{{ .service }}"}[10s]))
`, hook.srv.URL, promURL))

	// CI posts its deploy just before the step.
	time.Sleep(time.Until(begin.Add(stepAfter - 5*time.Second)))
	resp, err := http.Post(a.url("/api/v1/changes"), "application/json",
		bytes.NewReader([]byte(`{"service":"checkout","type":"deployment","description":"checkout v2.14","source":"e2e"}`)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, resp.Body.Close())

	// The alert, half a minute into the errors.
	time.Sleep(time.Until(begin.Add(stepAfter + 35*time.Second)))
	require.NoError(t, postAlertsOn(context.Background(), amURL, "checkout", "HighErrorRate"))

	var (
		e struct {
			RootCauses []struct {
				Cause      string   `json:"cause"`
				Confidence float64  `json:"confidence"`
				Service    string   `json:"service"`
				Evidence   []string `json:"evidence"`
				Changes    []struct {
					Type        string  `json:"type"`
					Description string  `json:"description"`
					Correlation float64 `json:"correlation"`
				} `json:"changes"`
			} `json:"root_causes"`
			Signature map[string]string `json:"signature"`
			Topology  *struct {
				Origin string `json:"origin"`
			} `json:"topology"`
			Skipped map[string]string `json:"skipped"`
		}
		annotations map[string]string
	)
	eventually(t, 60*time.Second, func() bool {
		messages, _, _ := hook.snapshot()
		for _, m := range messages {
			for _, al := range m.Alerts {
				if al.Labels["alertname"] == "HighErrorRate" {
					annotations = al.Annotations
					return json.Unmarshal([]byte(al.Annotations["augur_enrichment"]), &e) == nil
				}
			}
		}
		return false
	}, "the alert did not reach the receiver")
	t.Logf("augur_root_cause: %s; augur_summary: %s; signature %v", annotations["augur_root_cause"], annotations["augur_summary"], e.Signature)
	require.Empty(t, e.Skipped["rootcause"], "skipped: %v", e.Skipped)
	require.Contains(t, []string{"step_change", "sudden_increase"}, e.Signature["error_rate"])
	require.Equal(t, "stable", e.Signature["request_rate"])
	require.NotEmpty(t, e.RootCauses)
	top := e.RootCauses[0]
	require.Equal(t, "deployment_regression", top.Cause, "root causes: %+v", e.RootCauses)
	require.Equal(t, "checkout", top.Service)
	require.GreaterOrEqual(t, top.Confidence, 0.8)
	require.NotEmpty(t, top.Changes)
	require.Equal(t, "checkout v2.14", top.Changes[0].Description)
	require.NotNil(t, e.Topology)
	require.Equal(t, "checkout", e.Topology.Origin)
	require.Contains(t, annotations["augur_root_cause"], "deployment_regression")
	require.Contains(t, annotations["augur_summary"], "likely deployment_regression")
}
