// Package baseline is the baseline enricher: it says whether the series an
// alert watches is unusual for the time of the week, "412 is 12.3σ above
// the usual for Mon 09:00 UTC (usual 141–159)", where a fixed threshold
// cannot tell a Monday-morning peak from a Sunday-night anomaly.
//
// The series is the alert's watched query (expr.OfAlert), read over Lookback (default 28d) at a coarse Step (default 1h): the
// expression itself is evaluated at each step, not averaged over it, so
// that the history is one cached range query that every alert on the same
// expression shares. The current value is an instant query at now, since
// the range query's last step may be up to Step old.
//
// The season is the hour of the week (UTC) when the history spans at least
// three weeks, else the hour of the day when it spans three days; with
// less the part is skipped. In the current hour's slot of that season the
// baseline is the median of the history (Expected) and its spread, the MAD
// scaled to a standard deviation but never below the season's pooled
// spread (four values per slot are too few to trust alone); the usual
// range is the median ± K spreads (default 3), and Deviation counts
// spreads from the median. The last hour is left out of the history so that an
// anomaly does not define its own baseline. UTC slots shift by an hour for
// the week around a daylight-saving change in local time; the median over
// several weeks absorbs it.
package baseline

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/expr"
)

// AnnotationBaseline is the text annotation the enricher adds.
const AnnotationBaseline = "augur_baseline"

// Enricher is the baseline enricher.
type Enricher struct {
	cfg config.BaselineConfig
	now func() time.Time
}

// New returns a baseline enricher; now is its clock (nil: time.Now).
func New(cfg config.BaselineConfig, now func() time.Time) *Enricher {
	if now == nil {
		now = time.Now
	}
	return &Enricher{cfg: cfg, now: now}
}

// Name implements enrich.Enricher.
func (e *Enricher) Name() string { return "baseline" }

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ctx context.Context, in enrich.Input) (enrich.Apply, error) {
	cond, err := in.Condition(ctx)
	if err != nil {
		return nil, err
	}
	now := e.now()
	history, err := e.history(ctx, in, cond.Query, now)
	if err != nil {
		return nil, err
	}
	current, err := currentValue(ctx, in, cond.Query, now)
	if err != nil {
		return nil, err
	}
	r, err := Compute(history, current, now, e.cfg.K)
	if err != nil {
		return nil, err
	}
	line, b := r.Line(), r.Baseline
	return func(out *enrich.Enrichment) {
		out.Baseline = &b
		out.SetLine(AnnotationBaseline, line)
	}, nil
}

// history reads the alert's series over the lookback.
func (e *Enricher) history(ctx context.Context, in enrich.Input, query string, now time.Time) ([]model.SamplePair, error) {
	v, err := in.Querier.QueryRange(ctx, query, now.Add(-time.Duration(e.cfg.Lookback)), now, time.Duration(e.cfg.Step))
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("history of %s: the query returned a %s, not a range of samples", query, v.Type())
	}
	s, err := expr.Pick(m, func(s *model.SampleStream) model.Metric { return s.Metric }, in.Alert.Labels)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", query, err)
	}
	return s.Values, nil
}

// currentValue reads the alert's series at now.
func currentValue(ctx context.Context, in enrich.Input, query string, now time.Time) (float64, error) {
	v, err := in.Querier.Query(ctx, query, now)
	if err != nil {
		return 0, fmt.Errorf("read the current value: %w", err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return 0, fmt.Errorf("current value of %s: the query returned a %s, not a vector", query, v.Type())
	}
	s, err := expr.Pick(vec, func(s *model.Sample) model.Metric { return s.Metric }, in.Alert.Labels)
	if err != nil {
		return 0, fmt.Errorf("current value of %s: %w", query, err)
	}
	return float64(s.Value), nil
}
