package runbook

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
)

// summarise says in a line what a query returned: the number of series
// and the largest value with the labels that tell its series apart,
// "3 series; max 0.079 {pod="checkout-1"}".
func summarise(v model.Value) string {
	switch v := v.(type) {
	case model.Vector:
		if len(v) == 0 {
			return "no series"
		}
		metrics := make([]model.Metric, len(v))
		top := 0
		for i, s := range v {
			metrics[i] = s.Metric
			if greater(float64(s.Value), float64(v[top].Value)) {
				top = i
			}
		}
		return seriesLine(len(v), float64(v[top].Value), distinct(metrics, top))
	case model.Matrix:
		if len(v) == 0 {
			return "no series"
		}
		metrics := make([]model.Metric, len(v))
		top, topValue := -1, math.NaN()
		for i, s := range v {
			metrics[i] = s.Metric
			if len(s.Values) == 0 {
				continue
			}
			last := float64(s.Values[len(s.Values)-1].Value)
			if top < 0 || greater(last, topValue) {
				top, topValue = i, last
			}
		}
		if top < 0 {
			return fmt.Sprintf("%d series, no samples", len(v))
		}
		return seriesLine(len(v), topValue, distinct(metrics, top)) + " (last sample)"
	case *model.Scalar:
		return enrich.Number(float64(v.Value))
	case *model.String:
		return shorten(v.Value, 160)
	case nil:
		return "no result"
	}
	return v.Type().String()
}

// greater orders values with NaN lowest.
func greater(a, b float64) bool {
	return !math.IsNaN(a) && (math.IsNaN(b) || a > b)
}

func seriesLine(n int, top float64, labels string) string {
	if n == 1 {
		return strings.TrimSpace(fmt.Sprintf("1 series; %s %s", enrich.Number(top), labels))
	}
	return strings.TrimSpace(fmt.Sprintf("%d series; max %s %s", n, enrich.Number(top), labels))
}

// distinct returns the labels of metrics[i] that differ between the
// metrics (all but the name when there is one), as {a="b", ...}.
func distinct(metrics []model.Metric, i int) string {
	var names []string
	for name, value := range metrics[i] {
		if name == model.MetricNameLabel {
			continue
		}
		differs := len(metrics) == 1
		for _, m := range metrics {
			if m[name] != value {
				differs = true
				break
			}
		}
		if differs {
			names = append(names, string(name))
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for j, n := range names {
		parts[j] = fmt.Sprintf("%s=%q", n, string(metrics[i][model.LabelName(n)]))
	}
	return shorten("{"+strings.Join(parts, ", ")+"}", 120)
}
