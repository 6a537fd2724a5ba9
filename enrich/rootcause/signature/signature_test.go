package signature

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var start = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

var patterns = []string{Stable, StepChange, SuddenIncrease, GradualIncrease, SuddenDecrease, GradualDecrease, Spike}

// scenario is a generated series with a known signature.
type scenario struct {
	pattern string
	series  Series
	ref     *Reference
	// onset is the index of the first changed sample; sigmas the size of
	// the change in noise units.
	onset  int
	sigmas float64
	// desc says how the series was made, for failure messages.
	desc string
}

// generate returns a series of the pattern: a level between 1 and 1000
// with Gaussian noise of 1–10% of it, outliers (0.5% of the samples,
// 5–15 noise units), a daily sine, and the change. With a reference the
// sine is large (10–50% of the level) and the reference is the exact
// seasonal curve and the noise; without one the sine moves the series by
// at most one noise unit over the window, since it is then
// indistinguishable from a slow change. Changes are 2–20 noise units
// (log-uniform), spikes 4–20 (a short excursion of 2 units is the noise's
// own tail); the onset lies in the middle half of the window.
func generate(rng *rand.Rand, pattern string, withRef bool) scenario {
	steps := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute}
	step := steps[rng.IntN(len(steps))]
	windows := []time.Duration{time.Hour, 2 * time.Hour, 6 * time.Hour}
	n := min(1440, int(windows[rng.IntN(len(windows))]/step))
	window := time.Duration(n) * step
	base := math.Pow(10, 3*rng.Float64())
	sigma := base * (0.01 + 0.09*rng.Float64())
	amp := rng.Float64() * sigma * float64(24*time.Hour) / (2 * math.Pi * float64(window))
	if withRef {
		amp = base * (0.1 + 0.4*rng.Float64())
	}
	phase := 2 * math.Pi * rng.Float64()
	lo := 2.0
	if pattern == Spike {
		lo = 4
	}
	size := math.Exp(math.Log(lo) + (math.Log(20)-math.Log(lo))*rng.Float64())
	sc := scenario{pattern: pattern, onset: n/4 + rng.IntN(n/2), sigmas: size}
	if pattern == Stable {
		sc.onset, sc.sigmas = -1, 0
	}
	dir := 1.0
	switch {
	case strings.HasSuffix(pattern, "decrease"):
		dir = -1
	case (pattern == StepChange || pattern == Spike) && rng.IntN(2) == 0:
		dir = -1
	}
	stepsOf := func(d time.Duration) int { return int(d / step) }
	// shape(i) is the share of the change made at sample i.
	var shape func(i int) float64
	ramp := func(jump float64, length int) func(int) float64 {
		return func(i int) float64 {
			if i < sc.onset {
				return 0
			}
			return min(1, jump+(1-jump)*float64(i-sc.onset+1)/float64(length+1))
		}
	}
	switch pattern {
	case Stable:
		shape = func(int) float64 { return 0 }
	case StepChange:
		shape = ramp(1, 0)
	case SuddenIncrease, SuddenDecrease:
		if rng.IntN(3) == 0 {
			// A jump of half or more, then a drift of 15–40 minutes.
			// The drift is itself a change of 2 noise units or more.
			jump, length := 0.6+0.2*rng.Float64(), stepsOf(15*time.Minute)+rng.IntN(stepsOf(25*time.Minute))
			size = math.Exp(math.Log(2/(1-jump)) + (math.Log(20)-math.Log(2/(1-jump)))*rng.Float64())
			sc.sigmas = size
			shape = ramp(jump, length)
			sc.desc = fmt.Sprintf("jump %.2f, ramp %d", jump, length)
		} else {
			// 2–8 minutes, at least 3 samples.
			shortest := max(3, stepsOf(2*time.Minute))
			length := shortest + rng.IntN(stepsOf(8*time.Minute)-shortest+1)
			shape = ramp(0, length)
			sc.desc = fmt.Sprintf("ramp %d", length)
		}
	case GradualIncrease, GradualDecrease:
		// 15–60 minutes, at least 15 of them in the window.
		left := n - sc.onset
		length := stepsOf(15*time.Minute) + rng.IntN(stepsOf(45*time.Minute))
		if left < stepsOf(15*time.Minute) {
			sc.onset = n - stepsOf(15*time.Minute)
		}
		shape = ramp(0, length)
		sc.desc = fmt.Sprintf("ramp %d", length)
	case Spike:
		width := 3 + rng.IntN(max(1, stepsOf(6*time.Minute)-2))
		shape = func(i int) float64 {
			if i >= sc.onset && i < sc.onset+width {
				return 1
			}
			return 0
		}
		sc.desc = fmt.Sprintf("width %d", width)
	}
	// The size is that of the change seen in the window.
	delta := dir * size * sigma
	if pattern != Stable && pattern != Spike {
		delta /= shape(n - 1)
	}
	values := make([]float64, n)
	expected := make([]float64, n)
	spread := make([]float64, n)
	for i := range values {
		t := start.Add(time.Duration(i) * step)
		day := 2 * math.Pi * float64(t.Sub(start.Truncate(24*time.Hour))) / float64(24*time.Hour)
		expected[i] = base + amp*math.Sin(day+phase)
		spread[i] = sigma
		values[i] = expected[i] + sigma*rng.NormFloat64() + delta*shape(i)
		if rng.Float64() < 0.005 {
			values[i] += sigma * (5 + 10*rng.Float64()) * float64(1-2*rng.IntN(2))
		}
	}
	sc.series = Series{Start: start, Step: step, Values: values}
	if withRef {
		sc.ref = &Reference{Expected: expected, Spread: spread}
	}
	return sc
}

// onsetIndex returns the sample index of a signature's onset.
func onsetIndex(s Series, sig Signature) int {
	return int(sig.Onset.Sub(s.Start) / s.Step)
}

func TestDetectGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2))
	const perPattern = 200
	confusion := map[string]map[string]int{}
	var onsetErrors []float64
	misses := map[string][]string{}
	correct, total := 0, 0
	for _, want := range patterns {
		confusion[want] = map[string]int{}
		for i := range perPattern {
			sc := generate(rng, want, i%2 == 0)
			sig, err := Detect(sc.series, sc.ref, Options{})
			require.NoError(t, err)
			confusion[want][sig.Pattern]++
			total++
			if sig.Pattern == want {
				correct++
			} else if len(misses[want]) < 5 {
				misses[want] = append(misses[want], fmt.Sprintf("%s (%s, size %.1f, onset %d, step %s, n %d, ref %v): onset %d, transition %s, sigmas %.1f",
					sig.Pattern, sc.desc, sc.sigmas, sc.onset, sc.series.Step, len(sc.series.Values), sc.ref != nil, onsetIndex(sc.series, sig), sig.Transition, sig.Sigmas))
			}
			if want != Stable && sig.Pattern != Stable {
				onsetErrors = append(onsetErrors, math.Abs(float64(onsetIndex(sc.series, sig)-sc.onset)))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "confusion matrix (rows: generated, columns: detected), %d per pattern\n%-17s", perPattern, "")
	for _, p := range []string{"stable", "step", "s_inc", "g_inc", "s_dec", "g_dec", "spike"} {
		fmt.Fprintf(&b, "%7s", p)
	}
	for _, want := range patterns {
		fmt.Fprintf(&b, "\n%-17s", want)
		for _, got := range patterns {
			fmt.Fprintf(&b, "%7d", confusion[want][got])
		}
	}
	t.Log(b.String())
	for want, m := range misses {
		t.Logf("misses of %s:\n%s", want, strings.Join(m, "\n"))
	}
	slices.Sort(onsetErrors)
	medianOnset := onsetErrors[len(onsetErrors)/2]
	t.Logf("accuracy %.3f; onset error in steps: median %.0f, 90th percentile %.0f", float64(correct)/float64(total), medianOnset, onsetErrors[len(onsetErrors)*9/10])

	require.GreaterOrEqual(t, float64(correct)/float64(total), 0.9)
	for _, want := range patterns {
		require.GreaterOrEqual(t, confusion[want][want], perPattern*8/10, "accuracy of %s", want)
	}
	require.LessOrEqual(t, medianOnset, 2.0)
}

func TestDetectStableSeasonalFalsePositives(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 3))
	const runs = 500
	changed := map[string]int{}
	fp := 0
	for range runs {
		sc := generate(rng, Stable, true)
		sig, err := Detect(sc.series, sc.ref, Options{})
		require.NoError(t, err)
		if sig.Pattern != Stable {
			fp++
			changed[sig.Pattern]++
		}
	}
	t.Logf("false positives on unchanged seasonal series with a reference: %d of %d %v", fp, runs, changed)
	require.LessOrEqual(t, fp, runs*5/100)
}

// series returns n samples at 1m steps, sample i being f(i).
func series(n int, f func(i int) float64) Series {
	v := make([]float64, n)
	for i := range v {
		v[i] = f(i)
	}
	return Series{Start: start, Step: time.Minute, Values: v}
}

// wiggle is a small deterministic noise of about 0.1 noise-free units.
func wiggle(i int) float64 {
	return 0.1 * math.Sin(float64(i)*2.7)
}

func TestDetectErrors(t *testing.T) {
	ok := series(60, wiggle)
	for _, tc := range []struct {
		name    string
		series  Series
		ref     *Reference
		options Options
		err     string
		tooFew  bool
	}{
		{name: "zero step", series: Series{Start: start, Values: ok.Values}, err: "step must be positive, is 0s"},
		{name: "negative step", series: Series{Start: start, Step: -time.Second, Values: ok.Values}, err: "step must be positive"},
		{name: "short reference", series: ok, ref: &Reference{Expected: make([]float64, 59)}, err: "reference has 59 expected values for 60 samples"},
		{name: "short spread", series: ok, ref: &Reference{Expected: make([]float64, 60), Spread: make([]float64, 3)}, err: "reference has 3 spreads for 60 samples"},
		{name: "negative threshold", series: ok, options: Options{Threshold: -1}, err: "threshold must not be negative"},
		{name: "negative sudden", series: ok, options: Options{Sudden: -time.Minute}, err: "sudden must not be negative"},
		{name: "empty", series: series(0, wiggle), err: "0 of 0 samples observed, need 10", tooFew: true},
		{name: "too short", series: series(9, wiggle), err: "9 of 9 samples observed", tooFew: true},
		{name: "all NaN", series: series(100, func(int) float64 { return math.NaN() }), err: "0 of 100 samples observed", tooFew: true},
		{name: "all infinite", series: series(100, func(i int) float64 { return math.Inf(1 - 2*(i%2)) }), err: "0 of 100 samples observed", tooFew: true},
		{name: "reference all NaN", series: ok, ref: &Reference{Expected: series(60, func(int) float64 { return math.NaN() }).Values}, err: "0 of 60 samples observed", tooFew: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Detect(tc.series, tc.ref, tc.options)
			require.ErrorContains(t, err, tc.err)
			require.Equal(t, tc.tooFew, errors.Is(err, ErrTooFewSamples))
		})
	}
}

func TestDetectEdgeCases(t *testing.T) {
	step := func(i int) float64 {
		if i >= 40 {
			return 20 + wiggle(i)
		}
		return 10 + wiggle(i)
	}
	gaps := func(f func(int) float64, missing float64) func(int) float64 {
		return func(i int) float64 {
			if i%7 == 3 || (i >= 20 && i < 30) || (i >= 45 && i < 50) {
				return missing
			}
			return f(i)
		}
	}
	flat := make([]float64, 80)
	for i := range flat {
		flat[i] = 100
	}
	for _, tc := range []struct {
		name    string
		series  Series
		ref     *Reference
		pattern string
		// onset is the sample index of the onset, for a change.
		onset         int
		before, after float64
	}{
		{name: "constant", series: series(80, func(int) float64 { return 3 }), pattern: Stable, before: 3, after: 3},
		{name: "zero", series: series(80, func(int) float64 { return 0 }), pattern: Stable},
		{name: "constant step", series: series(80, func(i int) float64 { return float64(1 + i/40) }), pattern: StepChange, onset: 40, before: 1, after: 2},
		{name: "step from zero", series: series(80, func(i int) float64 { return float64(i / 50) }), pattern: StepChange, onset: 50, before: 0, after: 1},
		{name: "step", series: series(80, step), pattern: StepChange, onset: 40, before: 10, after: 20},
		{name: "NaN gaps", series: series(80, gaps(step, math.NaN())), pattern: StepChange, onset: 40, before: 10, after: 20},
		{name: "Inf gaps", series: series(80, gaps(step, math.Inf(1))), pattern: StepChange, onset: 40, before: 10, after: 20},
		{name: "onset in a gap", series: series(80, func(i int) float64 {
			if i >= 35 && i < 45 {
				return math.NaN()
			}
			return step(i)
		}), pattern: StepChange, onset: 45, before: 10, after: 20},
		{name: "noiseless ramp", series: series(120, func(i int) float64 {
			return 10 + 10*min(1, max(0, float64(i-40+1)/31))
		}), pattern: GradualIncrease, onset: 40, before: 10, after: 20},
		{name: "seasonal with reference", series: series(80, func(i int) float64 { return 100 + float64(i) + wiggle(i) }),
			ref: &Reference{Expected: series(80, func(i int) float64 { return 100 + float64(i) }).Values}, pattern: Stable},
		{name: "change within the usual spread", series: series(80, step), ref: &Reference{Expected: series(80, func(int) float64 { return 10 }).Values, Spread: series(80, func(int) float64 { return 40 }).Values}, pattern: Stable},
		{name: "spike", series: series(80, func(i int) float64 {
			if i >= 50 && i < 54 {
				return 30 + wiggle(i)
			}
			return 10 + wiggle(i)
		}), pattern: Spike, onset: 50, before: 10, after: 30},
		{name: "drop to zero", series: series(80, func(i int) float64 {
			if i >= 60 {
				return 0
			}
			return 50 + wiggle(i)
		}), pattern: StepChange, onset: 60, before: 50, after: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := Detect(tc.series, tc.ref, Options{})
			require.NoError(t, err)
			require.Equal(t, tc.pattern, sig.Pattern, "%+v", sig)
			require.False(t, math.IsNaN(sig.Sigmas) || math.IsInf(sig.Sigmas, 0) || math.IsInf(sig.Relative, 0), "%+v", sig)
			if tc.pattern == Stable {
				require.True(t, sig.Onset.IsZero())
				if tc.ref == nil {
					require.InDelta(t, tc.before, sig.Before, 0.2)
				}
				return
			}
			require.Equal(t, tc.onset, onsetIndex(tc.series, sig))
			require.InDelta(t, tc.before, sig.Before, 0.2)
			require.InDelta(t, tc.after, sig.After, 0.2)
			require.InDelta(t, tc.after-tc.before, sig.Change, 0.3)
		})
	}
}

func TestDetectNoiselessRampTransition(t *testing.T) {
	// 10 until sample 40, then 31 steps of a line to 20: 90% of the way
	// at 0.9·31 − 1 = 26.9 steps after the onset.
	s := series(120, func(i int) float64 { return 10 + 10*min(1, max(0, float64(i-40+1)/31)) })
	sig, err := Detect(s, nil, Options{})
	require.NoError(t, err)
	require.Equal(t, GradualIncrease, sig.Pattern)
	require.InDelta(t, 26.9*60, sig.Transition.Seconds(), 1)
	require.Equal(t, 1, sig.Direction)
	require.InDelta(t, 1, sig.Relative, 1e-9)
	require.Greater(t, sig.Score, 0.99)
}

func TestDetectSuddenAndGradualByOption(t *testing.T) {
	// A 12-minute ramp is gradual by default and sudden when sudden
	// changes may take 15 minutes.
	s := series(120, func(i int) float64 { return 10 - 10*min(1, max(0, float64(i-60+1)/13)) + wiggle(i) })
	sig, err := Detect(s, nil, Options{})
	require.NoError(t, err)
	require.Equal(t, GradualDecrease, sig.Pattern)
	sig, err = Detect(s, nil, Options{Sudden: 15 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, SuddenDecrease, sig.Pattern)
	require.Equal(t, -1, sig.Direction)
}

func TestLine(t *testing.T) {
	at := time.Date(2026, 11, 28, 14, 2, 0, 0, time.UTC)
	percent := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }
	for _, tc := range []struct {
		sig    Signature
		format func(float64) string
		want   string
	}{
		{Signature{Pattern: StepChange, Onset: at, Before: 0.004, After: 0.079}, percent, "error_rate 0.4% → 7.9% at 14:02, step"},
		{Signature{Pattern: SuddenIncrease, Onset: at, Before: 0.004, After: 0.079, Transition: 4 * time.Minute}, percent, "error_rate 0.4% → 7.9% at 14:02, sudden increase over 4m"},
		{Signature{Pattern: GradualDecrease, Onset: at, Before: 1234.5, After: 12.345, Transition: 65*time.Minute + 30*time.Second}, nil, "error_rate 1.23e+03 → 12.3 from 14:02, gradual decrease over 1h5m30s"},
		{Signature{Pattern: GradualIncrease, Onset: at, Before: 1, After: 2, Transition: 2 * time.Hour}, nil, "error_rate 1 → 2 from 14:02, gradual increase over 2h"},
		{Signature{Pattern: Spike, Onset: at, Before: 0.2, After: 1.4, Duration: 3*time.Minute + 15*time.Second}, nil, "error_rate 0.2 → 1.4 at 14:02, spike for 3m15s"},
		{Signature{Pattern: Stable, Before: 120, After: 120}, nil, "error_rate stable at 120"},
	} {
		require.Equal(t, tc.want, tc.sig.Line("error_rate", tc.format))
	}
}

// BenchmarkDetect is the signatures of one incident's worth of signals:
// 7 signals of 20 services, 1,440 samples each, a third of them changed,
// half with a reference. One op is 140 Detect calls.
func BenchmarkDetect(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 13))
	var scs []scenario
	for i := range 7 * 20 {
		pattern := Stable
		if i%3 == 0 {
			pattern = patterns[1+rng.IntN(len(patterns)-1)]
		}
		sc := generate(rng, pattern, i%2 == 0)
		for len(sc.series.Values) != 1440 {
			sc = generate(rng, pattern, i%2 == 0)
		}
		scs = append(scs, sc)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, sc := range scs {
			if _, err := Detect(sc.series, sc.ref, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
