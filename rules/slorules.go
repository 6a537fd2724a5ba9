package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/augur-sre/augur/rules/slo"
)

// sloGroups builds the three rule groups of one SLO.
func sloGroups(s *slo.SLO, opts Options) ([]rulefmt.RuleGroup, error) {
	if err := checkInterval(s, opts.interval()); err != nil {
		return nil, err
	}
	g := sloGen{s: s, n: opts.Naming.Names(), naming: opts.Naming, sel: s.Selector(opts.Naming)}
	sli, err := g.sliRules()
	if err != nil {
		return nil, err
	}
	iv := opts.groupInterval()
	prefix := g.n.GroupPrefix
	return []rulefmt.RuleGroup{
		{Name: prefix + "-sli-recordings-" + s.ID(), Interval: iv, Rules: sli},
		{Name: prefix + "-meta-recordings-" + s.ID(), Interval: iv, Rules: g.metaRules()},
		{Name: prefix + "-alerts-" + s.ID(), Interval: iv, Rules: g.alertRules()},
	}, nil
}

// checkInterval refuses windows that hold fewer than one evaluation.
func checkInterval(s *slo.SLO, interval time.Duration) error {
	for _, w := range s.SLIWindows() {
		if w < interval {
			return fmt.Errorf("slo %q: window %s is shorter than the rule interval %s", s.Name, fmtDuration(w), fmtDuration(interval))
		}
	}
	return nil
}

type sloGen struct {
	s      *slo.SLO
	n      slo.Names
	naming slo.Naming
	sel    string
}

// labels are the SLO's labels plus its identifying ones.
func (g sloGen) labels() map[string]string {
	return merge(g.s.Labels, g.s.IDLabels(g.naming))
}

func (g sloGen) windowLabels(w time.Duration) map[string]string {
	return merge(g.labels(), map[string]string{g.n.WindowLabel: fmtDuration(w)})
}

func (g sloGen) sliRules() ([]rulefmt.Rule, error) {
	base := slo.BaseWindow
	ratio5m := g.n.ErrorRatio(base) + g.sel
	var rules []rulefmt.Rule
	if g.s.SLI.Events != nil {
		e, t, err := g.s.EventQueries(base)
		if err != nil {
			return nil, err
		}
		rules = append(rules,
			rulefmt.Rule{Record: g.n.ErrorRate(base), Expr: e, Labels: g.windowLabels(base)},
			rulefmt.Rule{Record: g.n.TotalRate(base), Expr: t, Labels: g.windowLabels(base)},
			rulefmt.Rule{
				Record: g.n.ErrorRatio(base),
				Expr:   g.noTraffic(g.n.ErrorRate(base) + g.sel + "\n/\n" + g.n.TotalRate(base) + g.sel),
				Labels: g.windowLabels(base),
			})
		for _, w := range g.s.SLIWindows() {
			if w == base {
				continue
			}
			if w < base {
				// Shorter than the recorded rates: straight from the queries.
				q, err := g.s.ErrorRatioQuery(w)
				if err != nil {
					return nil, err
				}
				rules = append(rules, rulefmt.Rule{Record: g.n.ErrorRatio(w), Expr: g.noTraffic(q), Labels: g.windowLabels(w)})
				continue
			}
			r := fmt.Sprintf("sum_over_time(%s%s[%s])\n/\nsum_over_time(%s%s[%s])",
				g.n.ErrorRate(base), g.sel, fmtDuration(w), g.n.TotalRate(base), g.sel, fmtDuration(w))
			rules = append(rules, rulefmt.Rule{Record: g.n.ErrorRatio(w), Expr: g.noTraffic(r), Labels: g.windowLabels(w)})
		}
		return rules, nil
	}
	period := g.s.Period()
	for _, w := range g.s.SLIWindows() {
		var r string
		if w == period {
			// As Sloth: the period's ratio is the mean of the 5m ratios,
			// since a raw ratio query over 30d would be too costly.
			r = fmt.Sprintf("sum_over_time(%s[%s])\n/ ignoring (%s)\ncount_over_time(%s[%s])",
				ratio5m, fmtDuration(w), g.n.WindowLabel, ratio5m, fmtDuration(w))
		} else {
			q, err := g.s.ErrorRatioQuery(w)
			if err != nil {
				return nil, err
			}
			r = g.noTraffic(q)
		}
		rules = append(rules, rulefmt.Rule{Record: g.n.ErrorRatio(w), Expr: r, Labels: g.windowLabels(w)})
	}
	return rules, nil
}

// noTraffic applies the SLO's choice for windows without traffic to an
// error-ratio expression, whose no-traffic value is 0/0 = NaN.
func (g sloGen) noTraffic(ratio string) string {
	switch g.s.NoTraffic {
	case slo.NoTrafficAbsent:
		// NaN compares false with anything, so >= 0 drops it.
		return "(\n" + indent(ratio, "  ") + "\n) >= 0"
	case slo.NoTrafficGood:
		return "(\n" + indent(ratio, "  ") + "\n) >= 0\nor on ()\nvector(0)"
	}
	return ratio
}

func (g sloGen) metaRules() []rulefmt.Rule {
	s, n := g.s, g.n
	objective := s.ObjectiveRatioText()
	on := fmt.Sprintf("/ on (%s, %s, %s) group_left\n", n.IDLabel, n.SLOLabel, n.ServiceLabel)
	days := strconv.FormatFloat(s.Period().Hours()/24, 'f', -1, 64)
	info := merge(g.labels(), map[string]string{
		n.InfoLabelPrefix + "mode":      "cli-gen-prom",
		n.InfoLabelPrefix + "objective": strconv.FormatFloat(s.Objective, 'f', -1, 64),
		n.InfoLabelPrefix + "spec":      s.Spec,
		n.InfoLabelPrefix + "version":   "augur",
	})
	return []rulefmt.Rule{
		{Record: n.Objective(), Expr: "vector(" + objective + ")", Labels: g.labels()},
		{Record: n.ErrorBudget(), Expr: "vector(1 - " + objective + ")", Labels: g.labels()},
		{Record: n.TimePeriod(), Expr: "vector(" + days + ")", Labels: g.labels()},
		{
			Record: n.CurrentBurnRate(),
			Expr:   n.ErrorRatio(slo.BaseWindow) + g.sel + "\n" + on + n.ErrorBudget() + g.sel,
			Labels: g.labels(),
		},
		{
			Record: n.PeriodBurnRate(),
			Expr:   n.ErrorRatio(s.Period()) + g.sel + "\n" + on + n.ErrorBudget() + g.sel,
			Labels: g.labels(),
		},
		{Record: n.BudgetRemaining(), Expr: "1 - " + n.PeriodBurnRate() + g.sel, Labels: g.labels()},
		{Record: n.InfoMetric, Expr: "vector(1)", Labels: info},
	}
}

func (g sloGen) alertRules() []rulefmt.Rule {
	s, n := g.s, g.n
	var rules []rulefmt.Rule
	for _, sev := range []slo.Severity{slo.SeverityPage, slo.SeverityTicket} {
		tier := s.Alerting.PageAlert
		if sev == slo.SeverityTicket {
			tier = s.Alerting.TicketAlert
		}
		expr := g.burnExpr(sev)
		if tier.Disable || expr == "" {
			continue
		}
		rules = append(rules, rulefmt.Rule{
			Alert:  s.Alerting.Name,
			Expr:   expr,
			For:    tier.For,
			Labels: merge(s.Alerting.Labels, tier.Labels, map[string]string{n.SeverityLabel: string(sev)}),
			Annotations: merge(map[string]string{
				"title": fmt.Sprintf("(%s) {{$labels.%s}} {{$labels.%s}} SLO error budget burn rate is too fast.",
					sev, n.ServiceLabel, n.SLOLabel),
				"summary": fmt.Sprintf("{{$labels.%s}} {{$labels.%s}} SLO error budget burn rate is over expected.",
					n.ServiceLabel, n.SLOLabel),
			}, s.Alerting.Annotations, tier.Annotations),
		})
	}
	if a := s.Alerting.AbsentAlert; a.Enable {
		series := n.ErrorRatio(slo.BaseWindow) + g.sel
		if s.SLI.Events != nil {
			series = n.TotalRate(slo.BaseWindow) + g.sel
		}
		rules = append(rules, rulefmt.Rule{
			Alert:  s.Alerting.Name + "SLIAbsent",
			Expr:   "absent(" + series + ")",
			For:    a.For,
			Labels: merge(s.Alerting.Labels, a.Labels),
			Annotations: merge(map[string]string{
				"summary": fmt.Sprintf("SLO %s has no SLI data: its burn-rate alerts cannot fire.", s.ID()),
			}, a.Annotations),
		})
	}
	if a := s.Alerting.BudgetExhaustedAlert; a.Enable {
		rules = append(rules, rulefmt.Rule{
			Alert:  s.Alerting.Name + "BudgetExhausted",
			Expr:   n.BudgetRemaining() + g.sel + " <= 0",
			For:    a.For,
			Labels: merge(s.Alerting.Labels, a.Labels),
			Annotations: merge(map[string]string{
				"summary": fmt.Sprintf("{{$labels.%s}} {{$labels.%s}} SLO error budget for the last %s is spent.",
					n.ServiceLabel, n.SLOLabel, fmtDuration(s.Period())),
			}, a.Annotations),
		})
	}
	return rules
}

// burnExpr is the multi-window multi-burn-rate expression of one tier:
// for each of its window pairs, both windows over the burn threshold,
// labelled with the pair.
func (g sloGen) burnExpr(sev slo.Severity) string {
	var pairs []string
	budget := "(1 - " + g.s.ObjectiveRatioText() + ")"
	for _, w := range g.s.AlertWindows() {
		if w.Severity != sev {
			continue
		}
		threshold := "(" + slo.FormatFloat(w.Factor) + " * " + budget + ")"
		clause := func(win time.Duration) string {
			return fmt.Sprintf("max(%s%s > %s) without (%s)", g.n.ErrorRatio(win), g.sel, threshold, g.n.WindowLabel)
		}
		pairs = append(pairs, fmt.Sprintf("label_replace(\n  (\n    %s\n    and\n    %s\n  ),\n  %q, %q, \"\", \"\"\n)",
			clause(w.Short), clause(w.Long), g.n.BurnWindowLabel, BurnWindow(w)))
	}
	return strings.Join(pairs, "\nor\n")
}

// BurnWindow is the value of the burn-window label of an alert window
// pair: "long/short", like "1h/5m".
func BurnWindow(w slo.AlertWindow) string {
	return fmtDuration(w.Long) + "/" + fmtDuration(w.Short)
}
