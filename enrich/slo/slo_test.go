package slo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
)

// fakeQuerier answers instant queries from a table; anything else is an
// empty vector.
type fakeQuerier struct {
	values  map[string]float64
	queries []string
}

func (f *fakeQuerier) Query(_ context.Context, q string, _ time.Time) (model.Value, error) {
	f.queries = append(f.queries, q)
	if v, ok := f.values[q]; ok {
		return model.Vector{{Metric: model.Metric{}, Value: model.SampleValue(v)}}, nil
	}
	return model.Vector{}, nil
}

func (f *fakeQuerier) QueryRange(context.Context, string, time.Time, time.Time, time.Duration) (model.Value, error) {
	return nil, fmt.Errorf("no range queries here")
}

const sloConfig = `
slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
`

func load(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Load([]byte(sloConfig+extra), t.TempDir())
	require.NoError(t, err)
	return cfg
}

func TestBurnFromRecordingRules(t *testing.T) {
	cfg := load(t, "")
	s := &cfg.SLOs[0]
	// An error ratio of 2.13% over 1h is a burn of 21.3 against 0.1%.
	ratios := map[time.Duration]float64{
		5 * time.Minute: 0.0301, 30 * time.Minute: 0.012, time.Hour: 0.0213, 2 * time.Hour: 0.015,
		6 * time.Hour: 0.0081, 24 * time.Hour: 0.002, 72 * time.Hour: 0.0009, 30 * 24 * time.Hour: 0.00038,
	}
	q := &fakeQuerier{values: map[string]float64{}}
	for w, r := range ratios {
		query, err := s.RecordedErrorRatioQuery(cfg.Enrich.SLO.Naming, w)
		require.NoError(t, err)
		q.values[query] = r
	}
	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	e, err := New(cfg, func() time.Time { return now })
	require.NoError(t, err)
	apply, err := e.Enrich(context.Background(), enrich.Input{Alert: model.Alert{Labels: model.LabelSet{"service": "checkout"}}, Querier: q})
	require.NoError(t, err)
	var out enrich.Enrichment
	apply(&out)
	require.Len(t, out.SLO, 1)
	p := out.SLO[0]
	require.Equal(t, "checkout-availability", p.Name)
	require.InDelta(t, 21.3, p.BurnRates["1h"], 1e-9)
	require.InDelta(t, 8.1, p.BurnRates["6h"], 1e-9)
	require.InDelta(t, 30.1, p.BurnRates["5m"], 1e-9)
	require.Len(t, p.BurnRates, 8)
	require.InDelta(t, 0.62, *p.BudgetRemaining, 1e-9)
	// 62% of 30 days at 21.3 times the sustainable rate.
	require.InDelta(t, 0.62*30*24*3600/21.3, *p.TimeToExhaustionSeconds, 1)
	require.Equal(t, SeverityCritical, p.Severity, "14.4x over 1h and 5m")
	require.Equal(t, "checkout-availability: burn 21.3x (1h) / 8.1x (6h), budget 62% left, exhausted in ~21h", out.Lines[AnnotationSLO])
	for _, query := range q.queries {
		require.True(t, strings.HasPrefix(query, "slo:sli_error:ratio_rate"), "read from the recording rules only: %s", query)
	}
}

func TestBurnFromTheSLOsOwnQueries(t *testing.T) {
	cfg := load(t, "enrich:\n  slo:\n    recording_rules: false\n")
	s := &cfg.SLOs[0]
	q := &fakeQuerier{values: map[string]float64{}}
	for _, w := range Windows(s) {
		query, err := s.ErrorRatioQuery(w)
		require.NoError(t, err)
		q.values[query] = 0.004 // 4x everywhere: the ticket tier's 3x over 1d and 2h
	}
	st, err := Evaluate(context.Background(), q, s, cfg.Enrich.SLO.Naming, false, time.Now())
	require.NoError(t, err)
	require.Equal(t, SeverityMedium, st.Severity())
	left, ok := st.BudgetRemaining()
	require.True(t, ok)
	require.InDelta(t, -3, left, 1e-9, "4x over the whole period: three budgets overspent")
	_, ok = st.TimeToExhaustion()
	require.False(t, ok, "nothing left to exhaust")
	require.Equal(t, "checkout-availability: burn 4x (1h) / 4x (6h), budget -300% left (exhausted)", st.Line())
}

func TestNoTrafficAndUncoveredAlerts(t *testing.T) {
	cfg := load(t, "")
	e, err := New(cfg, nil)
	require.NoError(t, err)
	q := &fakeQuerier{values: map[string]float64{}}
	apply, err := e.Enrich(context.Background(), enrich.Input{Alert: model.Alert{Labels: model.LabelSet{"service": "search"}}, Querier: q})
	require.NoError(t, err)
	var out enrich.Enrichment
	apply(&out)
	require.Empty(t, out.SLO, "search has no SLO")
	require.Empty(t, q.queries)

	apply, err = e.Enrich(context.Background(), enrich.Input{Alert: model.Alert{Labels: model.LabelSet{"service": "checkout"}}, Querier: q})
	require.NoError(t, err)
	apply(&out)
	require.Len(t, out.SLO, 1)
	require.Empty(t, out.SLO[0].BurnRates)
	require.Nil(t, out.SLO[0].BudgetRemaining)
	require.Equal(t, SeverityLow, out.SLO[0].Severity)
	require.Equal(t, "checkout-availability: no traffic in the last 6h", out.Lines[AnnotationSLO])
}
