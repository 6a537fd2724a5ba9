// Package forecast is the forecast enricher: for each alert it finds the
// series its rule watches and the threshold it compares it with, reads the
// series' recent history from Prometheus, fits a model to it (package
// predict) and says when the condition will hold: "HighErrorRate 0.031,
// rising 0.004/min, crosses 0.05 in ~7m (p=0.91)".
//
// The condition comes from the alert (expr.OfAlert): its rule's
// annotations augur_query and augur_threshold, or the expression in its
// generatorURL. What cannot be forecast is skipped with the reason, never
// guessed.
package forecast

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/expr"
	"github.com/augur-sre/augur/enrich/forecast/predict"
)

// AnnotationForecast is the text annotation the enricher adds.
const AnnotationForecast = "augur_forecast"

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
	cond, err := in.Condition(ctx)
	if err != nil {
		return nil, err
	}
	end := e.now()
	lookback, step := Window(time.Duration(e.cfg.Lookback), time.Duration(e.cfg.Step))
	v, err := in.Querier.QueryRange(ctx, cond.Query, end.Add(-lookback), end, step)
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s returned a %s, not a range of samples", cond.Query, v.Type())
	}
	series, err := expr.Pick(m, func(s *model.SampleStream) model.Metric { return s.Metric }, in.Alert.Labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cond.Query, err)
	}
	samples := series.Values
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
		s, err := expr.Pick(v, func(s *model.Sample) model.Metric { return s.Metric }, alert)
		if err != nil {
			return 0, fmt.Errorf("threshold %s: %w", query, err)
		}
		return float64(s.Value), nil
	default:
		return 0, fmt.Errorf("threshold %s: the query returned a %s, not a number", query, v.Type())
	}
}

// Grid lays samples on a grid of step from the first one; missing ones
// are NaN.
func Grid(samples []model.SamplePair, step time.Duration) predict.Series {
	start, values := enrich.Grid(samples, step)
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
	fmt.Fprintf(&b, "%s", enrich.Number(p.Current))
	switch p.Trend {
	case "increasing":
		fmt.Fprintf(&b, ", rising %s/min", enrich.Number(math.Abs(slopePerSecond*60)))
	case "decreasing":
		fmt.Fprintf(&b, ", falling %s/min", enrich.Number(math.Abs(slopePerSecond*60)))
	default:
		b.WriteString(", stable")
	}
	switch ttb := p.TimeToBreachSeconds; {
	case ttb != nil && *ttb == 0:
		fmt.Fprintf(&b, ", past %s now", enrich.Number(p.Threshold))
	case ttb != nil:
		fmt.Fprintf(&b, ", crosses %s in ~%s (p=%.2f)", enrich.Number(p.Threshold), enrich.Approx(time.Duration(*ttb*float64(time.Second))), p.ProbabilityOfBreach)
	default:
		fmt.Fprintf(&b, ", does not cross %s within %s (p=%.2f)", enrich.Number(p.Threshold),
			model.Duration(time.Duration(p.HorizonSeconds*float64(time.Second))), p.ProbabilityOfBreach)
	}
	return b.String()
}
