// Package watcher raises predicted alerts before Prometheus's own rules
// fire. Every watcher.interval it reads Prometheus's alerting rules, splits
// each rule's expression into the query it watches and its threshold
// (package expr), forecasts the query's series (package predict), and for
// each series likely to make the rule fire within the horizon — its time to
// breach plus the rule's `for` — posts an alert to Alertmanager with the
// rule's labels, the series' labels and augur_predicted="true". It keeps the
// predicted alert alive while the prediction holds and resolves it when the
// prediction clears or the real alert is pending or firing.
package watcher

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/expr"
	"github.com/augur-sre/augur/enrich/forecast"
	"github.com/augur-sre/augur/enrich/forecast/predict"
	"github.com/augur-sre/augur/querier"
)

// Labels and annotations of predicted alerts.
const (
	LabelPredicted           = "augur_predicted"
	AnnotationTimeToBreach   = "augur_time_to_breach_seconds"
	AnnotationProbability    = "augur_probability"
	AnnotationFiresInSeconds = "augur_fires_in_seconds"
	// OptOut, as a rule's label or annotation with the value "false",
	// keeps the watcher away from the rule.
	OptOut = "augur_predict"
)

// Source is what the watcher reads from Prometheus.
type Source interface {
	Rules(ctx context.Context) ([]querier.AlertingRule, error)
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Value, error)
}

// Prediction is a forecast of one series of one rule.
type Prediction struct {
	Rule   string         `json:"rule"`
	Labels model.LabelSet `json:"labels"`
	// FiresInSeconds is when the rule is expected to fire: the time to
	// breach plus the rule's for.
	FiresInSeconds float64          `json:"fires_in_seconds"`
	Forecast       *enrich.Forecast `json:"forecast"`
	// Text is the augur_forecast line.
	Text string `json:"text"`
	// Since is when the prediction was first made.
	Since time.Time `json:"since"`
}

// Skipped is a rule the watcher could not forecast, and why.
type Skipped struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Report is what GET /api/v1/predictions shows: the predicted alerts the
// watcher raised in its last round, the rules it skipped, and when.
type Report struct {
	EvaluatedAt time.Time    `json:"evaluated_at,omitzero"`
	Rules       int          `json:"rules"`
	Predictions []Prediction `json:"predictions"`
	Skipped     []Skipped    `json:"skipped"`
}

// Watcher watches Prometheus's alerting rules.
type Watcher struct {
	logger  *slog.Logger
	now     func() time.Time
	metrics *Metrics
	state   atomic.Pointer[setup]

	mu     sync.Mutex
	active map[model.Fingerprint]Prediction
	report Report
}

// setup is what a config gives the watcher, swapped as one.
type setup struct {
	cfg  config.WatcherConfig
	src  Source
	am   *Alertmanager
	prom *url.URL
}

// New returns a watcher; it watches nothing until ApplyConfig.
func New(m *Metrics, logger *slog.Logger, now func() time.Time) *Watcher {
	if now == nil {
		now = time.Now
	}
	return &Watcher{
		logger: logger, now: now, metrics: m,
		active: map[model.Fingerprint]Prediction{},
		report: Report{Predictions: []Prediction{}, Skipped: []Skipped{}},
	}
}

// ApplyConfig sets what the next rounds use. Predictions made so far are
// kept: a reload neither repeats nor drops them.
func (w *Watcher) ApplyConfig(cfg *config.Config, src Source) error {
	am, err := NewAlertmanager(cfg.Alertmanager)
	if err != nil {
		return err
	}
	w.state.Store(&setup{cfg: cfg.Watcher, src: src, am: am, prom: cfg.Prometheus.URL.URL})
	return nil
}

// Run runs a round every watcher.interval while the watcher is enabled,
// until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	for {
		st := w.state.Load()
		wait := time.Minute
		if st != nil {
			wait = time.Duration(st.cfg.Interval)
			if st.cfg.Enabled {
				if err := w.Round(ctx); err != nil && ctx.Err() == nil {
					w.logger.Error("watcher round", "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// ServeHTTP serves GET /api/v1/predictions: the last round's report.
func (w *Watcher) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	// The status line is out; an encoding error can only be a broken connection.
	_ = json.NewEncoder(rw).Encode(w.Report()) //nolint:errcheck
}

// Report returns the last round's report.
func (w *Watcher) Report() Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.report
}

// Round forecasts every rule once, then posts the predicted alerts to
// Alertmanager: those that hold again (to keep them alive) and those that
// cleared (resolved).
func (w *Watcher) Round(ctx context.Context) error {
	st := w.state.Load()
	start := time.Now()
	now := w.now()
	rules, err := st.src.Rules(ctx)
	if err != nil {
		w.metrics.rounds.WithLabelValues("error").Inc()
		return fmt.Errorf("read alerting rules: %w", err)
	}
	report := Report{EvaluatedAt: now.UTC(), Predictions: []Prediction{}, Skipped: []Skipped{}}
	var watched []querier.AlertingRule
	for _, r := range rules {
		switch {
		case optedOut(r):
		case len(watched) == st.cfg.MaxRules:
			report.Skipped = append(report.Skipped, Skipped{Rule: r.Name, Reason: fmt.Sprintf("watcher.max_rules (%d) reached", st.cfg.MaxRules)})
		default:
			watched = append(watched, r)
		}
	}
	report.Rules = len(watched)
	current := map[model.Fingerprint]Prediction{}
	for i, res := range w.forecastRules(ctx, st, watched, now) {
		if res.err != nil {
			report.Skipped = append(report.Skipped, Skipped{Rule: watched[i].Name, Reason: res.err.Error()})
			continue
		}
		for _, p := range res.predictions {
			current[p.Labels.Fingerprint()] = p
		}
	}

	// A prediction that holds again keeps its start; one that no longer
	// holds is resolved.
	w.mu.Lock()
	var resolved []Prediction
	for fp, prev := range w.active {
		if p, ok := current[fp]; ok {
			p.Since = prev.Since
			current[fp] = p
		} else {
			resolved = append(resolved, prev)
		}
	}
	w.mu.Unlock()

	alerts := make([]Alert, 0, len(current)+len(resolved))
	for _, p := range current {
		alerts = append(alerts, st.alert(p, now, now.Add(3*time.Duration(st.cfg.Interval))))
		report.Predictions = append(report.Predictions, p)
	}
	for _, p := range resolved {
		alerts = append(alerts, st.alert(p, p.Since, now))
	}
	slices.SortFunc(report.Predictions, func(a, b Prediction) int {
		return cmp.Or(cmp.Compare(a.FiresInSeconds, b.FiresInSeconds), cmp.Compare(a.Labels.String(), b.Labels.String()))
	})
	if err := st.am.Post(ctx, alerts); err != nil {
		w.metrics.rounds.WithLabelValues("error").Inc()
		// Not recorded as raised: the next round posts them again.
		return err
	}
	w.mu.Lock()
	w.active, w.report = current, report
	w.mu.Unlock()
	w.metrics.rounds.WithLabelValues("success").Inc()
	w.metrics.duration.Observe(time.Since(start).Seconds())
	w.metrics.rules.Set(float64(report.Rules))
	w.metrics.predictions.Set(float64(len(current)))
	w.metrics.skipped.Set(float64(len(report.Skipped)))
	return nil
}

// ruleResult is what forecasting one rule gave.
type ruleResult struct {
	predictions []Prediction
	err         error
}

// forecastRules forecasts the rules in parallel, one per CPU, and returns
// their results in order.
func (w *Watcher) forecastRules(ctx context.Context, st *setup, rules []querier.AlertingRule, now time.Time) []ruleResult {
	out := make([]ruleResult, len(rules))
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(rules); i = int(next.Add(1)) - 1 {
				out[i].predictions, out[i].err = w.forecastRule(ctx, st, rules[i], now)
			}
		})
	}
	wg.Wait()
	return out
}

func optedOut(r querier.AlertingRule) bool {
	return r.Labels[OptOut] == "false" || r.Annotations[OptOut] == "false"
}

// forecastRule forecasts the series of one rule, the ones nearest to
// breach first, and returns the predictions for those likely to fire
// within the horizon and not already pending or firing.
func (w *Watcher) forecastRule(ctx context.Context, st *setup, r querier.AlertingRule, now time.Time) ([]Prediction, error) {
	cond, err := expr.SplitOrdered(r.Query)
	if err != nil {
		return nil, err
	}
	if cond.ThresholdQuery != "" {
		return nil, fmt.Errorf("its threshold is a series (%s): only constant thresholds are watched", cond.ThresholdQuery)
	}
	lookback, step := forecast.Window(time.Duration(st.cfg.Lookback), time.Duration(st.cfg.Step))
	v, err := st.src.QueryRange(ctx, cond.Query, now.Add(-lookback), now, step)
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s returned a %s, not a range of samples", cond.Query, v.Type())
	}
	m = nearestFirst(m, cond)
	horizon := time.Duration(st.cfg.Horizon)
	var out []Prediction
	for i, s := range m {
		if i == st.cfg.MaxSeriesPerRule {
			break
		}
		if active(r, s.Metric) {
			continue
		}
		f, err := predict.Fit(forecast.Grid(s.Values, step), predict.Options{Horizon: horizon, Level: forecast.Level})
		if err != nil {
			w.logger.Debug("series not forecast", "rule", r.Name, "series", s.Metric, "err", err)
			continue
		}
		part := forecast.Part(cond, cond.Threshold, f, now, horizon)
		if part.TimeToBreachSeconds == nil || part.ProbabilityOfBreach < st.cfg.MinProbability {
			continue
		}
		firesIn := *part.TimeToBreachSeconds + r.For.Seconds()
		if *part.TimeToBreachSeconds == 0 || firesIn > horizon.Seconds() {
			// Breached already (the rule sees it), or fires too late.
			continue
		}
		out = append(out, Prediction{
			Rule:           r.Name,
			Labels:         predictedLabels(r, s.Metric),
			FiresInSeconds: firesIn,
			Forecast:       part,
			Text:           forecast.Describe(r.Name, part, f.Slope),
			Since:          now.UTC(),
		})
	}
	return out, nil
}

// nearestFirst orders series by how near their last value is to the
// threshold, in the direction that breaches it.
func nearestFirst(m model.Matrix, cond expr.Condition) model.Matrix {
	gap := func(s *model.SampleStream) float64 {
		if len(s.Values) == 0 {
			return 1e308
		}
		d := cond.Threshold - float64(s.Values[len(s.Values)-1].Value)
		if cond.Comparator == "<" || cond.Comparator == "<=" {
			d = -d
		}
		return d
	}
	out := slices.Clone(m)
	slices.SortStableFunc(out, func(a, b *model.SampleStream) int { return cmp.Compare(gap(a), gap(b)) })
	return out
}

// active reports whether the rule has an alert, pending or firing, for
// the series.
func active(r querier.AlertingRule, series model.Metric) bool {
	for _, a := range r.Alerts {
		if expr.Matches(series, a.Labels) {
			return true
		}
	}
	return false
}

// predictedLabels are the labels of a predicted alert: the series', the
// rule's, its name and augur_predicted="true".
func predictedLabels(r querier.AlertingRule, series model.Metric) model.LabelSet {
	ls := model.LabelSet{}
	for k, v := range series {
		if k != model.MetricNameLabel {
			ls[k] = v
		}
	}
	for k, v := range r.Labels {
		ls[k] = v
	}
	ls[model.AlertNameLabel] = model.LabelValue(r.Name)
	ls[LabelPredicted] = "true"
	return ls
}

// alert is the alert posted for a prediction, alive until endsAt.
func (st *setup) alert(p Prediction, startsAt, endsAt time.Time) Alert {
	f := p.Forecast
	a := Alert{
		Labels: p.Labels,
		Annotations: model.LabelSet{
			"summary":                   model.LabelValue(fmt.Sprintf("%s predicted to fire in ~%s", p.Rule, enrich.Approx(time.Duration(p.FiresInSeconds*float64(time.Second))))),
			AnnotationFiresInSeconds:    model.LabelValue(strconv.FormatFloat(p.FiresInSeconds, 'f', 0, 64)),
			AnnotationProbability:       model.LabelValue(strconv.FormatFloat(f.ProbabilityOfBreach, 'f', 2, 64)),
			forecast.AnnotationForecast: model.LabelValue(p.Text),
		},
		StartsAt: startsAt,
		EndsAt:   endsAt,
	}
	if f.TimeToBreachSeconds != nil {
		a.Annotations[AnnotationTimeToBreach] = model.LabelValue(strconv.FormatFloat(*f.TimeToBreachSeconds, 'f', 0, 64))
	}
	if st.prom != nil {
		// The condition, so that the forecast enricher can read it when
		// the predicted alert comes back through augur.
		cond := fmt.Sprintf("%s %s %s", f.Query, f.Comparator, strconv.FormatFloat(f.Threshold, 'g', -1, 64))
		a.GeneratorURL = st.prom.JoinPath("graph").String() + "?g0.tab=0&g0.expr=" + url.QueryEscape(cond)
	}
	return a
}

// Metrics are the watcher's metrics.
type Metrics struct {
	rounds      *prometheus.CounterVec
	duration    prometheus.Histogram
	rules       prometheus.Gauge
	predictions prometheus.Gauge
	skipped     prometheus.Gauge
}

// NewMetrics registers the watcher's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		rounds: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur", Subsystem: "watcher", Name: "rounds_total",
			Help: "Rounds of the watcher over Prometheus's alerting rules, by result.",
		}, []string{"result"}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: "augur", Subsystem: "watcher", Name: "round_duration_seconds",
			Help:    "Time one successful round took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 8),
		}),
		rules: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "augur", Subsystem: "watcher", Name: "rules",
			Help: "Alerting rules watched in the last round.",
		}),
		predictions: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "augur", Subsystem: "watcher", Name: "predictions",
			Help: "Predicted alerts raised in the last round.",
		}),
		skipped: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "augur", Subsystem: "watcher", Name: "skipped_rules",
			Help: "Rules the last round could not forecast (see GET /api/v1/predictions for why).",
		}),
	}
	for _, r := range []string{"success", "error"} {
		m.rounds.WithLabelValues(r)
	}
	return m
}
