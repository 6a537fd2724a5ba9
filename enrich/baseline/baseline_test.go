package baseline

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"

	"github.com/augur-sre/augur/enrich"
)

const query = `sum by (instance) (rate(http_requests_total[5m]))`

// fakeQuerier answers query with instance a following the weekly pattern
// and instance b flat at 10, over as much history as it has; now, a is
// current and b 10.
type fakeQuerier struct {
	has     time.Duration
	current float64
	err     error
	// The last range asked for.
	start, end time.Time
	step       time.Duration
}

func (f *fakeQuerier) Query(_ context.Context, q string, _ time.Time) (model.Value, error) {
	if q != query {
		return model.Vector{}, nil
	}
	return model.Vector{
		{Metric: model.Metric{"instance": "a"}, Value: model.SampleValue(f.current)},
		{Metric: model.Metric{"instance": "b"}, Value: 10},
	}, nil
}

func (f *fakeQuerier) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) (model.Value, error) {
	f.start, f.end, f.step = start, end, step
	if f.err != nil {
		return nil, f.err
	}
	if q != query {
		return model.Matrix{}, nil
	}
	lookback := min(end.Sub(start), f.has)
	return model.Matrix{
		{Metric: model.Metric{"instance": "a"}, Values: series(end, lookback, step, 5, truth)},
		{Metric: model.Metric{"instance": "b"}, Values: series(end, lookback, step, 0, constant(10))},
	}, nil
}

func alert(instance string) model.Alert {
	return model.Alert{
		Labels:       model.LabelSet{"alertname": "HighRequestRate", "instance": model.LabelValue(instance)},
		GeneratorURL: "http://prometheus:9090/graph?g0.expr=" + url.QueryEscape(query+" > 200") + "&g0.tab=1",
	}
}

func enricher(now time.Time) *Enricher {
	return New(config.DefaultEnrichConfig.Baseline, func() time.Time { return now })
}

func TestEnrich(t *testing.T) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	for _, tc := range []struct {
		name     string
		instance string
		current  float64
		line     string
	}{
		{"usual Monday morning", "a", 150, "150 is within the usual range for Mon 10:00 UTC"},
		{"spike", "a", 400, "σ above the usual for Mon 10:00 UTC (usual "},
		{"the flat series", "b", 0, "10 is within the usual range for Mon 10:00 UTC (9.7–10.3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &fakeQuerier{has: weeks4, current: tc.current}
			apply, err := enricher(now).Enrich(context.Background(), enrich.Input{Alert: alert(tc.instance), Querier: q})
			require.NoError(t, err)
			require.Equal(t, now.Add(-weeks4), q.start, "the default lookback")
			require.Equal(t, now, q.end)
			require.Equal(t, time.Hour, q.step, "the default step")
			var e enrich.Enrichment
			apply(&e)
			require.Contains(t, e.Lines[AnnotationBaseline], tc.line)
			require.NotNil(t, e.Baseline)
			require.Equal(t, HourOfWeek, e.Baseline.Season)
			require.LessOrEqual(t, e.Baseline.Lower, e.Baseline.Expected)
			require.LessOrEqual(t, e.Baseline.Expected, e.Baseline.Upper)
		})
	}
}

func TestEnrichSkipsWithAReason(t *testing.T) {
	now := monday.Add(10 * time.Hour)
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name  string
		alert model.Alert
		q     enrich.Querier
		want  string
	}{
		{"no Prometheus", alert("a"), nil, "no Prometheus to query"},
		{"no query", model.Alert{Labels: model.LabelSet{"alertname": "X"}}, &fakeQuerier{has: weeks4}, "nothing says what it watches"},
		{"one day", alert("a"), &fakeQuerier{has: 24 * time.Hour, current: 150}, "too little history for a baseline: 24 hours"},
		{"no series of the alert", alert("c"), &fakeQuerier{has: weeks4}, "history of " + query + ": none of its 2 series has the alert's labels"},
		{"Prometheus down", alert("a"), &fakeQuerier{err: down}, "read the history: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enricher(now).Enrich(context.Background(), enrich.Input{Alert: tc.alert, Querier: tc.q})
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := enricher(now).Enrich(context.Background(), enrich.Input{Alert: alert("a"), Querier: &fakeQuerier{err: down}})
	require.ErrorIs(t, err, down)
}
