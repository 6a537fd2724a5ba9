package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"

	"github.com/augur-sre/augur/rules/slo"
)

// unitTestFile is promtool's unit-test file.
type unitTestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []testGroup    `yaml:"tests"`
}

type testGroup struct {
	Name           string         `yaml:"name"`
	Interval       model.Duration `yaml:"interval"`
	InputSeries    []inputSeries  `yaml:"input_series"`
	AlertRuleTests []alertTest    `yaml:"alert_rule_test,omitempty"`
	PromQLTests    []exprTest     `yaml:"promql_expr_test,omitempty"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTest struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []expAlert     `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations,omitempty"`
}

type exprTest struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []expSample    `yaml:"exp_samples"`
}

type expSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// tolerance is the relative error allowed on a value that Prometheus
// computes through rate() (whose extrapolation adds float noise).
const tolerance = 1e-9

// sloTest builds the promtool unit-test file of one SLO.
//
// Each test feeds synthetic counters for the SLI's queries (see synth.go)
// with a constant error ratio, chosen from the page tier's factors (the
// ticket tier's when paging is disabled): one above the fastest pair's
// threshold, where the alert must fire, and one below the slowest pair's,
// where it must stay silent. Every recording rule's value is asserted,
// each computed here. When the SLI's queries are outside what synth.go
// can model, the file tests only the metadata rules.
func sloTest(s *slo.SLO, opts Options, ruleFile string) ([]byte, error) {
	interval := opts.interval()
	t := sloTester{s: s, n: opts.Naming.Names(), naming: opts.Naming, sel: s.Selector(opts.Naming), interval: interval}
	file := unitTestFile{RuleFiles: []string{ruleFile}, EvaluationInterval: model.Duration(interval)}
	groups, err := t.burnTests()
	if err != nil && !errors.Is(err, errUnsupported) {
		return nil, err
	}
	if err != nil {
		groups = []testGroup{t.metaOnly(err)}
	}
	file.Tests = groups
	body, err := marshal(file)
	if err != nil {
		return nil, err
	}
	return append([]byte(Header), body...), nil
}

type sloTester struct {
	s        *slo.SLO
	n        slo.Names
	naming   slo.Naming
	sel      string
	interval time.Duration
}

// queries parses the SLI's queries over the base window and returns the
// function that computes its error ratio from synthetic slopes.
func (t sloTester) queries() ([]parser.Expr, ratioFunc, error) {
	p := parser.NewParser(parser.Options{})
	if t.s.SLI.Events != nil {
		e, tot, err := t.s.EventQueries(slo.BaseWindow)
		if err != nil {
			return nil, nil, err
		}
		ee, err := p.ParseExpr(e)
		if err != nil {
			return nil, nil, fmt.Errorf("parse error query: %w", err)
		}
		te, err := p.ParseExpr(tot)
		if err != nil {
			return nil, nil, fmt.Errorf("parse total query: %w", err)
		}
		return []parser.Expr{ee, te}, func(ss []synthSeries) (float64, error) {
			ev, err := eval(ee, ss)
			if err != nil {
				return 0, err
			}
			tv, err := eval(te, ss)
			if err != nil {
				return 0, err
			}
			if ev.series != nil || tv.series != nil || ev.empty || tv.empty || ev.deg != 1 || tv.deg != 1 {
				return 0, fmt.Errorf("%w: the error and total queries must each be a sum of rates", errUnsupported)
			}
			return ev.num / tv.num, nil
		}, nil
	}
	q, err := t.s.ErrorRatioQuery(slo.BaseWindow)
	if err != nil {
		return nil, nil, err
	}
	re, err := p.ParseExpr(q)
	if err != nil {
		return nil, nil, fmt.Errorf("parse error ratio query: %w", err)
	}
	return []parser.Expr{re}, func(ss []synthSeries) (float64, error) {
		v, err := eval(re, ss)
		if err != nil {
			return 0, err
		}
		if v.series != nil || v.empty || v.deg != 0 {
			return 0, fmt.Errorf("%w: the error ratio query must be a ratio of sums of rates", errUnsupported)
		}
		return v.num, nil
	}, nil
}

// testedTier is the tier whose alert the tests check: page, or ticket
// when paging is disabled.
func (t sloTester) testedTier() (slo.Severity, []slo.AlertWindow) {
	for _, sev := range []slo.Severity{slo.SeverityPage, slo.SeverityTicket} {
		if t.tier(sev).Disable {
			continue
		}
		var ws []slo.AlertWindow
		for _, w := range t.s.AlertWindows() {
			if w.Severity == sev {
				ws = append(ws, w)
			}
		}
		if len(ws) > 0 {
			return sev, ws
		}
	}
	return "", nil
}

func (t sloTester) tier(sev slo.Severity) slo.AlertTier {
	if sev == slo.SeverityPage {
		return t.s.Alerting.PageAlert
	}
	return t.s.Alerting.TicketAlert
}

// evalTime is when the tests look: once every window has samples and
// every tier's for: has passed, on an evaluation.
func (t sloTester) evalTime() time.Duration {
	wait := max(10*time.Minute, 10*t.interval) + time.Duration(max(t.s.Alerting.PageAlert.For, t.s.Alerting.TicketAlert.For))
	return (wait + t.interval - 1) / t.interval * t.interval
}

func (t sloTester) burnTests() ([]testGroup, error) {
	exprs, ratio, err := t.queries()
	if err != nil {
		return nil, err
	}
	sev, windows := t.testedTier()
	budget := t.s.ErrorBudget()
	if sev == "" {
		// No alert to test: one group at a tenth of the budget.
		ss, rho, err := t.scenario(exprs, ratio, budget/10)
		if err != nil {
			return nil, err
		}
		return []testGroup{t.group("no burn-rate alerts: recording rules at 0.1× burn", ss, rho)}, nil
	}
	fastest, slowest := windows[0].Factor, windows[0].Factor
	for _, w := range windows {
		fastest, slowest = max(fastest, w.Factor), min(slowest, w.Factor)
	}
	above := min(1.25*fastest*budget, (1+fastest*budget)/2)
	below := 0.8 * slowest * budget
	var groups []testGroup
	for _, target := range []float64{above, below} {
		ss, rho, err := t.scenario(exprs, ratio, target)
		if err != nil {
			return nil, err
		}
		verb := "fires"
		if target == below {
			verb = "stays silent"
		}
		g := t.group(fmt.Sprintf("%s alert %s at %s× burn", sev, verb, strconv.FormatFloat(rho/budget, 'f', 3, 64)), ss, rho)
		g.AlertRuleTests = []alertTest{{
			EvalTime:  model.Duration(t.evalTime()),
			Alertname: t.s.Alerting.Name,
			ExpAlerts: t.expectedAlerts(rho),
		}}
		groups = append(groups, g)
	}
	return groups, nil
}

// scenario synthesises the series for an error ratio near target and
// returns them with the ratio they give exactly.
func (t sloTester) scenario(exprs []parser.Expr, ratio ratioFunc, target float64) ([]synthSeries, float64, error) {
	ss, err := synthesize(exprs...)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errUnsupported, err)
	}
	// Once before solving, so that a query outside the model says why.
	if _, err := ratio(ss); err != nil {
		return nil, 0, err
	}
	if err := solve(ss, ratio, target); err != nil {
		return nil, 0, err
	}
	round(ss)
	rho, err := ratio(ss)
	if err != nil {
		return nil, 0, err
	}
	return ss, rho, nil
}

func (t sloTester) group(name string, ss []synthSeries, rho float64) testGroup {
	at := model.Duration(t.evalTime())
	samples := int(t.evalTime()/t.interval) + 1
	g := testGroup{Name: name, Interval: model.Duration(t.interval)}
	for _, s := range ss {
		g.InputSeries = append(g.InputSeries, inputSeries{
			Series: s.labels.String(),
			Values: "0+" + strconv.FormatFloat(s.slope, 'f', -1, 64) + "x" + strconv.Itoa(samples),
		})
	}
	for _, w := range t.s.SLIWindows() {
		g.PromQLTests = append(g.PromQLTests, t.near(t.n.ErrorRatio(w), rho, t.windowLabels(w), at))
	}
	g.PromQLTests = append(g.PromQLTests, t.metaTests(at)...)
	burn := rho / t.s.ErrorBudget()
	g.PromQLTests = append(g.PromQLTests,
		// The burn rates keep the window label of their ratio, as in Sloth.
		t.near(t.n.CurrentBurnRate(), burn, t.windowLabels(slo.BaseWindow), at),
		t.near(t.n.PeriodBurnRate(), burn, t.windowLabels(t.s.Period()), at),
		t.near(t.n.BudgetRemaining(), 1-burn, t.windowLabels(t.s.Period()), at),
	)
	return g
}

// metaOnly is the test group for an SLI the generator cannot model: no
// input series, only the rules that do not depend on them.
func (t sloTester) metaOnly(reason error) testGroup {
	return testGroup{
		Name:        "metadata rules only (" + reason.Error() + ")",
		Interval:    model.Duration(t.interval),
		InputSeries: []inputSeries{},
		PromQLTests: t.metaTests(0),
	}
}

// metaTests assert the constant metadata rules, exactly.
func (t sloTester) metaTests(at model.Duration) []exprTest {
	s, n := t.s, t.n
	info := merge(t.labels(), map[string]string{
		n.InfoLabelPrefix + "mode":      "cli-gen-prom",
		n.InfoLabelPrefix + "objective": strconv.FormatFloat(s.Objective, 'f', -1, 64),
		n.InfoLabelPrefix + "spec":      s.Spec,
		n.InfoLabelPrefix + "version":   "augur",
	})
	exact := func(name string, v float64, l map[string]string) exprTest {
		return exprTest{
			Expr:       name + t.sel,
			EvalTime:   at,
			ExpSamples: []expSample{{Labels: name + labels.FromMap(l).String(), Value: v}},
		}
	}
	return []exprTest{
		exact(n.Objective(), s.ObjectiveRatio(), t.labels()),
		exact(n.ErrorBudget(), s.ErrorBudget(), t.labels()),
		exact(n.TimePeriod(), s.Period().Hours()/24, t.labels()),
		exact(n.InfoMetric, 1, info),
	}
}

// near asserts that a recorded value is within tolerance of want.
func (t sloTester) near(name string, want float64, l map[string]string, at model.Duration) exprTest {
	tol := tolerance * max(math.Abs(want), 1e-3)
	return exprTest{
		Expr: fmt.Sprintf("abs(%s%s - %s) <= bool %s", name, t.sel,
			strconv.FormatFloat(want, 'g', -1, 64), strconv.FormatFloat(tol, 'g', -1, 64)),
		EvalTime:   at,
		ExpSamples: []expSample{{Labels: labels.FromMap(l).String(), Value: 1}},
	}
}

func (t sloTester) labels() map[string]string {
	return merge(t.s.Labels, t.s.IDLabels(t.naming))
}

func (t sloTester) windowLabels(w time.Duration) map[string]string {
	return merge(t.labels(), map[string]string{t.n.WindowLabel: fmtDuration(w)})
}

// expectedAlerts are the burn-rate alerts firing at error ratio rho: one
// per window pair of an enabled tier whose threshold rho exceeds.
func (t sloTester) expectedAlerts(rho float64) []expAlert {
	s := t.s
	alerts := []expAlert{}
	objective := s.ObjectiveRatio()
	for _, w := range s.AlertWindows() {
		tier := t.tier(w.Severity)
		if tier.Disable || !(rho > w.Factor*(1-objective)) {
			continue
		}
		sample := merge(t.labels(), map[string]string{t.n.BurnWindowLabel: BurnWindow(w)})
		annotations := merge(map[string]string{
			"title": fmt.Sprintf("(%s) {{$labels.%s}} {{$labels.%s}} SLO error budget burn rate is too fast.",
				w.Severity, t.n.ServiceLabel, t.n.SLOLabel),
			"summary": fmt.Sprintf("{{$labels.%s}} {{$labels.%s}} SLO error budget burn rate is over expected.",
				t.n.ServiceLabel, t.n.SLOLabel),
		}, s.Alerting.Annotations, tier.Annotations)
		for k, v := range annotations {
			annotations[k] = expand(v, sample, rho)
		}
		alerts = append(alerts, expAlert{
			ExpLabels:      merge(sample, s.Alerting.Labels, tier.Labels, map[string]string{t.n.SeverityLabel: string(w.Severity)}),
			ExpAnnotations: annotations,
		})
	}
	return alerts
}

// expand fills an annotation template the way Prometheus's alerting
// rules do, for the expected annotations of a test.
func expand(text string, sample map[string]string, value float64) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(sample, nil, "", promql.Sample{F: value})
	noQuery := func(context.Context, string, time.Time) (promql.Vector, error) {
		return nil, errors.New("queries are not available in generated tests")
	}
	out, err := template.NewTemplateExpander(context.Background(), defs+text, "annotation", data, 0, noQuery, nil, nil).Expand()
	if err != nil {
		return fmt.Sprintf("<error expanding template: %s>", err)
	}
	return out
}
