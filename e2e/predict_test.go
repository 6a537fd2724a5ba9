package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPredictedAlertBeforeTheRuleFires runs the real Prometheus scraping a
// gauge that rises 2 a second, with an alerting rule at 120 (the truth:
// it breaches 60 s after the gauge starts). augur's watcher must post a
// predicted alert to the real Alertmanager before the rule fires, with a
// time to breach within 25 % of the truth, and the real alert, when it
// fires, must reach the receiver with augur's forecast.
func TestPredictedAlertBeforeTheRuleFires(t *testing.T) {
	const (
		rate      = 2.0
		threshold = 120.0
	)
	begin := time.Now()
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE e2e_queue_depth gauge\ne2e_queue_depth %g\n", rate*time.Since(begin).Seconds())
	}))
	t.Cleanup(exporter.Close)
	breachAt := begin.Add(time.Duration(threshold / rate * float64(time.Second)))

	hook := newSink(t, 0)
	promPort := freePort(t)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	// Alertmanager routes to augur, so augur must know its port first.
	augurPort := freePort(t)
	_, amURL := startAlertmanager(t, fmt.Sprintf("http://127.0.0.1:%d/api/v1/webhook/team", augurPort))
	a := startAugurOn(t, augurPort, fmt.Sprintf(`
receivers:
  - name: team
    webhook_configs:
      - url: %s
prometheus:
  url: %s
alertmanager:
  url: %s
watcher:
  enabled: true
  interval: 2s
  horizon: 2m
  lookback: 2m
  step: 1s
  min_probability: 0.8
enrich:
  deadline: 5s
  forecast:
    horizon: 2m
    lookback: 2m
    step: 1s
`, hook.srv.URL, promURL, amURL))

	dir := t.TempDir()
	rules := writeFile(t, dir, "rules.yml", fmt.Sprintf(`
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: E2EQueueBacklog
        expr: e2e_queue_depth > %g
        labels:
          severity: warning
          service: queue
`, threshold))
	startPrometheus(t, dir, promPort, fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: e2e
    static_configs:
      - targets: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
`, rules, strings.TrimPrefix(exporter.URL, "http://"), strings.TrimPrefix(amURL, "http://")))

	// The predicted alert, before the real one.
	type seen struct {
		startsAt    time.Time
		annotations map[string]string
	}
	find := func(predicted bool) (seen, bool) {
		messages, _, _ := hook.snapshot()
		for _, m := range messages {
			for _, al := range m.Alerts {
				if al.Status == "firing" && al.Labels["alertname"] == "E2EQueueBacklog" && (al.Labels["augur_predicted"] == "true") == predicted {
					return seen{startsAt: al.StartsAt, annotations: al.Annotations}, true
				}
			}
		}
		return seen{}, false
	}
	var prediction seen
	eventually(t, 90*time.Second, func() bool {
		var ok bool
		prediction, ok = find(true)
		return ok
	}, "no predicted E2EQueueBacklog reached the receiver")
	_, fired := find(false)
	require.False(t, fired, "the real alert arrived before the predicted one")
	require.True(t, time.Now().Before(breachAt), "the prediction arrived after the breach")

	ttb, err := strconv.ParseFloat(prediction.annotations["augur_time_to_breach_seconds"], 64)
	require.NoError(t, err, "annotations: %v", prediction.annotations)
	truth := breachAt.Sub(prediction.startsAt).Seconds()
	t.Logf("predicted %.0fs before the breach, time to breach %.0fs (truth %.0fs, error %.0f%%): %s",
		truth, ttb, truth, 100*math.Abs(ttb-truth)/truth, prediction.annotations["augur_forecast"])
	require.InDelta(t, truth, ttb, 0.25*truth, "time to breach within 25%% of the truth")

	// The real alert, forwarded with its forecast.
	var real seen
	eventually(t, 90*time.Second, func() bool {
		var ok bool
		real, ok = find(false)
		return ok
	}, "the real E2EQueueBacklog did not reach the receiver")
	var enrichment struct {
		Forecast *struct {
			Query      string  `json:"query"`
			Threshold  float64 `json:"threshold"`
			Comparator string  `json:"comparator"`
			Trend      string  `json:"trend"`
		} `json:"forecast"`
		Skipped map[string]string `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(real.annotations["augur_enrichment"]), &enrichment))
	require.NotNil(t, enrichment.Forecast, "no forecast part; skipped: %v", enrichment.Skipped)
	require.Equal(t, "e2e_queue_depth", enrichment.Forecast.Query)
	require.Equal(t, threshold, enrichment.Forecast.Threshold)
	require.Equal(t, "increasing", enrichment.Forecast.Trend)
	require.NotEmpty(t, real.annotations["augur_forecast"])

	resp, err := http.Get(a.url("/api/v1/predictions"))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
