package forecast

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/expr"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// rising answers range queries of one query with two series, one rising
// 0.001 a minute from 0.02 an hour ago, one flat.
type rising struct {
	query string
}

func (r *rising) Query(context.Context, string, time.Time) (model.Value, error) {
	return &model.Scalar{Value: 0.05}, nil
}

func (r *rising) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) (model.Value, error) {
	if q != r.query {
		return model.Matrix{}, nil
	}
	series := func(instance string, slope float64) *model.SampleStream {
		s := &model.SampleStream{Metric: model.Metric{"instance": model.LabelValue(instance), "job": "api"}}
		for ts := start; !ts.After(end); ts = ts.Add(step) {
			v := 0.02 + slope*ts.Sub(end.Add(-time.Hour)).Minutes()
			s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(ts.UnixNano()), Value: model.SampleValue(v)})
		}
		return s
	}
	return model.Matrix{series("a", 0.001), series("b", 0)}, nil
}

func alert(expr string, instance string) model.Alert {
	return model.Alert{
		Labels:       model.LabelSet{"alertname": "HighErrorRate", "instance": model.LabelValue(instance), "job": "api", "severity": "page"},
		GeneratorURL: "http://prometheus:9090/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1",
	}
}

func enricher() *Enricher {
	return New(config.ForecastConfig{Enabled: true, Horizon: model.Duration(30 * time.Minute), Lookback: model.Duration(time.Hour),
		Step: model.Duration(time.Minute), Season: model.Duration(24 * time.Hour)}, func() time.Time { return t0 })
}

func TestForecastsTheAlertsSeries(t *testing.T) {
	q := &rising{query: `rate(errors_total[5m])`}
	apply, err := enricher().Enrich(context.Background(), enrich.Input{Alert: alert(`rate(errors_total[5m]) > 0.05`, "a"), Querier: q})
	require.NoError(t, err)
	var e enrich.Enrichment
	apply(&e)
	f := e.Forecast
	require.NotNil(t, f)
	require.Equal(t, `rate(errors_total[5m])`, f.Query)
	require.Equal(t, ">", f.Comparator)
	require.Equal(t, 0.05, f.Threshold)
	require.InDelta(t, 0.08, f.Current, 1e-9, "0.02 + 60 minutes × 0.001")
	require.NotNil(t, f.TimeToBreachSeconds)
	require.Zero(t, *f.TimeToBreachSeconds, "0.08 is past 0.05 now")
	require.Equal(t, 1.0, f.ProbabilityOfBreach)
	require.Contains(t, e.Lines[AnnotationForecast], "past 0.05 now")
	require.Equal(t, "increasing", f.Trend)

	// The same series against a higher threshold: 0.1 is 20 minutes away.
	apply, err = enricher().Enrich(context.Background(), enrich.Input{Alert: alert(`rate(errors_total[5m]) > 0.1`, "a"), Querier: q})
	require.NoError(t, err)
	e = enrich.Enrichment{}
	apply(&e)
	require.NotNil(t, e.Forecast.TimeToBreachSeconds)
	require.InDelta(t, 20*60, *e.Forecast.TimeToBreachSeconds, 60)
	require.Greater(t, e.Forecast.ProbabilityOfBreach, 0.9)
	require.Equal(t, "HighErrorRate 0.08, rising 0.001/min, crosses 0.1 in ~20m (p=1.00)", e.Lines[AnnotationForecast])

	// Instance b is flat.
	apply, err = enricher().Enrich(context.Background(), enrich.Input{Alert: alert(`rate(errors_total[5m]) > 0.1`, "b"), Querier: q})
	require.NoError(t, err)
	e = enrich.Enrichment{}
	apply(&e)
	require.Nil(t, e.Forecast.TimeToBreachSeconds)
	require.Equal(t, "stable", e.Forecast.Trend)
	require.Contains(t, e.Lines[AnnotationForecast], "does not cross 0.1 within 30m")
}

func TestSkipsWithAReason(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alert model.Alert
		want  string
	}{
		{"no expression", model.Alert{Labels: model.LabelSet{"alertname": "X"}}, "nothing says what it watches"},
		{"absent", alert(`absent(up{job="api"})`, "a"), "absent"},
		{"no matching series", alert(`rate(errors_total[5m]) > 0.1`, "c"), "none of its 2 series has the alert's labels"},
		{"bad threshold annotation", model.Alert{Annotations: model.LabelSet{expr.AnnotationQuery: "x", expr.AnnotationThreshold: "high"}}, `annotation augur_threshold: "high" is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enricher().Enrich(context.Background(), enrich.Input{Alert: tc.alert, Querier: &rising{query: `rate(errors_total[5m])`}})
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := enricher().Enrich(context.Background(), enrich.Input{Alert: alert("x > 1", "a")})
	require.ErrorContains(t, err, "no Prometheus")
}

// Annotations on the rule override what the expression says.
func TestAnnotationsOverride(t *testing.T) {
	a := alert(`something_else > 3`, "a")
	a.Annotations = model.LabelSet{expr.AnnotationQuery: `rate(errors_total[5m])`, expr.AnnotationThreshold: "0.1"}
	apply, err := enricher().Enrich(context.Background(), enrich.Input{Alert: a, Querier: &rising{query: `rate(errors_total[5m])`}})
	require.NoError(t, err)
	var e enrich.Enrichment
	apply(&e)
	require.Equal(t, 0.1, e.Forecast.Threshold)
	require.NotNil(t, e.Forecast.TimeToBreachSeconds)
}

// rules adds Prometheus's rules to a querier.
type rules struct {
	*rising
	expr string
}

func (r rules) RuleExpr(context.Context, model.Alert) (string, error) { return r.expr, nil }

// Without a generatorURL, the expression comes from the alert's rule.
func TestConditionFromTheRule(t *testing.T) {
	a := alert("", "a")
	a.GeneratorURL = ""
	q := rules{rising: &rising{query: `rate(errors_total[5m])`}, expr: `rate(errors_total[5m]) > 0.1`}
	apply, err := enricher().Enrich(context.Background(), enrich.Input{Alert: a, Querier: q})
	require.NoError(t, err)
	var e enrich.Enrichment
	apply(&e)
	require.Equal(t, 0.1, e.Forecast.Threshold)
}
