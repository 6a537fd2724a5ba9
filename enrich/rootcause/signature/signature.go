package signature

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/robust"
)

// Patterns a Signature reports, as in the augur_enrichment signature
// part.
const (
	Stable          = "stable"
	StepChange      = "step_change"
	SuddenIncrease  = "sudden_increase"
	GradualIncrease = "gradual_increase"
	SuddenDecrease  = "sudden_decrease"
	GradualDecrease = "gradual_decrease"
	Spike           = "spike"
)

// Patterns returns the patterns, stable first.
func Patterns() []string {
	return []string{Stable, StepChange, SuddenIncrease, GradualIncrease, SuddenDecrease, GradualDecrease, Spike}
}

// Defaults for Options.
const (
	DefaultThreshold   = 1.5
	DefaultPenalty     = 1.2
	DefaultSudden      = 10 * time.Minute
	DefaultSpikeSpan   = 10 * time.Minute
	DefaultSpreadFloor = 0.5
)

// MinSamples is the fewest observed samples Detect describes: fewer hold
// too little to tell a change from noise.
const MinSamples = 10

// ErrTooFewSamples is returned, wrapped, when a series holds fewer than
// MinSamples observed samples: the signal's signature is unknown, which
// is not the same as stable.
var ErrTooFewSamples = errors.New("too few samples")

// Shape of the change. abruptShare is the share of the change a shape
// must make at once, with the rest following as a line, to be called
// sudden however long the line; returnShare is how close to the level
// before (as a share of the excursion) the series must come back to have
// returned; modelPenalty, in squared noise units per log sample, is how
// much better a ramp must fit than a step (and a jump followed by a ramp
// than either) to be preferred.
const (
	abruptShare  = 0.5
	returnShare  = 0.25
	modelPenalty = 0.5
	// reached is the share of the change after which it counts as made:
	// the transition ends there.
	reached = 0.9
	// stepSteps is the longest transition, in steps, of a step change.
	stepSteps = 2
	// winsor is how far, in noise units, a sample may lie from the
	// running median in the fit of the shape: an outlier further away
	// counts as that far.
	winsor = 2.5
)

// Series is evenly spaced samples: Values[i] was observed at
// Start + i*Step. NaN (or ±Inf) marks a missing sample.
type Series struct {
	Start  time.Time
	Step   time.Duration
	Values []float64
}

// Reference is what the series is expected to be at each of its samples,
// from a seasonal baseline: the expected value and its robust spread (a
// standard deviation). Spread may be nil. A NaN expected value makes its
// sample missing.
type Reference struct {
	Expected []float64
	Spread   []float64
}

// Options tune Detect. The zero value gives the defaults.
type Options struct {
	// Threshold is the least change, in noise units, that is not stable
	// (0: DefaultThreshold).
	Threshold float64
	// Penalty scales the threshold of the change-point search: a split
	// must reach Penalty·√(2 ln n) on the CUSUM statistic in noise units
	// (0: DefaultPenalty). Higher finds fewer, larger changes.
	Penalty float64
	// Sudden is the longest transition of a sudden change; a longer one
	// is gradual (0: DefaultSudden).
	Sudden time.Duration
	// SpikeSpan is the longest excursion, from its onset to its return to
	// the level before, that is a spike (0: DefaultSpikeSpan).
	SpikeSpan time.Duration
	// SpreadFloor bounds the noise unit below by this share of the
	// reference's median spread, when there is one, so that a change that
	// stays well within the season's usual range is stable
	// (0: DefaultSpreadFloor).
	SpreadFloor float64
}

// withDefaults fills in the zero options and checks the others.
func (o Options) withDefaults() (Options, error) {
	for _, v := range []struct {
		name  string
		value float64
	}{
		{"threshold", o.Threshold}, {"penalty", o.Penalty}, {"sudden", float64(o.Sudden)},
		{"spike span", float64(o.SpikeSpan)}, {"spread floor", o.SpreadFloor},
	} {
		if v.value < 0 || math.IsNaN(v.value) {
			return o, fmt.Errorf("%s must not be negative, is %v", v.name, v.value)
		}
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Penalty == 0 {
		o.Penalty = DefaultPenalty
	}
	if o.Sudden == 0 {
		o.Sudden = DefaultSudden
	}
	if o.SpikeSpan == 0 {
		o.SpikeSpan = DefaultSpikeSpan
	}
	if o.SpreadFloor == 0 {
		o.SpreadFloor = DefaultSpreadFloor
	}
	return o, nil
}

// Signature is how a signal changed over its series.
type Signature struct {
	// Pattern is one of the pattern constants.
	Pattern string
	// Onset is when the change began: the first sample off the level
	// before. It is zero when stable.
	Onset time.Time
	// Before and After are the robust levels (medians) before and after
	// the change; for a spike, After is the level of the excursion. With a
	// reference both are at the expected value of the onset, so that
	// After − Before is the change net of the season. When stable, both
	// are the median of the series.
	Before, After float64
	// Change is After − Before; Relative is Change / |Before|, 0 when
	// Before is 0.
	Change, Relative float64
	// Sigmas is |Change| in noise units (when stable: the largest level
	// change found, in noise units); Noise is the noise unit.
	Sigmas, Noise float64
	// Score is the strength of the change in [0, 1):
	// Sigmas² / (Sigmas² + Threshold²), ½ at the threshold.
	Score float64
	// Direction is +1 for a rise, −1 for a fall, 0 when stable.
	Direction int
	// Transition is the time from the onset until 90% of the change was
	// made: 0 for a step, the rise time for a spike.
	Transition time.Duration
	// Duration is, for a spike, the time from the onset until the series
	// was back near the level before.
	Duration time.Duration
}

// sample is the observed part of a series: the residuals x (value minus
// expected) at positions pos (in steps since Start).
type sample struct {
	s        Series
	pos      []int
	x        []float64
	expected []float64
	// magnitude is the median absolute value, spread the median spread of
	// the reference (0 without).
	magnitude, spread float64
}

// observe returns the observed samples of s, against ref when not nil.
func observe(s Series, ref *Reference) (sample, error) {
	if s.Step <= 0 {
		return sample{}, fmt.Errorf("step must be positive, is %s", s.Step)
	}
	if ref != nil {
		if len(ref.Expected) != len(s.Values) {
			return sample{}, fmt.Errorf("reference has %d expected values for %d samples", len(ref.Expected), len(s.Values))
		}
		if ref.Spread != nil && len(ref.Spread) != len(s.Values) {
			return sample{}, fmt.Errorf("reference has %d spreads for %d samples", len(ref.Spread), len(s.Values))
		}
	}
	n := len(s.Values)
	d := sample{s: s, pos: make([]int, 0, n), x: make([]float64, 0, n), expected: make([]float64, 0, n)}
	abs := make([]float64, 0, n)
	var spreads []float64
	if ref != nil && ref.Spread != nil {
		spreads = make([]float64, 0, n)
	}
	for i, v := range s.Values {
		e := 0.0
		if ref != nil {
			e = ref.Expected[i]
		}
		if missing(v) || missing(e) {
			continue
		}
		d.pos = append(d.pos, i)
		d.x = append(d.x, v-e)
		d.expected = append(d.expected, e)
		abs = append(abs, math.Abs(v))
		if ref != nil && ref.Spread != nil && !missing(ref.Spread[i]) && ref.Spread[i] > 0 {
			spreads = append(spreads, ref.Spread[i])
		}
	}
	if len(d.x) < MinSamples {
		return d, fmt.Errorf("%d of %d samples observed, need %d: %w", len(d.x), len(s.Values), MinSamples, ErrTooFewSamples)
	}
	d.magnitude = robust.Median(abs)
	if len(spreads) > 0 {
		d.spread = robust.Median(spreads)
	}
	return d, nil
}

// missing reports whether v marks a missing sample.
func missing(v float64) bool {
	return math.IsNaN(v) || math.IsInf(v, 0)
}

// time returns the time of observed sample j.
func (d sample) time(j int) time.Time {
	return d.s.Start.Add(time.Duration(d.pos[j]) * d.s.Step)
}

// Detect finds whether and how the series changed: see the package
// documentation for the method and the definitions of the patterns. It
// fails on a step that is not positive, a reference whose length differs
// from the series', negative options, and (with ErrTooFewSamples) fewer
// than MinSamples observed samples.
func Detect(s Series, ref *Reference, o Options) (Signature, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Signature{}, fmt.Errorf("signature options: %w", err)
	}
	d, err := observe(s, ref)
	if err != nil {
		return Signature{}, fmt.Errorf("signature of series: %w", err)
	}
	sigma := max(noise(d.x), o.SpreadFloor*d.spread, relativeFloor*d.magnitude, absoluteFloor)
	f := runningMedian(d.x)
	n := len(f)
	cps := changePoints(f, sigma, o.Penalty*math.Sqrt(2*math.Log(float64(n))))
	return d.describe(f, cps, sigma, o), nil
}

// describe turns the change points of the sample into a signature; f is
// the running median of the residuals.
func (d sample) describe(f []float64, cps []int, sigma float64, o Options) Signature {
	// Segment j holds samples [start(j), start(j+1)).
	start := func(j int) int {
		switch {
		case j == 0:
			return 0
		case j > len(cps):
			return len(d.x)
		}
		return cps[j-1]
	}
	k := len(cps)
	level := make([]float64, k+1)
	var buf []float64
	for j := range level {
		level[j], buf = medianOf(d.x[start(j):start(j+1)], buf)
	}
	a := level[0]
	ext := 0
	for j := range level {
		if math.Abs(level[j]-a) > math.Abs(level[ext]-a) {
			ext = j
		}
	}
	largest := math.Abs(level[ext]-a) / sigma
	if largest < o.Threshold {
		return d.stable(sigma, largest, o)
	}
	dir := 1.0
	if level[ext] < a {
		dir = -1
	}
	cut := max(o.Threshold*sigma, returnShare*math.Abs(level[ext]-a))
	off := func(j int) bool { return dir*(level[j]-a) >= cut }
	first := ext
	for first > 1 && off(first-1) {
		first--
	}
	hi, b := len(d.x), level[k]
	if !off(k) {
		back := ext + 1
		for off(back) {
			back++
		}
		on, ret := start(first), start(back)
		if span := d.time(ret).Sub(d.time(on)); span <= o.SpikeSpan {
			sig := d.change(on, a, level[ext], sigma, o)
			sig.Pattern = Spike
			sig.Transition = d.time(start(ext)).Sub(d.time(on))
			sig.Duration = span
			return sig
		}
		// A long excursion that has ended: describe how it began.
		hi, b = ret, level[ext]
	}
	sh := d.fitShape(f, hi, a, b, sigma)
	if sh.j0 >= minSegment {
		a, buf = medianOf(d.x[:sh.j0], buf)
	}
	switch {
	case sh.j1 == len(d.x):
		b = a + sh.delta
	case hi-sh.j1 >= minSegment:
		b, _ = medianOf(d.x[sh.j1:hi], buf)
	}
	if math.Abs(b-a) < o.Threshold*sigma {
		return d.stable(sigma, math.Abs(b-a)/sigma, o)
	}
	sig := d.change(sh.j0, a, b, sigma, o)
	g := 0.0
	if sh.alpha < reached {
		g = (reached - sh.alpha) / (1 - sh.alpha)
	}
	if sh.j1 > sh.j0 {
		length := sh.end - float64(d.pos[sh.j0]) + 1
		sig.Transition = time.Duration(max(0, g*length-1) * float64(d.s.Step))
	}
	up := sig.Direction > 0
	switch {
	case sig.Transition <= stepSteps*d.s.Step:
		sig.Pattern = StepChange
	case sig.Transition <= o.Sudden || sh.alpha >= abruptShare:
		sig.Pattern = pick(up, SuddenIncrease, SuddenDecrease)
	default:
		sig.Pattern = pick(up, GradualIncrease, GradualDecrease)
	}
	return sig
}

// fitShape returns the shape of the change from a to b over the samples
// [0, hi), each held within winsor noise units of f, the running median:
// a step unless a ramp fits better by the model penalty,
// and a jump followed by a ramp only if it fits better than both by that
// much and jumps by at least abruptShare of the change.
func (d sample) fitShape(f []float64, hi int, a, b, sigma float64) shape {
	p, y := make([]float64, hi), make([]float64, hi)
	for j := range p {
		p[j] = float64(d.pos[j])
		y[j] = f[j] + max(-winsor*sigma, min(winsor*sigma, d.x[j]-f[j]))
	}
	fit := newRampFit(y, p, hi, a, b)
	pen := modelPenalty * sigma * sigma * math.Log(float64(hi))
	step, ramp := fit.step(), fit.ramp(false)
	best := step
	if ramp.cost < step.cost-pen {
		best = ramp
	}
	if r := fit.ramp(true); r.alpha >= abruptShare && r.cost < min(step.cost, ramp.cost)-pen {
		best = r
	}
	return best
}

// change returns the signature of a change from a to b at sample j.
func (d sample) change(j int, a, b, sigma float64, o Options) Signature {
	e := d.expected[j]
	sig := Signature{
		Onset:  d.time(j),
		Before: a + e,
		After:  b + e,
		Change: b - a,
		Sigmas: math.Abs(b-a) / sigma,
		Noise:  sigma,
	}
	if sig.Before != 0 {
		sig.Relative = sig.Change / math.Abs(sig.Before)
	}
	sig.Score = score(sig.Sigmas, o.Threshold)
	sig.Direction = 1
	if b < a {
		sig.Direction = -1
	}
	return sig
}

// stable returns the signature of a series that did not change; largest
// is the largest level change found, in noise units.
func (d sample) stable(sigma, largest float64, o Options) Signature {
	v := make([]float64, len(d.x))
	for j, x := range d.x {
		v[j] = x + d.expected[j]
	}
	m := robust.Median(v)
	return Signature{Pattern: Stable, Before: m, After: m, Sigmas: largest, Noise: sigma, Score: score(largest, o.Threshold)}
}

// score maps a size in noise units to [0, 1), ½ at the threshold.
func score(sigmas, threshold float64) float64 {
	return sigmas * sigmas / (sigmas*sigmas + threshold*threshold)
}

func pick(up bool, increase, decrease string) string {
	if up {
		return increase
	}
	return decrease
}

// Line describes the signature in one line for people, with values
// printed by format (nil: three significant digits) and times in the
// location of the series' start:
//
//	error_rate 0.004 → 0.079 at 14:02, step
//	memory 1.2e+09 → 1.9e+09 from 13:10, gradual increase over 45m
//	latency 0.2 → 1.4 at 14:02, spike for 3m
//	request_rate stable at 120
func (s Signature) Line(signal string, format func(float64) string) string {
	if format == nil {
		format = enrich.Number
	}
	if s.Pattern == Stable {
		return fmt.Sprintf("%s stable at %s", signal, format(s.Before))
	}
	head := fmt.Sprintf("%s %s → %s", signal, format(s.Before), format(s.After))
	at := s.Onset.Format("15:04")
	switch s.Pattern {
	case StepChange:
		return fmt.Sprintf("%s at %s, step", head, at)
	case Spike:
		return fmt.Sprintf("%s at %s, spike for %s", head, at, short(s.Duration))
	case GradualIncrease, GradualDecrease:
		return fmt.Sprintf("%s from %s, %s over %s", head, at, strings.ReplaceAll(s.Pattern, "_", " "), short(s.Transition))
	}
	return fmt.Sprintf("%s at %s, %s over %s", head, at, strings.ReplaceAll(s.Pattern, "_", " "), short(s.Transition))
}

// short prints a duration to the second without zero units: 4m, 1h5m,
// 45s.
func short(d time.Duration) string {
	out := d.Round(time.Second).String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
