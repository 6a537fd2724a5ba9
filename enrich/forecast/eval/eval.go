// Package eval replays package predict's forecaster over recorded series
// with known answers and scores its early warnings of a threshold breach:
// how many breaches it warns of, how far ahead, how many warnings are
// false, and how close its time to breach is to the true one.
//
// A replay is what the watcher would have done had it run while the series
// was recorded: at each evaluation time it fits the trailing lookback
// window, and only that (never a later sample), and warns when the
// forecast says the threshold is crossed within the horizon. The tests run
// it on the Numenta Anomaly Benchmark and on ramps laid over NAB
// backgrounds; the data stays outside the repository.
package eval

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/augur-sre/augur/enrich/forecast/predict"
)

// Policy is how a series is replayed and what counts as a warning. One
// policy serves every series of an evaluation.
type Policy struct {
	// Lookback is the history each forecast is fitted on, ending at the
	// evaluation time.
	Lookback time.Duration
	// Horizon is how far ahead each forecast looks.
	Horizon time.Duration
	// Every is the time between two evaluations, at least one step:
	// fitting at every sample of a long series costs more than it tells.
	Every time.Duration
	// MinProbability is the least Breach.Probability of a warning, as the
	// watcher's min_probability.
	MinProbability float64
	// Level is the coverage of the forecast's prediction interval.
	Level float64
}

// Warns reports whether a forecast's breach is a warning under the
// policy: the point forecast crosses the threshold within the horizon,
// likely enough, and the last sample has not crossed it yet (then the
// alert itself fires and a prediction adds nothing). It is the watcher's
// rule for raising a predicted alert.
func (p Policy) Warns(b predict.Breach) bool {
	return b.Will && !b.AlreadyBreached && b.In <= p.Horizon && b.Probability >= p.MinProbability
}

// Eval is one evaluation of a replay.
type Eval struct {
	// At is the time of the last sample the forecast saw.
	At time.Time
	// Fitted is false when the window could not be fitted (too few
	// samples since a gap); such an evaluation never warns.
	Fitted bool
	// Breach is the forecast's answer for the threshold.
	Breach predict.Breach
	// Warn is whether the policy counts it as a warning.
	Warn bool
}

// Replay evaluates the forecaster on s at every p.Every from the first
// sample at or after from with a full lookback behind it to the last
// sample at or before to, each forecast fitted on the lookback window
// ending at its sample, and asks whether "value > threshold" holds within
// the horizon.
func Replay(s predict.Series, threshold float64, from, to time.Time, p Policy) ([]Eval, error) {
	if s.Step <= 0 {
		return nil, fmt.Errorf("series step %s: must be positive", s.Step)
	}
	window := int(p.Lookback / s.Step)
	every := max(1, int(p.Every/s.Step))
	first := max(window-1, int(math.Ceil(float64(from.Sub(s.Start))/float64(s.Step))))
	last := min(len(s.Values)-1, int(to.Sub(s.Start)/s.Step))
	opts := predict.Options{Horizon: p.Horizon, Level: p.Level}
	var out []Eval
	for i := first; i <= last; i += every {
		lo := i + 1 - window
		e := Eval{At: s.Start.Add(time.Duration(i) * s.Step)}
		f, err := predict.Fit(predict.Series{Start: s.Start.Add(time.Duration(lo) * s.Step), Step: s.Step, Values: s.Values[lo : i+1]}, opts)
		if err == nil {
			e.Fitted, e.Breach = true, f.Breach(">", threshold)
			e.Warn = p.Warns(e.Breach)
		}
		out = append(out, e)
	}
	return out, nil
}

// FirstWarning returns the earliest warning at or after from and before
// to, and whether there is one.
func FirstWarning(evals []Eval, from, to time.Time) (Eval, bool) {
	for _, e := range evals {
		if e.Warn && !e.At.Before(from) && e.At.Before(to) {
			return e, true
		}
	}
	return Eval{}, false
}

// Interval is a span of time, Start included and End excluded.
type Interval struct {
	Start, End time.Time
}

// Contains reports whether t falls within the interval.
func (i Interval) Contains(t time.Time) bool {
	return !t.Before(i.Start) && t.Before(i.End)
}

// Episodes counts the warning episodes that start at or after from and
// outside all of the excluded intervals: consecutive warning evaluations
// make one episode, since a watcher raising a predicted alert keeps it
// while the forecast holds. An evaluation inside an excluded interval
// ends an episode.
func Episodes(evals []Eval, from time.Time, excluded []Interval) int {
	var n int
	warning := false
	for _, e := range evals {
		if e.At.Before(from) || inAny(e.At, excluded) {
			warning = false
			continue
		}
		if e.Warn && !warning {
			n++
		}
		warning = e.Warn
	}
	return n
}

// inAny reports whether t falls within any of the intervals.
func inAny(t time.Time, intervals []Interval) bool {
	for _, i := range intervals {
		if i.Contains(t) {
			return true
		}
	}
	return false
}

// Quantile returns the q-quantile of v, interpolated linearly between
// order statistics (so the median of an even count is the mean of the
// middle two), or NaN for none; v is left unchanged.
func Quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(pos)
	hi := min(lo+1, len(s)-1)
	return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
}
