// Package slo is the slo enricher: for an alert covered by an SLO (its
// service, or its matchers), it reads the SLI's error ratio over the
// windows of the SLO's multi-window multi-burn-rate policy and over the
// period, and adds the burn rate per window, the error budget left, the
// time to exhaustion at the current 1h burn rate, and the severity the
// policy gives: "checkout-availability: burn 21.3x (1h) / 8.1x (6h),
// budget 62% left, exhausted in ~31h".
//
// The error ratio of a window is read from the recording rules that
// `augur rules generate` writes for the SLO when Prometheus has them (the
// same numbers its dashboards and alerts see), else computed from the
// SLO's own queries.
package slo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	spec "github.com/augur-sre/augur/rules/slo"
)

// AnnotationSLO is the text annotation the enricher adds.
const AnnotationSLO = "augur_slo"

// Severities, from the tiers of the policy that would fire: the page
// tier's pairs (fastest first), then the ticket tier's.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
)

// Enricher is the slo enricher.
type Enricher struct {
	slos     []spec.SLO
	matchers [][]*labels.Matcher
	naming   spec.Naming
	recorded bool
	now      func() time.Time
}

// New returns an slo enricher for the config's SLOs; now is its clock
// (nil: time.Now).
func New(cfg *config.Config, now func() time.Time) (*Enricher, error) {
	if now == nil {
		now = time.Now
	}
	e := &Enricher{slos: cfg.SLOs, naming: cfg.Enrich.SLO.Naming, recorded: cfg.Enrich.SLO.RecordingRules, now: now}
	for i := range cfg.SLOs {
		ms, err := cfg.SLOs[i].AlertMatchers(cfg.ServiceLabel)
		if err != nil {
			return nil, err
		}
		e.matchers = append(e.matchers, ms)
	}
	return e, nil
}

// Name implements enrich.Enricher.
func (e *Enricher) Name() string { return "slo" }

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ctx context.Context, in enrich.Input) (enrich.Apply, error) {
	var covered []int
	for i, ms := range e.matchers {
		if matches(ms, in.Alert.Labels) {
			covered = append(covered, i)
		}
	}
	if len(covered) == 0 {
		return func(*enrich.Enrichment) {}, nil
	}
	if in.Querier == nil {
		return nil, fmt.Errorf("no Prometheus to query")
	}
	now := e.now()
	var parts []enrich.SLO
	var lines []string
	for _, i := range covered {
		st, err := Evaluate(ctx, in.Querier, &e.slos[i], e.naming, e.recorded, now)
		if err != nil {
			return nil, err
		}
		parts = append(parts, st.Part())
		lines = append(lines, st.Line())
	}
	return func(out *enrich.Enrichment) {
		out.SLO = parts
		out.SetLine(AnnotationSLO, strings.Join(lines, "; "))
	}, nil
}

// matches reports whether the labels match all matchers.
func matches(ms []*labels.Matcher, ls model.LabelSet) bool {
	for _, m := range ms {
		if !m.Matches(string(ls[model.LabelName(m.Name)])) {
			return false
		}
	}
	return true
}

// Status is an SLO's burn as of a time.
type Status struct {
	SLO *spec.SLO
	// Ratios are the error ratios by window; a window without data (no
	// traffic, or no series) is missing.
	Ratios map[time.Duration]float64
	// Recorded tells, by window, whether the ratio came from the
	// recording rule rather than the SLO's own queries.
	Recorded map[time.Duration]bool
	// Firing are the window pairs of the policy whose short and long
	// burn rates are both above their factor.
	Firing []spec.AlertWindow
}

// Windows returns the windows Status reads: those of the policy and the
// period, shortest first.
func Windows(s *spec.SLO) []time.Duration {
	var ws []time.Duration
	for _, w := range s.AlertWindows() {
		ws = append(ws, w.Short, w.Long)
	}
	ws = append(ws, s.Period())
	slices.Sort(ws)
	return slices.Compact(ws)
}

// Evaluate reads the SLO's error ratio over each of its windows at now:
// from the generated recording rule when recorded is set and Prometheus
// has it, else from the SLO's own queries.
func Evaluate(ctx context.Context, q enrich.Querier, s *spec.SLO, naming spec.Naming, recorded bool, now time.Time) (Status, error) {
	st := Status{SLO: s, Ratios: map[time.Duration]float64{}, Recorded: map[time.Duration]bool{}}
	for _, w := range Windows(s) {
		if recorded {
			query, err := s.RecordedErrorRatioQuery(naming, w)
			if err == nil {
				v, ok, err := instant(ctx, q, query, now)
				if err != nil {
					return st, fmt.Errorf("slo %s: %w", s.Name, err)
				}
				if ok {
					st.Ratios[w], st.Recorded[w] = v, true
					continue
				}
			}
		}
		query, err := s.ErrorRatioQuery(w)
		if err != nil {
			return st, err
		}
		v, ok, err := instant(ctx, q, query, now)
		if err != nil {
			return st, fmt.Errorf("slo %s: %w", s.Name, err)
		}
		if ok {
			st.Ratios[w] = v
		}
	}
	for _, w := range s.AlertWindows() {
		short, okS := st.Burn(w.Short)
		long, okL := st.Burn(w.Long)
		if okS && okL && short > w.Factor && long > w.Factor {
			st.Firing = append(st.Firing, w)
		}
	}
	return st, nil
}

// instant runs an instant query that should return one number; false
// when it returns nothing or NaN (a window without traffic).
func instant(ctx context.Context, q enrich.Querier, query string, now time.Time) (float64, bool, error) {
	v, err := q.Query(ctx, query, now)
	if err != nil {
		return 0, false, err
	}
	var x float64
	switch v := v.(type) {
	case model.Vector:
		if len(v) == 0 {
			return 0, false, nil
		}
		if len(v) > 1 {
			return 0, false, fmt.Errorf("%s: %d series, want one (aggregate the SLI's queries)", query, len(v))
		}
		x = float64(v[0].Value)
	case *model.Scalar:
		x = float64(v.Value)
	default:
		return 0, false, fmt.Errorf("%s: a %s, not a number", query, v.Type())
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false, nil
	}
	return x, true, nil
}

// Burn is the burn rate over a window: the error ratio over the error
// budget.
func (st Status) Burn(w time.Duration) (float64, bool) {
	r, ok := st.Ratios[w]
	if !ok {
		return 0, false
	}
	return r / st.SLO.ErrorBudget(), true
}

// BudgetRemaining is the share of the period's error budget left (below
// 0 when overspent); false without data over the period.
func (st Status) BudgetRemaining() (float64, bool) {
	b, ok := st.Burn(st.SLO.Period())
	return 1 - b, ok
}

// TimeToExhaustion is how long the budget left lasts at the current 1h
// burn rate: budget left × period / burn; false when the budget is spent,
// nothing burns, or data is missing.
func (st Status) TimeToExhaustion() (time.Duration, bool) {
	left, ok := st.BudgetRemaining()
	burn, okB := st.Burn(time.Hour)
	if !ok || !okB || burn <= 0 || left <= 0 {
		return 0, false
	}
	return time.Duration(left * float64(st.SLO.Period()) / burn), true
}

// Severity is the severity the policy gives: by the fastest tier that
// would fire, "low" when none would.
func (st Status) Severity() string {
	ws := st.SLO.AlertWindows()
	for i, w := range ws {
		if slices.Contains(st.Firing, w) {
			switch {
			case w.Severity == spec.SeverityPage && i == 0:
				return SeverityCritical
			case w.Severity == spec.SeverityPage:
				return SeverityHigh
			default:
				return SeverityMedium
			}
		}
	}
	return SeverityLow
}

// Part is the enrichment's slo entry.
func (st Status) Part() enrich.SLO {
	p := enrich.SLO{Name: st.SLO.Name, BurnRates: map[string]float64{}, Severity: st.Severity()}
	for w := range st.Ratios {
		b, _ := st.Burn(w)
		p.BurnRates[model.Duration(w).String()] = round(b)
	}
	if left, ok := st.BudgetRemaining(); ok {
		p.BudgetRemaining = &left
	}
	if d, ok := st.TimeToExhaustion(); ok {
		s := d.Seconds()
		p.TimeToExhaustionSeconds = &s
	}
	return p
}

// Line is the SLO's augur_slo text.
func (st Status) Line() string {
	var b strings.Builder
	b.WriteString(st.SLO.Name + ":")
	var burns []string
	for _, w := range []time.Duration{time.Hour, 6 * time.Hour} {
		if v, ok := st.Burn(w); ok {
			burns = append(burns, fmt.Sprintf("%sx (%s)", enrich.Number(v), model.Duration(w)))
		}
	}
	if len(burns) == 0 {
		b.WriteString(" no traffic in the last 6h")
	} else {
		b.WriteString(" burn " + strings.Join(burns, " / "))
	}
	if left, ok := st.BudgetRemaining(); ok {
		fmt.Fprintf(&b, ", budget %.0f%% left", 100*left)
		if left <= 0 {
			b.WriteString(" (exhausted)")
		}
	}
	if d, ok := st.TimeToExhaustion(); ok && d < st.SLO.Period() {
		b.WriteString(", exhausted in ~" + enrich.Approx(d))
	}
	return b.String()
}

// round keeps four significant digits.
func round(v float64) float64 {
	if v == 0 {
		return 0
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
