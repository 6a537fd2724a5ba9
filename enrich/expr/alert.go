package expr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// Annotations a rule can set to say what its alerts watch, overriding the
// expression.
const (
	AnnotationQuery      = "augur_query"
	AnnotationThreshold  = "augur_threshold"
	AnnotationComparator = "augur_comparator"
)

// OfAlert returns the condition an alert fires on: from its annotations
// when its rule sets augur_query and augur_threshold (and optionally
// augur_comparator, default ">"), else from the expression in its
// generatorURL. The condition is ordered (>, >=, <, <=): == and != are
// states, not thresholds a trend crosses or a baseline measures.
func OfAlert(a model.Alert) (Condition, error) {
	if q := string(a.Annotations[AnnotationQuery]); q != "" {
		t, err := strconv.ParseFloat(strings.TrimSpace(string(a.Annotations[AnnotationThreshold])), 64)
		if err != nil {
			return Condition{}, fmt.Errorf("annotation %s: %q is not a number", AnnotationThreshold, a.Annotations[AnnotationThreshold])
		}
		c := Condition{Query: q, Comparator: string(a.Annotations[AnnotationComparator]), Threshold: t}
		if c.Comparator == "" {
			c.Comparator = ">"
		}
		return ordered(c, q)
	}
	if a.GeneratorURL == "" {
		return Condition{}, errors.New("the alert has no generatorURL and no augur_query annotation: nothing says what it watches")
	}
	e, err := FromGeneratorURL(a.GeneratorURL)
	if err != nil {
		return Condition{}, err
	}
	return SplitOrdered(e)
}

// SplitOrdered is Split for conditions with an order (>, >=, <, <=).
func SplitOrdered(e string) (Condition, error) {
	c, err := Split(e)
	if err != nil {
		return c, err
	}
	return ordered(c, e)
}

func ordered(c Condition, e string) (Condition, error) {
	if !c.Ordered() {
		return c, fmt.Errorf("%s: the comparison %q is a state, not a threshold a trend crosses", e, c.Comparator)
	}
	return c, nil
}

// Matches reports whether an alert carries every label of a series (but
// its name) with the same value: whether the series is the alert's.
func Matches(series model.Metric, alert model.LabelSet) bool {
	for name, v := range series {
		if name != model.MetricNameLabel && alert[name] != v {
			return false
		}
	}
	return true
}

// Pick returns the alert's series from a query result: the only one, or
// the most specific one that Matches the alert.
func Pick[T any](series []T, metric func(T) model.Metric, alert model.LabelSet) (T, error) {
	var best T
	if len(series) == 1 {
		return series[0], nil
	}
	found := false
	for _, s := range series {
		if Matches(metric(s), alert) && (!found || len(metric(s)) > len(metric(best))) {
			best, found = s, true
		}
	}
	if !found {
		return best, fmt.Errorf("none of its %d series has the alert's labels", len(series))
	}
	return best, nil
}
