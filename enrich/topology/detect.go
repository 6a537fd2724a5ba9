package topology

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/augur-sre/augur/enrich/robust"
)

// Direction says which way a change of a metric is bad.
type Direction int

const (
	// WorseUp is for metrics where higher is worse: latency, error rate,
	// saturation. It is the zero value.
	WorseUp Direction = iota
	// WorseDown is for metrics where lower is worse: availability, success
	// ratio, throughput of a worker.
	WorseDown
	// WorseEither is for metrics where any large change is suspect, such
	// as request rate.
	WorseEither
)

// Signal is one metric of one service: its History during normal operation
// and the Current window under examination, Current[i] taken at
// Start + i·Step. NaN marks a missing sample in either.
type Signal struct {
	Name    string
	Worse   Direction
	History []float64
	Current []float64
	Start   time.Time
	Step    time.Duration
}

// Default detector settings; see Detector.
const (
	DefaultThreshold   = 5.0
	DefaultSustain     = 2
	DefaultMinHistory  = 12
	DefaultMinRelative = 0.05
)

// Detector decides from metric history whether a service is anomalous now.
// For each signal it computes a robust z-score of every current sample,
//
//	z = (x − median(history)) / (1.4826 · MAD(history)),
//
// signed so that positive is the bad direction, and calls the signal
// anomalous when Sustain consecutive samples all reach Threshold. The zero
// value uses the defaults.
//
// Median and MAD ignore the outliers that any real history holds, which a
// mean and standard deviation would not. The scale has two floors: when
// more than half of the history is one value (MAD = 0, common for
// availability at 100 %) the mean absolute deviation around the median is
// used instead; and, for metrics where higher (or any change) is worse, the
// scale is never below MinRelative of the median, so that a 2 % wobble of a
// very steady latency is not an incident. Metrics where lower is worse get
// only a 0.1 % resolution floor: for availability near 100 % a larger one
// would hide every drop that matters.
//
// The current window should start before the incident (say 30 minutes
// before the first alert). A signal already anomalous at its first sample
// departed from normal before the window — a level shift since the history
// was taken, or an older problem — and is reported Preexisting, not
// anomalous: a chronic condition must not pose as the earliest onset of a
// new cascade. (Judging such a signal against its first sample instead, to
// catch a further rise, was tried on PetShop: the history's scale no longer
// fits the shifted regime and its noise then reads as new onsets.)
type Detector struct {
	// Threshold is the robust z a sample must reach (default 5, far
	// beyond what noise of a well-behaved metric reaches in a day).
	Threshold float64
	// Sustain is how many consecutive samples must reach it (default 2):
	// one sample over is a blip, not a cascade.
	Sustain int
	// MinHistory is the number of history samples needed to judge a
	// signal (default 12); signals with fewer are skipped.
	MinHistory int
	// MinRelative is the smallest scale as a fraction of the median
	// (default 0.05) for metrics where higher or any change is worse.
	// Negative leaves only the 0.1 % resolution floor.
	MinRelative float64
}

// SignalScore is what Detector found in one signal: the strength (the
// smallest z of the strongest sustained run, 0 when nothing reached the
// threshold) and the time of the first sample of the first sustained run.
// Preexisting is set, and Anomalous not, when the signal was already beyond
// the threshold at the first sample of the window.
type SignalScore struct {
	Name        string
	Anomalous   bool
	Preexisting bool
	Score       float64
	Onset       time.Time
}

// Assess returns the State of a service from its signals: anomalous when
// any signal is, with the earliest onset of the anomalous signals and the
// highest score of all, and the score of each usable signal in the order
// given. Signals without enough history or without a current sample are
// skipped; when none is left Assess returns an error, and the caller should
// leave the service out of the analysis (unknown) rather than call it
// healthy.
func (d Detector) Assess(signals ...Signal) (State, []SignalScore, error) {
	d = d.withDefaults()
	var (
		st     State
		scores []SignalScore
		errs   []error
	)
	for _, sig := range signals {
		sc, err := d.score(sig)
		if err != nil {
			errs = append(errs, fmt.Errorf("signal %q: %w", sig.Name, err))
			continue
		}
		scores = append(scores, sc)
		st.Score = math.Max(st.Score, sc.Score)
		if sc.Anomalous {
			if !st.Anomalous || sc.Onset.Before(st.Onset) {
				st.Onset = sc.Onset
			}
			st.Anomalous = true
		}
	}
	if len(scores) == 0 {
		if len(errs) == 0 {
			return State{}, nil, errors.New("assess: no signals")
		}
		return State{}, nil, fmt.Errorf("assess: no usable signal: %w", errors.Join(errs...))
	}
	return st, scores, nil
}

func (d Detector) withDefaults() Detector {
	if d.Threshold <= 0 {
		d.Threshold = DefaultThreshold
	}
	if d.Sustain <= 0 {
		d.Sustain = DefaultSustain
	}
	if d.MinHistory <= 0 {
		d.MinHistory = DefaultMinHistory
	}
	if d.MinRelative == 0 {
		d.MinRelative = DefaultMinRelative
	}
	return d
}

// score computes one signal's SignalScore.
func (d Detector) score(sig Signal) (SignalScore, error) {
	hist := finite(sig.History)
	if len(hist) < d.MinHistory {
		return SignalScore{}, fmt.Errorf("%d history samples, need %d", len(hist), d.MinHistory)
	}
	minRel := d.MinRelative
	if sig.Worse == WorseDown {
		minRel = 0
	}
	center, scale := robustScale(hist, minRel)
	sc := SignalScore{Name: sig.Name}
	run, start, runMin, seen := 0, 0, math.Inf(1), false
	for i, x := range sig.Current {
		if math.IsNaN(x) {
			// A gap neither breaks nor extends a run: scrapes get lost
			// in the middle of incidents too.
			continue
		}
		z := badness(x, center, scale, sig.Worse)
		if !seen && z >= d.Threshold {
			// Already anomalous at the start of the window: the
			// departure predates what is being examined.
			return SignalScore{Name: sig.Name, Preexisting: true}, nil
		}
		seen = true
		if z < d.Threshold {
			run, runMin = 0, math.Inf(1)
			continue
		}
		if run == 0 {
			start = i
		}
		run++
		runMin = math.Min(runMin, z)
		if run == d.Sustain && !sc.Anomalous {
			sc.Anomalous = true
			sc.Onset = sig.Start.Add(time.Duration(start) * sig.Step)
		}
		if run >= d.Sustain {
			sc.Score = math.Max(sc.Score, runMin)
		}
	}
	if !seen {
		return SignalScore{}, errors.New("no current sample")
	}
	return sc, nil
}

// badness returns the robust z of x, positive in the bad direction.
func badness(x, center, scale float64, worse Direction) float64 {
	z := (x - center) / scale
	switch worse {
	case WorseDown:
		return -z
	case WorseEither:
		return math.Abs(z)
	}
	return z
}

// resolution is the smallest scale of any signal as a fraction of its
// median: differences below 0.1 % are below what metrics resolve, and a
// history that never moved (availability at exactly 100 %) must still give
// finite z-scores.
const resolution = 1e-3

// robustScale returns the median of xs and a robust scale: 1.4826·MAD,
// else 1.2533·mean absolute deviation from the median when the MAD is 0,
// floored at max(minRel, resolution)·|median| and at a tiny absolute
// value for a history of zeros.
func robustScale(xs []float64, minRel float64) (center, scale float64) {
	center = robust.Median(xs)
	dev := make([]float64, len(xs))
	sum := 0.0
	for i, x := range xs {
		dev[i] = math.Abs(x - center)
		sum += dev[i]
	}
	scale = 1.4826 * robust.Median(dev)
	if scale == 0 {
		scale = 1.2533 * sum / float64(len(dev))
	}
	return center, math.Max(scale, math.Max(minRel, resolution)*math.Abs(center)+1e-12)
}

func finite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}
