// Package forecast is the forecast enricher: for each alert it finds the
// series its rule watches and the threshold it compares it with, reads the
// series' recent history from Prometheus, fits a model to it (package
// predict) and says when the condition will hold: "HighErrorRate 0.031,
// rising 0.004/min, crosses 0.05 in ~7m (p=0.91)".
//
// The condition comes from the alert's annotations augur_query and
// augur_threshold (and optionally augur_comparator, default ">") when the
// rule sets them, else from the expression in the alert's generatorURL,
// split by package expr. What cannot be forecast is skipped with the
// reason, never guessed.
package forecast

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/forecast/expr"
	"github.com/augur-sre/augur/enrich/forecast/predict"
)

// Annotations a rule can set to say what to forecast, and the one the
// enricher adds.
const (
	AnnotationQuery      = "augur_query"
	AnnotationThreshold  = "augur_threshold"
	AnnotationComparator = "augur_comparator"
	AnnotationForecast   = "augur_forecast"
)

// Defaults for the window read from Prometheus.
const (
	samplesPerLookback = 720
	minStep            = 15 * time.Second
	// Level is the coverage of the prediction interval.
	Level = 0.9
)

// Enricher is the forecast enricher.
type Enricher struct {
	cfg config.ForecastConfig
	now func() time.Time
}

// New returns a forecast enricher; now is its clock (nil: time.Now).
func New(cfg config.ForecastConfig, now func() time.Time) *Enricher {
	if now == nil {
		now = time.Now
	}
	return &Enricher{cfg: cfg, now: now}
}

// Name implements enrich.Enricher.
func (e *Enricher) Name() string { return "forecast" }

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ctx context.Context, in enrich.Input) (enrich.Apply, error) {
	if in.Querier == nil {
		return nil, errors.New("no Prometheus to query")
	}
	cond, err := Condition(in.Alert)
	if err != nil {
		return nil, err
	}
	end := e.now()
	lookback, step := Window(time.Duration(e.cfg.Lookback), time.Duration(e.cfg.Step))
	v, err := in.Querier.QueryRange(ctx, cond.Query, end.Add(-lookback), end, step)
	if err != nil {
		return nil, err
	}
	samples, err := seriesOf(v, in.Alert.Labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cond.Query, err)
	}
	threshold := cond.Threshold
	if cond.ThresholdQuery != "" {
		if threshold, err = thresholdAt(ctx, in.Querier, cond.ThresholdQuery, end, in.Alert.Labels); err != nil {
			return nil, err
		}
	}
	f, err := predict.Fit(Grid(samples, step), predict.Options{
		Horizon: time.Duration(e.cfg.Horizon),
		Season:  time.Duration(e.cfg.Season),
		Level:   Level,
	})
	if err != nil {
		return nil, err
	}
	part := Part(cond, threshold, f, end, time.Duration(e.cfg.Horizon))
	line := Describe(string(in.Alert.Labels[model.AlertNameLabel]), part, f.Slope)
	return func(out *enrich.Enrichment) {
		out.Forecast = part
		out.SetLine(AnnotationForecast, line)
	}, nil
}

// Window returns the history to read: lookback, at step, or when step is
// 0 at lookback/720 (at least 15s).
func Window(lookback, step time.Duration) (time.Duration, time.Duration) {
	if step == 0 {
		step = max(minStep, (lookback / samplesPerLookback).Truncate(time.Second))
	}
	return lookback, step
}

// Condition returns what to forecast for an alert: from its annotations
// when its rule sets augur_query and augur_threshold, else from the
// expression in its generatorURL.
func Condition(a model.Alert) (expr.Condition, error) {
	if q := string(a.Annotations[AnnotationQuery]); q != "" {
		t, err := strconv.ParseFloat(strings.TrimSpace(string(a.Annotations[AnnotationThreshold])), 64)
		if err != nil {
			return expr.Condition{}, fmt.Errorf("annotation %s: %q is not a number", AnnotationThreshold, a.Annotations[AnnotationThreshold])
		}
		cmp := string(a.Annotations[AnnotationComparator])
		if cmp == "" {
			cmp = ">"
		}
		return expr.Condition{Query: q, Comparator: cmp, Threshold: t}, nil
	}
	if a.GeneratorURL == "" {
		return expr.Condition{}, errors.New("the alert has no generatorURL and no augur_query annotation: nothing says what to forecast")
	}
	e, err := expr.FromGeneratorURL(a.GeneratorURL)
	if err != nil {
		return expr.Condition{}, err
	}
	return Split(e)
}

// Split splits an alerting expression into a condition that has a time to
// breach: ordered (>, >=, <, <=), since a trend almost never reaches a
// value exactly.
func Split(e string) (expr.Condition, error) {
	c, err := expr.Split(e)
	if err != nil {
		return c, err
	}
	if !c.Ordered() {
		return c, fmt.Errorf("%s: the comparison %s is a state, not a threshold a trend crosses", e, c.Comparator)
	}
	return c, nil
}

// seriesOf picks, from a range query's result, the series of the alert:
// the only one, or the one whose labels the alert carries with the same
// values (the most specific if several do).
func seriesOf(v model.Value, alert model.LabelSet) ([]model.SamplePair, error) {
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("the query returned a %s, not a range of samples", v.Type())
	}
	if len(m) == 1 {
		return m[0].Values, nil
	}
	var best *model.SampleStream
	for _, s := range m {
		if Matches(s.Metric, alert) && (best == nil || len(s.Metric) > len(best.Metric)) {
			best = s
		}
	}
	if best == nil {
		return nil, fmt.Errorf("none of its %d series has the alert's labels", len(m))
	}
	return best.Values, nil
}

// Matches reports whether the alert carries every label of the series
// (but its name) with the same value.
func Matches(series model.Metric, alert model.LabelSet) bool {
	for name, v := range series {
		if name != model.MetricNameLabel && alert[name] != v {
			return false
		}
	}
	return true
}

// thresholdAt reads a threshold that is itself a series, at ts.
func thresholdAt(ctx context.Context, q enrich.Querier, query string, ts time.Time, alert model.LabelSet) (float64, error) {
	v, err := q.Query(ctx, query, ts)
	if err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case *model.Scalar:
		return float64(v.Value), nil
	case model.Vector:
		for _, s := range v {
			if len(v) == 1 || Matches(s.Metric, alert) {
				return float64(s.Value), nil
			}
		}
		return 0, fmt.Errorf("threshold %s: no value for the alert's series", query)
	default:
		return 0, fmt.Errorf("threshold %s: the query returned a %s, not a number", query, v.Type())
	}
}

// Grid lays samples on a grid of step from the first one; missing ones
// are NaN.
func Grid(samples []model.SamplePair, step time.Duration) predict.Series {
	if len(samples) == 0 {
		return predict.Series{Step: step}
	}
	start := samples[0].Timestamp.Time()
	n := int(samples[len(samples)-1].Timestamp.Time().Sub(start)/step) + 1
	values := make([]float64, n)
	for i := range values {
		values[i] = math.NaN()
	}
	for _, p := range samples {
		i := int((p.Timestamp.Time().Sub(start) + step/2) / step)
		if i >= 0 && i < n {
			values[i] = float64(p.Value)
		}
	}
	return predict.Series{Start: start, Step: step, Values: values}
}

// Part is the forecast part of the enrichment for a fitted forecast, as
// of now: its time to breach counts from now, not from the last sample.
func Part(cond expr.Condition, threshold float64, f predict.Forecast, now time.Time, horizon time.Duration) *enrich.Forecast {
	b := f.Breach(cond.Comparator, threshold)
	p := &enrich.Forecast{
		Query:               cond.Query,
		Threshold:           threshold,
		Comparator:          cond.Comparator,
		Current:             f.Current,
		HorizonSeconds:      horizon.Seconds(),
		Interval:            [2]float64{b.Lower, b.Upper},
		ProbabilityOfBreach: b.Probability,
		Trend:               f.Trend,
		Acceleration:        f.Acceleration,
		Model:               f.Model,
	}
	if len(f.Predicted) > 0 {
		p.Predicted = f.Predicted[len(f.Predicted)-1]
	}
	if b.Will {
		in := max(b.In-now.Sub(f.End), 0).Seconds()
		p.TimeToBreachSeconds = &in
	}
	return p
}

// Describe is the augur_forecast line: "HighErrorRate 0.031, rising
// 0.004/min, crosses 0.05 in ~7m (p=0.91)".
func Describe(name string, p *enrich.Forecast, slopePerSecond float64) string {
	var b strings.Builder
	if name != "" {
		b.WriteString(name + " ")
	}
	fmt.Fprintf(&b, "%s", num(p.Current))
	switch p.Trend {
	case "increasing":
		fmt.Fprintf(&b, ", rising %s/min", num(math.Abs(slopePerSecond*60)))
	case "decreasing":
		fmt.Fprintf(&b, ", falling %s/min", num(math.Abs(slopePerSecond*60)))
	default:
		b.WriteString(", stable")
	}
	switch ttb := p.TimeToBreachSeconds; {
	case ttb != nil && *ttb == 0:
		fmt.Fprintf(&b, ", past %s now", num(p.Threshold))
	case ttb != nil:
		fmt.Fprintf(&b, ", crosses %s in ~%s (p=%.2f)", num(p.Threshold), Approx(time.Duration(*ttb*float64(time.Second))), p.ProbabilityOfBreach)
	default:
		fmt.Fprintf(&b, ", does not cross %s within %s (p=%.2f)", num(p.Threshold),
			model.Duration(time.Duration(p.HorizonSeconds*float64(time.Second))), p.ProbabilityOfBreach)
	}
	return b.String()
}

// num prints a value with three significant digits.
func num(v float64) string {
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Approx rounds a duration for people: seconds under two minutes, else
// minutes.
func Approx(d time.Duration) string {
	if d < 2*time.Minute {
		return model.Duration(d.Round(time.Second)).String()
	}
	return model.Duration(d.Round(time.Minute)).String()
}
