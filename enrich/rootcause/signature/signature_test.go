package signature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
			length := 3 + rng.IntN(stepsOf(8*time.Minute)-2)
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
			} else if len(misses[want]) < 40 {
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
	for _, p := range patterns {
		fmt.Fprintf(&b, "%9.9s", p)
	}
	for _, want := range patterns {
		fmt.Fprintf(&b, "\n%-17s", want)
		for _, got := range patterns {
			fmt.Fprintf(&b, "%9d", confusion[want][got])
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
