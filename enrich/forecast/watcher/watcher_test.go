package watcher

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich/expr"
	"github.com/augur-sre/augur/querier"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// fakeSource serves rules and, for each query, series that rise at a
// known rate: value = base + slope × minutes since the start of the range.
type fakeSource struct {
	rules  []querier.AlertingRule
	series map[string][]fakeSeries
}

type fakeSeries struct {
	labels      model.Metric
	base, slope float64 // slope per minute
}

func (f *fakeSource) Rules(context.Context) ([]querier.AlertingRule, error) { return f.rules, nil }

func (f *fakeSource) QueryRange(_ context.Context, query string, start, end time.Time, step time.Duration) (model.Value, error) {
	var m model.Matrix
	for _, s := range f.series[query] {
		ss := &model.SampleStream{Metric: s.labels}
		for ts := start; !ts.After(end); ts = ts.Add(step) {
			v := s.base + s.slope*ts.Sub(start).Minutes()
			ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(ts.UnixNano()), Value: model.SampleValue(v)})
		}
		m = append(m, ss)
	}
	return m, nil
}

// fakeAlertmanager records what is posted to /api/v2/alerts.
type fakeAlertmanager struct {
	mu    sync.Mutex
	posts [][]Alert
}

func (am *fakeAlertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var alerts []Alert
	if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	am.mu.Lock()
	am.posts = append(am.posts, alerts)
	am.mu.Unlock()
}

func (am *fakeAlertmanager) last() []Alert {
	am.mu.Lock()
	defer am.mu.Unlock()
	if len(am.posts) == 0 {
		return nil
	}
	return am.posts[len(am.posts)-1]
}

func newWatcher(t *testing.T, src Source, now *time.Time) (*Watcher, *fakeAlertmanager) {
	am := &fakeAlertmanager{}
	srv := httptest.NewServer(am)
	t.Cleanup(srv.Close)
	cfg, err := config.Load(fmt.Appendf(nil, "alertmanager: {url: %s}\nwatcher: {enabled: true, interval: 1m, horizon: 30m, lookback: 1h, step: 1m}\n", srv.URL), t.TempDir())
	require.NoError(t, err)
	w := New(NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), func() time.Time { return *now })
	require.NoError(t, w.ApplyConfig(cfg, src))
	return w, am
}

func TestPredictsBeforeTheRuleFires(t *testing.T) {
	const query = `sum by (instance) (queue_depth)`
	src := &fakeSource{
		rules: []querier.AlertingRule{{
			Name: "QueueBacklog", Query: query + " > 100", For: 5 * time.Minute,
			Labels: model.LabelSet{"severity": "warning"},
		}},
		series: map[string][]fakeSeries{query: {
			// The range is the last hour: a is at 90 now and reaches 100
			// in 10 minutes, so the rule fires 5 minutes later.
			{labels: model.Metric{"instance": "a"}, base: 30, slope: 1},
			// Flat: never.
			{labels: model.Metric{"instance": "b"}, base: 50, slope: 0},
			// At 60 now, reaches 100 in 40 minutes: beyond the horizon.
			{labels: model.Metric{"instance": "c"}, base: 0, slope: 1},
		}},
	}
	now := t0
	w, am := newWatcher(t, src, &now)
	require.NoError(t, w.Round(context.Background()))

	got := am.last()
	require.Len(t, got, 1)
	a := got[0]
	require.Equal(t, model.LabelSet{"alertname": "QueueBacklog", "instance": "a", "severity": "warning", "augur_predicted": "true"}, a.Labels)
	require.InDelta(t, 10*60, mustFloat(t, a.Annotations[AnnotationTimeToBreach]), 60, "within a step of the truth")
	require.InDelta(t, 15*60, mustFloat(t, a.Annotations[AnnotationFiresInSeconds]), 60, "the rule's for added")
	require.Equal(t, now.Add(3*time.Minute), a.EndsAt, "kept alive for three intervals")
	require.Contains(t, string(a.Annotations["augur_forecast"]), "QueueBacklog")
	cond, err := expr.OfAlert(model.Alert{GeneratorURL: a.GeneratorURL})
	require.NoError(t, err, "the generatorURL carries the condition")
	require.Equal(t, "sum by (instance) (queue_depth)", cond.Query)
	require.Equal(t, 100.0, cond.Threshold)

	report := w.Report()
	require.Len(t, report.Predictions, 1)
	require.Equal(t, 1, report.Rules)

	// The real alert is pending now: the prediction is resolved.
	src.rules[0].Alerts = []querier.ActiveAlert{{Labels: model.LabelSet{"alertname": "QueueBacklog", "instance": "a", "severity": "warning"}, State: "pending"}}
	now = now.Add(time.Minute)
	require.NoError(t, w.Round(context.Background()))
	got = am.last()
	require.Len(t, got, 1)
	require.Equal(t, now, got[0].EndsAt, "resolved")
	require.Empty(t, w.Report().Predictions)
}

func TestSkipsWhatItCannotForecast(t *testing.T) {
	src := &fakeSource{rules: []querier.AlertingRule{
		{Name: "Absent", Query: `absent(up{job="x"})`},
		{Name: "OptedOut", Query: `x > 1`, Labels: model.LabelSet{OptOut: "false"}},
		{Name: "Dynamic", Query: `x > y`},
	}}
	now := t0
	w, am := newWatcher(t, src, &now)
	require.NoError(t, w.Round(context.Background()))
	require.Empty(t, am.last(), "nothing to post")
	report := w.Report()
	require.Equal(t, 2, report.Rules, "the opted-out rule is not watched")
	require.Len(t, report.Skipped, 2)
	require.Equal(t, "Absent", report.Skipped[0].Rule)
	require.Contains(t, report.Skipped[0].Reason, "absent")
	require.Contains(t, report.Skipped[1].Reason, "only constant thresholds")
}

func mustFloat(t *testing.T, v model.LabelValue) float64 {
	t.Helper()
	var f float64
	_, err := fmt.Sscan(string(v), &f)
	require.NoError(t, err)
	return f
}

// BenchmarkRound is one watcher round over 1,000 rules of 10 series each,
// 6 hours of history at 1m per series.
func BenchmarkRound(b *testing.B) {
	src := &fakeSource{series: map[string][]fakeSeries{}}
	for r := range 1000 {
		query := fmt.Sprintf("queue_depth{rule=\"%d\"}", r)
		src.rules = append(src.rules, querier.AlertingRule{Name: fmt.Sprintf("Rule%d", r), Query: query + " > 1000"})
		for s := range 10 {
			src.series[query] = append(src.series[query], fakeSeries{
				labels: model.Metric{"instance": model.LabelValue(strconv.Itoa(s))}, base: float64(s * 10), slope: float64(s) / 10,
			})
		}
	}
	now := t0
	am := &fakeAlertmanager{}
	srv := httptest.NewServer(am)
	b.Cleanup(srv.Close)
	cfg, err := config.Load(fmt.Appendf(nil, "alertmanager: {url: %s}\nwatcher: {enabled: true, lookback: 6h, step: 1m}\n", srv.URL), b.TempDir())
	require.NoError(b, err)
	w := New(NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), func() time.Time { return now })
	require.NoError(b, w.ApplyConfig(cfg, src))
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, w.Round(context.Background()))
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
	b.ReportMetric(10000, "series/round")
}
