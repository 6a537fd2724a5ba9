package predict

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/augur-sre/augur/enrich/expr"
)

// Breach says whether, when and how likely a condition on the series
// holds within the forecast's horizon.
//
// The condition is met by the first sample that meets it, noise and all,
// as an alerting rule evaluating the series sees it: not when the point
// forecast crosses the threshold, which on a noisy series is later, by
// about the noise over the slope. Breach models the error of the forecast
// k steps ahead as a part shared by all steps (the level and trend the
// model may have wrong, which grows with k) plus the samples' own noise
// (Forecast.Noise), which each step draws afresh, and takes the
// distribution of the first step at which a sample meets the condition:
// the more of the error is noise, the more each step is a new try at the
// threshold. Samples closer than the noise's correlation length are not
// independent tries: a step counts (1−ρ)/(1+ρ) of one, ρ being
// Forecast.Persistence.
type Breach struct {
	// Will is true when the condition holds now or is more likely than
	// not to be met within the horizon.
	Will bool
	// In is the median time from the last observation to the first
	// sample meeting the condition, interpolated between steps; 0 unless
	// Will.
	In time.Duration
	// Probability is the probability that a sample meets the condition
	// within the horizon; 1 when it holds now. It is never larger for a
	// threshold harder to reach.
	Probability float64
	// Lower and Upper bound the forecast's Level interval at the horizon.
	Lower, Upper float64
	// AlreadyBreached is true when the last observed value meets the
	// condition.
	AlreadyBreached bool
}

// Breach returns when the forecast meets "value cmp threshold", with cmp
// one of ">", ">=", "<" and "<=". Whether it holds now is decided as
// PromQL would (expr.Compare); any other comparator is never forecast to
// hold.
func (f Forecast) Breach(cmp string, threshold float64) Breach {
	var b Breach
	h := len(f.Predicted)
	if h > 0 {
		z := distuv.UnitNormal.Quantile((1 + f.Level) / 2)
		b.Lower, b.Upper = f.Predicted[h-1]-z*f.Sigma[h-1], f.Predicted[h-1]+z*f.Sigma[h-1]
	}
	if expr.Compare(cmp, f.Current, threshold) {
		b.Will, b.AlreadyBreached, b.Probability = true, true, 1
		return b
	}
	sign := 1.0
	switch cmp {
	case ">", ">=":
	case "<", "<=":
		sign = -1
	default:
		return b
	}
	prev := 0.0
	for k, p := range f.firstPassage(sign, threshold) {
		if !b.Will && p >= 0.5 {
			frac := (0.5 - prev) / (p - prev)
			b.Will, b.In = true, time.Duration((float64(k)+frac)*float64(f.Step))
		}
		prev = p
	}
	b.Probability = prev
	return b
}

// firstPassage returns, for each step of the forecast, the probability
// that a sample has exceeded the threshold (sign 1) or fallen below it
// (sign −1) by then, under the error model of Breach. Each step's
// probability of staying short is that of its normal error; of the steps
// so far the likeliest to cross counts in full and every other with the
// weight of an independent try: the share of its error variance that is
// the samples' own noise, times (1−ρ)/(1+ρ). With no noise the result is
// the probability of the likeliest step, as when the errors of all steps
// are one; with only white noise, that of all steps together.
func (f Forecast) firstPassage(sign, threshold float64) []float64 {
	tries := (1 - f.Persistence) / (1 + f.Persistence)
	out := make([]float64, len(f.Predicted))
	tried, least := 1.0, 1.0
	for k, mean := range f.Predicted {
		short := stayShort(sign*(threshold-mean), f.Sigma[k])
		w := 0.0
		if f.Sigma[k] > 0 {
			w = tries * min(1, f.Noise*f.Noise/(f.Sigma[k]*f.Sigma[k]))
		}
		tried *= math.Pow(short, w)
		least = min(least, math.Pow(short, 1-w))
		out[k] = 1 - tried*least
	}
	return out
}

// stayShort is the probability that a normal error of standard
// deviation sd stays under the margin; noiseless, whether the margin is not
// negative (a sample at the threshold does not cross it).
func stayShort(margin, sd float64) float64 {
	if sd > 0 {
		return distuv.UnitNormal.CDF(margin / sd)
	}
	if margin >= 0 {
		return 1
	}
	return 0
}
