package predict

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Breach says whether, when and how likely a condition on the series
// holds within the forecast's horizon.
type Breach struct {
	// Will is true when the condition holds now or the point forecast
	// reaches it within the horizon.
	Will bool
	// In is the time from the last observation to the point forecast
	// first meeting the condition, interpolated between steps; 0 unless
	// Will.
	In time.Duration
	// Probability is the largest, over the steps up to the horizon, of the
	// probability that the condition holds at that step under normal
	// errors with the forecast's Sigma; 1 when it holds now. It is a lower
	// bound on the probability that it holds at some time before the
	// horizon, and never larger for a threshold harder to reach.
	Probability float64
	// Lower and Upper bound the forecast's Level interval at the horizon.
	Lower, Upper float64
	// AlreadyBreached is true when the last observed value meets the
	// condition.
	AlreadyBreached bool
}

// Breach returns when the forecast meets "value cmp threshold", with cmp
// one of ">", ">=", "<" and "<=". An unknown comparator never holds.
func (f Forecast) Breach(cmp string, threshold float64) Breach {
	var b Breach
	if h := len(f.Predicted); h > 0 {
		z := distuv.UnitNormal.Quantile((1 + f.Level) / 2)
		b.Lower, b.Upper = f.Predicted[h-1]-z*f.Sigma[h-1], f.Predicted[h-1]+z*f.Sigma[h-1]
	}
	if holds(cmp, f.Current, threshold) {
		b.Will, b.AlreadyBreached, b.Probability = true, true, 1
		return b
	}
	prev := f.Current
	for k, v := range f.Predicted {
		b.Probability = max(b.Probability, probability(cmp, v, f.Sigma[k], threshold))
		if !b.Will && holds(cmp, v, threshold) {
			frac := (threshold - prev) / (v - prev)
			b.Will, b.In = true, time.Duration((float64(k)+frac)*float64(f.Step))
		}
		prev = v
	}
	return b
}

// holds reports whether v cmp threshold.
func holds(cmp string, v, threshold float64) bool {
	switch cmp {
	case ">":
		return v > threshold
	case ">=":
		return v >= threshold
	case "<":
		return v < threshold
	case "<=":
		return v <= threshold
	}
	return false
}

// probability is the probability that a normal value of the mean and
// standard deviation meets the condition.
func probability(cmp string, mean, sigma, threshold float64) float64 {
	if sigma == 0 || math.IsNaN(sigma) {
		if holds(cmp, mean, threshold) {
			return 1
		}
		return 0
	}
	above := distuv.UnitNormal.CDF((mean - threshold) / sigma)
	switch cmp {
	case ">", ">=":
		return above
	case "<", "<=":
		return 1 - above
	}
	return 0
}
