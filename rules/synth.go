package rules

import (
	"errors"
	"fmt"
	"math"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// This file builds the input of the promtool tests: synthetic counters
// that make an SLI's queries return a chosen error ratio.
//
// Every counter starts at 0 and grows by a constant slope per sample, all
// sampled at the same times. rate() then returns the same multiple c of
// each slope (c depends only on the sample times, not on the slope), and
// increase() the same multiple times the range, so a query that is a
// ratio of sums of such terms does not depend on c: it can be computed
// here, exactly enough, from the slopes alone.

// synthSeries is one synthetic counter.
type synthSeries struct {
	labels labels.Labels
	slope  float64
}

// synthesize builds one series per distinct selector of the queries, each
// satisfying its selector's matchers.
func synthesize(queries ...parser.Expr) ([]synthSeries, error) {
	var out []synthSeries
	seen := map[string]bool{}
	for _, q := range queries {
		var err error
		parser.Inspect(q, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok || err != nil {
				return nil
			}
			var l labels.Labels
			if l, err = satisfy(vs.LabelMatchers); err != nil {
				err = fmt.Errorf("selector %s: %w", vs, err)
				return nil
			}
			if !seen[l.String()] {
				seen[l.String()] = true
				out = append(out, synthSeries{labels: l, slope: 1})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the queries select no series")
	}
	return out, nil
}

// satisfy finds a label set that every matcher matches.
func satisfy(ms []*labels.Matcher) (labels.Labels, error) {
	byName := map[string][]*labels.Matcher{}
	for _, m := range ms {
		byName[m.Name] = append(byName[m.Name], m)
	}
	b := labels.NewScratchBuilder(len(byName))
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var candidates []string
		for _, m := range byName[name] {
			switch m.Type {
			case labels.MatchEqual:
				candidates = append(candidates, m.Value)
			case labels.MatchRegexp:
				if s, ok := regexpExample(m.Value); ok {
					candidates = append(candidates, s)
				}
			}
		}
		candidates = append(candidates, "", "augur-test")
		value, found := "", false
		for _, c := range candidates {
			if all(byName[name], c) {
				value, found = c, true
				break
			}
		}
		if !found {
			return labels.EmptyLabels(), fmt.Errorf("no value of %s matches all of its matchers", name)
		}
		if value != "" {
			b.Add(name, value)
		}
	}
	b.Sort()
	l := b.Labels()
	if l.Get(model.MetricNameLabel) == "" {
		return l, errors.New("no metric name")
	}
	return l, nil
}

func all(ms []*labels.Matcher, v string) bool {
	for _, m := range ms {
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// regexpExample returns a short string the regular expression matches:
// the first alternative, one repetition of +, none of * and ?, the lowest
// character of a class and x for any character.
func regexpExample(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	ok := writeExample(&b, re.Simplify())
	return b.String(), ok
}

func writeExample(b *strings.Builder, re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
		return true
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return false
		}
		b.WriteRune(re.Rune[0])
		return true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
		return true
	case syntax.OpCapture, syntax.OpPlus:
		return writeExample(b, re.Sub[0])
	case syntax.OpRepeat:
		for range re.Min {
			if !writeExample(b, re.Sub[0]) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !writeExample(b, s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		return writeExample(b, re.Sub[0])
	}
	return false
}

// value is what the evaluator knows of an expression: either one number
// of degree deg in the common rate factor c, or per-series terms (a rate
// or an increase before aggregation).
type value struct {
	num    float64
	deg    int
	series []float64
	empty  bool
}

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errUnsupported marks a query outside what the evaluator models.
const errUnsupported constError = "query outside what the test generator can compute"

// eval computes a query over the synthetic series.
func eval(e parser.Expr, ss []synthSeries) (value, error) {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return eval(n.Expr, ss)
	case *parser.NumberLiteral:
		return value{num: n.Val}, nil
	case *parser.Call:
		return evalCall(n, ss)
	case *parser.AggregateExpr:
		if n.Op != parser.SUM || n.Without || len(n.Grouping) > 0 || n.Param != nil {
			return value{}, fmt.Errorf("%w: aggregation %s", errUnsupported, n.Op)
		}
		v, err := eval(n.Expr, ss)
		if err != nil {
			return v, err
		}
		if v.series == nil {
			return value{}, fmt.Errorf("%w: sum of a non-rate", errUnsupported)
		}
		if len(v.series) == 0 {
			return value{empty: true}, nil
		}
		sum := 0.0
		for _, x := range v.series {
			sum += x
		}
		return value{num: sum, deg: 1}, nil
	case *parser.BinaryExpr:
		return evalBinary(n, ss)
	}
	return value{}, fmt.Errorf("%w: %T", errUnsupported, e)
}

func evalCall(n *parser.Call, ss []synthSeries) (value, error) {
	switch n.Func.Name {
	case "vector":
		v, err := eval(n.Args[0], ss)
		if err != nil || v.series != nil || v.deg != 0 {
			return value{}, fmt.Errorf("%w: vector() of a non-number", errUnsupported)
		}
		return v, nil
	case "rate", "increase":
		ms, ok := n.Args[0].(*parser.MatrixSelector)
		if !ok {
			return value{}, fmt.Errorf("%w: %s of a subquery", errUnsupported, n.Func.Name)
		}
		vs := ms.VectorSelector.(*parser.VectorSelector)
		if vs.OriginalOffset != 0 || vs.Timestamp != nil {
			return value{}, fmt.Errorf("%w: offset or @", errUnsupported)
		}
		scale := 1.0
		if n.Func.Name == "increase" {
			scale = ms.Range.Seconds()
		}
		terms := []float64{}
		for _, s := range ss {
			if matchesAll(vs.LabelMatchers, s.labels) {
				terms = append(terms, s.slope*scale)
			}
		}
		return value{series: terms}, nil
	}
	return value{}, fmt.Errorf("%w: function %s", errUnsupported, n.Func.Name)
}

func matchesAll(ms []*labels.Matcher, l labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

func evalBinary(n *parser.BinaryExpr, ss []synthSeries) (value, error) {
	if n.VectorMatching != nil && (n.VectorMatching.On || len(n.VectorMatching.MatchingLabels) > 0) && n.Op != parser.LOR {
		return value{}, fmt.Errorf("%w: vector matching", errUnsupported)
	}
	l, err := eval(n.LHS, ss)
	if err != nil {
		return l, err
	}
	r, err := eval(n.RHS, ss)
	if err != nil {
		return r, err
	}
	if l.series != nil || r.series != nil {
		return value{}, fmt.Errorf("%w: unaggregated rate", errUnsupported)
	}
	if n.Op == parser.LOR {
		if l.empty {
			return r, nil
		}
		return l, nil
	}
	if l.empty || r.empty {
		return value{empty: true}, nil
	}
	switch n.Op {
	case parser.ADD, parser.SUB:
		if l.deg != r.deg {
			return value{}, fmt.Errorf("%w: adds a rate to a number", errUnsupported)
		}
		if n.Op == parser.SUB {
			return value{num: l.num - r.num, deg: l.deg}, nil
		}
		return value{num: l.num + r.num, deg: l.deg}, nil
	case parser.MUL:
		return value{num: l.num * r.num, deg: l.deg + r.deg}, nil
	case parser.DIV:
		return value{num: l.num / r.num, deg: l.deg - r.deg}, nil
	}
	return value{}, fmt.Errorf("%w: operator %s", errUnsupported, n.Op)
}

// ratioFunc computes an SLI's error ratio from the slopes.
type ratioFunc func(ss []synthSeries) (float64, error)

// solve sets the slopes so that ratio gives target: it walks the series,
// and for the first one whose slope alone can reach the target it finds
// that slope by bisection (over its logarithm, from 1e-6 to 1e6).
func solve(ss []synthSeries, ratio ratioFunc, target float64) error {
	at := func(i int, x float64) float64 {
		old := ss[i].slope
		ss[i].slope = x
		r, err := ratio(ss)
		ss[i].slope = old
		if err != nil {
			return math.NaN()
		}
		return r
	}
	for i := range ss {
		lo, hi := math.Log(1e-6), math.Log(1e6)
		flo, fhi := at(i, math.Exp(lo)), at(i, math.Exp(hi))
		if math.IsNaN(flo) || math.IsNaN(fhi) || (target-flo)*(target-fhi) > 0 {
			continue
		}
		for range 100 {
			mid := (lo + hi) / 2
			fm := at(i, math.Exp(mid))
			if (target-flo)*(target-fm) <= 0 {
				hi = mid
			} else {
				lo, flo = mid, fm
			}
		}
		ss[i].slope = math.Exp((lo + hi) / 2)
		return nil
	}
	return fmt.Errorf("%w: no slope of a single series gives an error ratio of %g", errUnsupported, target)
}

// round scales the slopes so that the largest is 1000 per sample and
// rounds them to 6 significant digits, so that the test file is readable.
func round(ss []synthSeries) {
	maxSlope := 0.0
	for _, s := range ss {
		maxSlope = max(maxSlope, s.slope)
	}
	for i := range ss {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(ss[i].slope*1000/maxSlope, 'g', 6, 64), 64)
		ss[i].slope = v
	}
}
