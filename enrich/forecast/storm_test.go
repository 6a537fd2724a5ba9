package forecast_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/forecast"
	"github.com/augur-sre/augur/querier"
)

// An alert storm must not become a query storm: 10,000 alerts of 5 rules
// over 200 services, enriched 64 at a time through the real querier,
// send Prometheus a handful of range queries, not one per alert.
func TestAlertStormIsNotAQueryStorm(t *testing.T) {
	const (
		services = 200
		rules    = 5
		alerts   = 10000
	)
	var requests atomic.Int64
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		require.NoError(t, r.ParseForm())
		secs, err := strconv.ParseFloat(r.Form.Get("start"), 64)
		require.NoError(t, err)
		start := time.Unix(int64(secs), 0)
		// Every service's series, rising.
		m := model.Matrix{}
		for svc := range services {
			ss := &model.SampleStream{Metric: model.Metric{"service": model.LabelValue(fmt.Sprintf("svc-%d", svc))}}
			for i := range 120 {
				ss.Values = append(ss.Values, model.SamplePair{
					Timestamp: model.TimeFromUnixNano(start.Add(time.Duration(i) * time.Minute).UnixNano()),
					Value:     model.SampleValue(0.01 + 0.0001*float64(i)),
				})
			}
			m = append(m, ss)
		}
		w.Header().Set("Content-Type", "application/json")
		require.NoError(t, json.NewEncoder(w).Encode(map[string]any{
			"status": "success",
			"data":   map[string]any{"resultType": "matrix", "result": m},
		}))
	}))
	t.Cleanup(prom.Close)

	cfg, err := config.Load(fmt.Appendf(nil, "prometheus: {url: %s}\n", prom.URL), t.TempDir())
	require.NoError(t, err)
	q, err := querier.New(cfg.Prometheus, querier.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	e := forecast.New(config.ForecastConfig{Enabled: true, Horizon: model.Duration(30 * time.Minute),
		Lookback: model.Duration(2 * time.Hour), Step: model.Duration(time.Minute), Season: model.Duration(24 * time.Hour)},
		func() time.Time { return now })

	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		forecast atomic.Int64
	)
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < alerts; i = int(next.Add(1)) - 1 {
				rule := i % rules
				expr := fmt.Sprintf(`sum by (service) (rate(errors_total{rule="%d"}[5m])) > 0.05`, rule)
				a := model.Alert{
					Labels:       model.LabelSet{"alertname": model.LabelValue(fmt.Sprintf("Rule%d", rule)), "service": model.LabelValue(fmt.Sprintf("svc-%d", i%services))},
					GeneratorURL: "http://prometheus:9090/graph?g0.expr=" + url.QueryEscape(expr),
				}
				apply, err := e.Enrich(context.Background(), enrich.Input{Alert: a, Querier: q})
				if err == nil {
					var out enrich.Enrichment
					apply(&out)
					if out.Forecast != nil {
						forecast.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d alerts of %d rules over %d services: %d queries sent to Prometheus, %d alerts forecast", alerts, rules, services, requests.Load(), forecast.Load())
	require.Equal(t, int64(alerts), forecast.Load(), "every alert forecast")
	require.LessOrEqual(t, requests.Load(), int64(rules), "one range query per rule")
}
