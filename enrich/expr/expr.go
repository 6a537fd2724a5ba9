package expr

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Condition is an alerting expression split for forecasting: the alert fires
// while Query Comparator Threshold holds (for each series of Query), and its
// Filters and Unless allow it.
type Condition struct {
	// Query is the PromQL of the watched side, as printed by the parser.
	Query string
	// Comparator is one of >, >=, <, <=, ==, !=, oriented as Query <cmp> Threshold.
	Comparator string
	// Threshold is the threshold when it is a number (constant arithmetic folded).
	Threshold float64
	// ThresholdQuery is the PromQL of the threshold when it is itself a query
	// (x > other_series, x > scalar(y)); "" when the threshold is a number.
	ThresholdQuery string
	// Matching is the vector matching between Query and ThresholdQuery as
	// PromQL, e.g. "on (instance) group_left ()"; "" when series pair by
	// identical label sets or the threshold is a number.
	Matching string
	// Filters are the right sides of "and": what must also have a matching
	// series for the alert to fire. Informative.
	Filters []string
	// Unless are the right sides of "unless": what must have no matching
	// series for the alert to fire. Informative.
	Unless []string
}

// Ordered reports whether the comparator orders values (>, >=, <, <=). Only
// then does a trend cross the threshold at a time worth forecasting; == and
// != describe a state, such as up == 0, that a continuous forecast almost
// never hits exactly.
func (c Condition) Ordered() bool {
	switch c.Comparator {
	case ">", ">=", "<", "<=":
		return true
	}
	return false
}

// Split splits an alerting expression into its condition. The error says why
// an expression cannot be split; Split never guesses.
func Split(expr string) (Condition, error) {
	node, err := newParser().ParseExpr(expr)
	if err != nil {
		return Condition{}, fmt.Errorf("parse alert expression %q: %w", expr, err)
	}
	c, err := condition(node)
	if err != nil {
		return Condition{}, fmt.Errorf("split alert expression %q: %w", expr, err)
	}
	return c, nil
}

// newParser returns a parser that accepts what a Prometheus with experimental
// functions enabled accepts, so rules using them (double_exponential_smoothing)
// split too.
func newParser() parser.Parser {
	return parser.NewParser(parser.Options{EnableExperimentalFunctions: true})
}

// Check returns why query is not valid PromQL, as a Prometheus with
// experimental functions enabled reads it, or nil.
func Check(query string) error {
	_, err := newParser().ParseExpr(query)
	return err
}

// FromGeneratorURL returns the expression in the g0.expr parameter of a
// Prometheus graph URL, the generatorURL Prometheus sets on its alerts.
func FromGeneratorURL(generatorURL string) (string, error) {
	u, err := url.Parse(generatorURL)
	if err != nil {
		return "", fmt.Errorf("parse generator URL: %w", err)
	}
	e := u.Query().Get("g0.expr")
	if strings.TrimSpace(e) == "" {
		return "", fmt.Errorf("generator URL %q has no g0.expr parameter: it is not a Prometheus graph link", generatorURL)
	}
	return e, nil
}

// Compare reports whether value <cmp> threshold holds, as PromQL evaluates it
// (a NaN satisfies only !=). An unknown comparator never holds.
func Compare(cmp string, value, threshold float64) bool {
	switch cmp {
	case ">":
		return value > threshold
	case ">=":
		return value >= threshold
	case "<":
		return value < threshold
	case "<=":
		return value <= threshold
	case "==":
		return value == threshold
	case "!=":
		return value != threshold
	}
	return false
}

// condition splits the expression at node.
func condition(node parser.Expr) (Condition, error) {
	node = unwrap(node)
	switch n := node.(type) {
	case *parser.BinaryExpr:
		return binary(n)
	case *parser.Call:
		if n.Func.Name == "absent" || n.Func.Name == "absent_over_time" {
			return Condition{}, fmt.Errorf("%s() has no threshold to forecast: the alert fires when a series is missing", n.Func.Name)
		}
	}
	return Condition{}, fmt.Errorf("%s has no comparison at the top level: the alert fires whenever it returns a series, there is no threshold to forecast", node)
}

// binary splits a binary expression by its operator.
func binary(b *parser.BinaryExpr) (Condition, error) {
	switch {
	case b.Op.IsComparisonOperator():
		return comparison(b)
	case b.Op == parser.LAND || b.Op == parser.LUNLESS:
		return setFilter(b)
	case b.Op == parser.LOR:
		return Condition{}, errors.New("or joins alternatives that each fire the alert: there is no single condition to forecast; write one rule per alternative")
	}
	return Condition{}, fmt.Errorf("the top-level operator %s is arithmetic, not a comparison: there is no threshold to forecast", b.Op)
}

// setFilter splits "a and b" and "a unless b": the condition is a's, b
// filters its series.
func setFilter(b *parser.BinaryExpr) (Condition, error) {
	c, err := condition(b.LHS)
	if err != nil {
		return Condition{}, fmt.Errorf("left side of %s: %w", b.Op, err)
	}
	rhs := unwrap(b.RHS).String()
	if b.Op == parser.LAND {
		c.Filters = append(c.Filters, rhs)
	} else {
		c.Unless = append(c.Unless, rhs)
	}
	return c, nil
}

// comparison splits a comparison, oriented as query <op> threshold.
func comparison(b *parser.BinaryExpr) (Condition, error) {
	query, threshold, op, err := orient(b)
	if err != nil {
		return Condition{}, err
	}
	if inner, ok := query.(*parser.BinaryExpr); ok && inner.Op.IsComparisonOperator() && !inner.ReturnBool {
		return chained(inner, b.VectorMatching, op, threshold)
	}
	c := Condition{Query: query.String(), Comparator: op.String()}
	if v, ok := constant(threshold); ok {
		c.Threshold = v
		return c, nil
	}
	c.ThresholdQuery = threshold.String()
	c.Matching = matching(b.VectorMatching)
	return c, nil
}

// orient returns the watched side, the threshold side and the comparator
// that puts the watched side on the left. A number is always the threshold;
// between a scalar and a vector the vector is watched, since the comparison
// keeps its series; between two vectors the left one is, since a filtering
// comparison keeps the left side's values.
func orient(b *parser.BinaryExpr) (query, threshold parser.Expr, op parser.ItemType, err error) {
	lhs, rhs := unwrap(b.LHS), unwrap(b.RHS)
	_, lconst := constant(lhs)
	_, rconst := constant(rhs)
	switch {
	case lconst && rconst:
		return nil, nil, 0, fmt.Errorf("%s compares two numbers: there is no series to forecast", b)
	case lconst, lhs.Type() == parser.ValueTypeScalar && rhs.Type() == parser.ValueTypeVector:
		return rhs, lhs, flip(b.Op), nil
	}
	return lhs, rhs, b.Op, nil
}

// chained splits (q <cmp1> t1) <op> threshold, a conjunction on q's values:
// the condition is the first comparison and q <op> threshold a filter.
func chained(inner *parser.BinaryExpr, vm *parser.VectorMatching, op parser.ItemType, threshold parser.Expr) (Condition, error) {
	c, err := comparison(inner)
	if err != nil {
		return Condition{}, err
	}
	query, _, _, err := orient(inner)
	if err != nil {
		return Condition{}, err
	}
	filter := &parser.BinaryExpr{Op: op, LHS: paren(query), RHS: paren(threshold), VectorMatching: vm}
	c.Filters = append(c.Filters, filter.String())
	return c, nil
}

// flip returns the comparator that holds with its operands swapped.
func flip(op parser.ItemType) parser.ItemType {
	switch op {
	case parser.GTR:
		return parser.LSS
	case parser.GTE:
		return parser.LTE
	case parser.LSS:
		return parser.GTR
	case parser.LTE:
		return parser.GTE
	}
	return op // == and != are symmetric.
}

// matching returns the PromQL of a vector matching, "" for the default.
func matching(vm *parser.VectorMatching) string {
	b := &parser.BinaryExpr{Op: parser.GTR, VectorMatching: vm}
	return strings.TrimSpace(strings.TrimPrefix(b.ShortString(), b.Op.String()))
}

// unwrap strips the parentheses around an expression.
func unwrap(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// paren puts a binary expression in parentheses so that it keeps its meaning
// as an operand.
func paren(e parser.Expr) parser.Expr {
	if _, ok := e.(*parser.BinaryExpr); ok {
		return &parser.ParenExpr{Expr: e}
	}
	return e
}

// constant returns the value of e when it is number arithmetic, such as
// 4 * 1024 * 1024 or (1 - 0.999) * 14.4, evaluated as PromQL does.
func constant(e parser.Expr) (float64, bool) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, true
	case *parser.ParenExpr:
		return constant(n.Expr)
	case *parser.UnaryExpr:
		v, ok := constant(n.Expr)
		if n.Op == parser.SUB {
			v = -v
		}
		return v, ok
	case *parser.BinaryExpr:
		l, lok := constant(n.LHS)
		r, rok := constant(n.RHS)
		if !lok || !rok {
			return 0, false
		}
		return arithmetic(n.Op, l, r)
	}
	return 0, false
}

// arithmetic applies a PromQL arithmetic operator to two numbers; a
// comparison between numbers is not folded.
func arithmetic(op parser.ItemType, l, r float64) (float64, bool) {
	switch op {
	case parser.ADD:
		return l + r, true
	case parser.SUB:
		return l - r, true
	case parser.MUL:
		return l * r, true
	case parser.DIV:
		return l / r, true
	case parser.MOD:
		return math.Mod(l, r), true
	case parser.POW:
		return math.Pow(l, r), true
	case parser.ATAN2:
		return math.Atan2(l, r), true
	}
	return 0, false
}
