package predict

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich/robust"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// series returns n samples at step, sample i being f(i).
func series(n int, step time.Duration, f func(i int) float64) Series {
	v := make([]float64, n)
	for i := range v {
		v[i] = f(i)
	}
	return Series{Start: start, Step: step, Values: v}
}

// firstPassage is the true median time to breach of a process known to
// continue as next(k) for k = 1, 2, ... steps past the last sample: the
// median, over many runs of it, of the time of its first sample above
// the threshold (runs that do not reach it within 10,000 steps count as
// later than all others).
func firstPassage(rng *rand.Rand, step time.Duration, threshold float64, next func(k int, rng *rand.Rand) float64) time.Duration {
	const runs, limit = 2001, 10000
	at := make([]float64, runs)
	for r := range at {
		at[r] = math.Inf(1)
		for k := 1; k <= limit; k++ {
			if next(k, rng) > threshold {
				at[r] = float64(k)
				break
			}
		}
	}
	return time.Duration(robust.Median(at) * float64(step))
}

func TestFitExactLine(t *testing.T) {
	s := series(100, 30*time.Second, func(i int) float64 { return 2 + 0.5*float64(i) })
	f, err := Fit(s, Options{Horizon: 30 * time.Minute})
	require.NoError(t, err)

	require.InDelta(t, 0.5/30, f.Slope, 1e-12)
	require.InDelta(t, 0, f.Acceleration, 1e-12)
	require.Equal(t, 51.5, f.Current)
	require.Equal(t, start.Add(99*30*time.Second), f.End)
	require.Equal(t, TrendIncreasing, f.Trend)
	require.Len(t, f.Predicted, 60)
	require.InDelta(t, 2+0.5*159, f.Predicted[59], 1e-9)

	// 51.5 + 0.5/step reaches 60 after 17 steps.
	b := f.Breach(">", 60)
	require.True(t, b.Will)
	require.False(t, b.AlreadyBreached)
	require.InDelta(t, (17 * 30 * time.Second).Seconds(), b.In.Seconds(), 30)
	require.InDelta(t, 1, b.Probability, 1e-9)
}

func TestFitNoisyLineTimeToBreach(t *testing.T) {
	for _, slope := range []float64{0.05, 0.2, 1, 5} {
		t.Run("", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(slope*100)))
			noise := 0.5
			value := func(i int, rng *rand.Rand) float64 { return 10 + slope*float64(i) + noise*rng.NormFloat64() }
			s := series(360, time.Minute, func(i int) float64 { return value(i, rng) })
			// The line meets the threshold 60 steps after the last sample;
			// a noisy sample is above it some steps before.
			threshold := 10 + slope*(359+60)
			truth := firstPassage(rng, time.Minute, threshold, func(k int, rng *rand.Rand) float64 { return value(359+k, rng) })
			f, err := Fit(s, Options{Horizon: 2 * time.Hour})
			require.NoError(t, err)

			b := f.Breach(">", threshold)
			require.True(t, b.Will)
			require.InEpsilon(t, truth.Seconds(), b.In.Seconds(), 0.1, "model %s, truth %s", f.Model, truth)
			require.InEpsilon(t, slope/60, f.Slope, 0.1)
			require.Equal(t, TrendIncreasing, f.Trend)
		})
	}
}

func TestFitRobustToOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	s := series(300, time.Minute, func(i int) float64 {
		v := 1 + 0.2*float64(i) + 0.5*rng.NormFloat64()
		if i%15 == 7 {
			v += 50
		}
		return v
	})
	f, err := Fit(s, Options{Horizon: 30 * time.Minute})
	require.NoError(t, err)
	require.InEpsilon(t, 0.2/60, f.Slope, 0.05, "model %s", f.Model)

	l := fitPoly(s.Values, 1, 0, nil)
	require.InEpsilon(t, 0.2, l.coef[1], 0.05)
}

func TestFitNoisyFlat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	s := series(720, 30*time.Second, func(int) float64 { return 100 + rng.NormFloat64() })
	f, err := Fit(s, Options{Horizon: 30 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, TrendStable, f.Trend, "model %s, slope %g/s", f.Model, f.Slope)

	b := f.Breach(">", 106)
	require.False(t, b.Will)
	require.False(t, b.AlreadyBreached)
	require.Less(t, b.Probability, 0.05)
	require.Less(t, b.Lower, 100.0)
	require.Greater(t, b.Upper, 100.0)
}

func TestFitDecreasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	// Free disk space falling 2 GB a minute from 500 GB.
	s := series(240, time.Minute, func(i int) float64 { return 500 - 2*float64(i) + rng.NormFloat64() })
	f, err := Fit(s, Options{Horizon: time.Hour})
	require.NoError(t, err)
	require.Equal(t, TrendDecreasing, f.Trend)

	// 500 - 2*239 = 22 now: 10 is reached in about 6 minutes.
	b := f.Breach("<", 10)
	require.True(t, b.Will)
	require.InDelta(t, (6 * time.Minute).Seconds(), b.In.Seconds(), 60)
	require.Greater(t, b.Probability, 0.99)

	require.False(t, f.Breach(">", 30).Will)
}

func TestFitTrendChange(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	// Flat for 200 minutes, then rising 0.2 a minute.
	s := series(360, time.Minute, func(i int) float64 { return 10 + 0.2*float64(max(0, i-200)) + 0.5*rng.NormFloat64() })
	f, err := Fit(s, Options{Horizon: 30 * time.Minute})
	require.NoError(t, err)
	require.NotEqual(t, ModelLinear, f.Model, "the line of the whole window dilutes the recent trend")
	require.InEpsilon(t, 0.2/60, f.Slope, 0.1)
	require.Equal(t, TrendIncreasing, f.Trend)
}

func TestFitRecentRampTimeToBreach(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	// Flat at 10 for 330 samples, then rising 0.1 a sample for the last 30:
	// 13 now, 15 reached by the line 20 samples later, by a noisy sample
	// about one sooner.
	value := func(i int, rng *rand.Rand) float64 { return 10 + 0.1*float64(max(0, i-329)) + 0.1*rng.NormFloat64() }
	s := series(360, time.Minute, func(i int) float64 { return value(i, rng) })
	truth := firstPassage(rng, time.Minute, 15, func(k int, rng *rand.Rand) float64 { return value(359+k, rng) })
	f, err := Fit(s, Options{Horizon: 30 * time.Minute})
	require.NoError(t, err)
	b := f.Breach(">", 15)
	require.True(t, b.Will, "model %s", f.Model)
	require.InEpsilon(t, truth.Seconds(), b.In.Seconds(), 0.15, "model %s, truth %s", f.Model, truth)
	require.GreaterOrEqual(t, b.Probability, 0.8)
}

func TestFitLevelShift(t *testing.T) {
	// A square wave a day long at 5-minute steps, just past its rising
	// edge: the forecast stays at the new level and does not extrapolate
	// the jump.
	s := series(72, 5*time.Minute, func(i int) float64 {
		if i < 50 {
			return 20
		}
		return 80
	})
	f, err := Fit(s, Options{Horizon: time.Hour})
	require.NoError(t, err)
	require.Equal(t, ModelLocalLevel, f.Model)
	require.Equal(t, TrendStable, f.Trend)
	require.False(t, f.Breach(">", 100).Will)
}

func TestFitAcceleratingRamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	// Flat, then from sample 300 of 360 growing as 0.002(i-299)²: 7.2
	// now, 16 some 29 samples on; a line with the current slope would
	// say 37.
	s := series(360, time.Minute, func(i int) float64 {
		d := float64(max(0, i-299))
		return 0.002*d*d + 0.05*rng.NormFloat64()
	})
	f, err := Fit(s, Options{Horizon: 40 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, ModelLocalQuadratic, f.Model)
	b := f.Breach(">", 16)
	require.True(t, b.Will)
	require.InEpsilon(t, (29 * time.Minute).Seconds(), b.In.Seconds(), 0.1, "model %s", f.Model)
}

func TestOrigins(t *testing.T) {
	// 20% of 72 is 14 samples, more than the horizon of 12: eight origins
	// over the last 14, the last two samples from the end.
	require.Equal(t, []int{58, 59, 61, 63, 65, 66, 68, 70}, origins(72, 12))
	// Never more than half the series.
	require.Equal(t, []int{5, 6, 7, 8, 9}, origins(10, 30))
}

func TestBacktestUsesThePastOnly(t *testing.T) {
	// A spike after the last origin's data must not change the forecast
	// from any origin but the last.
	y := make([]float64, 72)
	for i := range y {
		y[i] = float64(i % 7)
	}
	spiked := append([]float64(nil), y...)
	spiked[71] = 1e6
	c := candidate{ModelLocalLinear, polynomial(1, 12)}
	at := origins(len(y), 12)
	m1, _, err := backtest(y, at, 12, c)
	require.NoError(t, err)
	m2, _, err := backtest(spiked, at, 12, c)
	require.NoError(t, err)
	require.Equal(t, m1.forecast(12), m2.forecast(12))
}

func TestFitSeasonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	step := 5 * time.Minute
	perDay := int(24 * time.Hour / step)
	s := series(3*perDay, step, func(i int) float64 {
		return 50 + 0.01*float64(i) + 20*math.Sin(2*math.Pi*float64(i)/float64(perDay)) + rng.NormFloat64()
	})
	f, err := Fit(s, Options{Horizon: time.Hour})
	require.NoError(t, err)
	require.Equal(t, ModelHoltWinters, f.Model)

	h := int(time.Hour / step)
	holt := candidate{ModelHolt, func(y []float64) (model, error) { return fitSmooth(y, 0, nil) }}
	_, sc, err := backtest(s.Values, origins(len(s.Values), h), h, holt)
	require.NoError(t, err)
	require.Less(t, f.Error, sc.err)
}

func TestFitConstant(t *testing.T) {
	s := series(50, time.Minute, func(int) float64 { return 0.3 })
	f, err := Fit(s, Options{Horizon: 10 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, ModelLinear, f.Model)
	require.Equal(t, TrendStable, f.Trend)
	require.Zero(t, f.Slope)
	require.Zero(t, f.Acceleration)
	for k := range f.Predicted {
		require.Equal(t, 0.3, f.Predicted[k])
		require.Zero(t, f.Sigma[k])
	}

	b := f.Breach(">", 0.5)
	require.Equal(t, Breach{Lower: 0.3, Upper: 0.3}, b)

	b = f.Breach(">=", 0.3)
	require.True(t, b.Will)
	require.True(t, b.AlreadyBreached)
	require.Zero(t, b.In)
}

func TestFitGaps(t *testing.T) {
	nan := math.NaN()
	line := func(i int) float64 { return float64(i) }
	for _, tc := range []struct {
		name      string
		values    func(v []float64)
		wantStart time.Time
		wantEnd   time.Time
		wantErr   string
	}{
		{
			name: "short gaps are interpolated",
			values: func(v []float64) {
				v[3], v[10], v[11], v[12], v[13], v[14], v[30] = nan, nan, nan, math.Inf(1), nan, nan, math.Inf(-1)
			},
			wantStart: start,
			wantEnd:   start.Add(39 * time.Minute),
		},
		{
			name:      "leading and trailing samples missing",
			values:    func(v []float64) { v[0], v[1], v[38], v[39] = nan, nan, nan, nan },
			wantStart: start.Add(2 * time.Minute),
			wantEnd:   start.Add(37 * time.Minute),
		},
		{
			name: "a long gap cuts the series",
			values: func(v []float64) {
				for i := 5; i < 11; i++ {
					v[i] = nan
				}
			},
			wantStart: start.Add(11 * time.Minute),
			wantEnd:   start.Add(39 * time.Minute),
		},
		{
			name: "too little after a long gap",
			values: func(v []float64) {
				for i := 10; i < 35; i++ {
					v[i] = nan
				}
			},
			wantErr: "too little history: 5 samples since a gap of 25 missing ones, need at least 10",
		},
		{
			name: "all missing",
			values: func(v []float64) {
				for i := range v {
					v[i] = nan
				}
			},
			wantErr: "all 40 samples are missing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := series(40, time.Minute, line)
			tc.values(s.Values)
			f, err := Fit(s, Options{Horizon: 5 * time.Minute})
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantEnd, f.End)
			require.Equal(t, float64(tc.wantEnd.Sub(start)/time.Minute), f.Current)
			require.InDelta(t, 1.0/60, f.Slope, 1e-9)

			y, first, err := clean(s)
			require.NoError(t, err)
			require.Equal(t, tc.wantStart, first)
			for i, v := range y {
				require.InDelta(t, float64(first.Sub(start)/time.Minute)+float64(i), v, 1e-9)
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	ok := series(20, time.Minute, func(i int) float64 { return float64(i) })
	for _, tc := range []struct {
		name    string
		s       Series
		o       Options
		wantErr string
	}{
		{"too little history", series(9, time.Minute, func(i int) float64 { return float64(i) }), Options{Horizon: time.Minute}, "too little history: 9 samples, need at least 10"},
		{"empty", Series{Step: time.Minute}, Options{Horizon: time.Minute}, "all 0 samples are missing"},
		{"no step", Series{Values: ok.Values}, Options{Horizon: time.Minute}, "series step 0s: must be positive"},
		{"no horizon", ok, Options{}, "horizon 0s: must be positive"},
		{"bad level", ok, Options{Horizon: time.Minute, Level: 1.5}, "level 1.5: must be between 0 and 1"},
		{"negative season", ok, Options{Horizon: time.Minute, Season: -time.Hour}, "season -1h0m0s: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(tc.s, tc.o)
			require.EqualError(t, err, tc.wantErr)
		})
	}
}

func TestBreachAlreadyBreached(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	s := series(60, time.Minute, func(i int) float64 { return 0.06 + 0.0001*float64(i) + 0.001*rng.NormFloat64() })
	f, err := Fit(s, Options{Horizon: 30 * time.Minute})
	require.NoError(t, err)

	b := f.Breach(">", 0.05)
	require.True(t, b.AlreadyBreached)
	require.True(t, b.Will)
	require.Zero(t, b.In)
	require.Equal(t, 1.0, b.Probability)
	require.Less(t, b.Lower, b.Upper)
}

func TestBreachProbabilityMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := series(200, time.Minute, func(i int) float64 { return 20 + 0.1*float64(i) + 2*rng.NormFloat64() })
	f, err := Fit(s, Options{Horizon: time.Hour})
	require.NoError(t, err)

	// Thresholds ordered from the hardest to reach to the easiest.
	for _, tc := range []struct {
		cmp              string
		from, to, change float64
	}{
		{">", 100, -20, -1},
		{">=", 100, -20, -1},
		{"<", -20, 100, 1},
		{"<=", -20, 100, 1},
	} {
		t.Run(tc.cmp, func(t *testing.T) {
			prev := 0.0
			for threshold := tc.from; threshold != tc.to; threshold += tc.change {
				p := f.Breach(tc.cmp, threshold).Probability
				require.GreaterOrEqual(t, p, prev, "threshold %g", threshold)
				require.LessOrEqual(t, p, 1.0)
				prev = p
			}
			require.Equal(t, 1.0, prev)
		})
	}
}

func TestBreachUnknownComparator(t *testing.T) {
	s := series(20, time.Minute, func(i int) float64 { return float64(i) })
	f, err := Fit(s, Options{Horizon: time.Hour})
	require.NoError(t, err)
	b := f.Breach("==", 30)
	require.False(t, b.Will)
	require.Zero(t, b.Probability)
}

func TestAcceleration(t *testing.T) {
	// y = i² at 10s steps: 2 per step², 0.02 per s².
	s := series(40, 10*time.Second, func(i int) float64 { return float64(i * i) })
	f, err := Fit(s, Options{Horizon: time.Minute})
	require.NoError(t, err)
	require.InDelta(t, 0.02, f.Acceleration, 1e-12)
}

func TestSmoothSigma(t *testing.T) {
	// Simple exponential smoothing: σ²(1 + (h-1)α²).
	s := &smooth{alpha: 0.5, sigma1: 2}
	require.InDeltaSlice(t, []float64{2, 2 * math.Sqrt(1.25), 2 * math.Sqrt(1.5)}, s.sigma(3), 1e-12)

	// Holt-Winters past a season adds γj(2α + γ + βm(j+1)).
	s = &smooth{m: 2, alpha: 0.5, gamma: 0.2, sigma1: 1}
	require.InDeltaSlice(t, []float64{1, math.Sqrt(1.25), math.Sqrt(1.5 + 0.2*1.2)}, s.sigma(3), 1e-12)
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 4, 2, 3}, 3},
		{[]float64{1, 1, 1, 2, 2, 2}, 1.5},
		{[]float64{6, 5, 4, 3, 2, 1, 0, 7}, 3.5},
	} {
		require.Equal(t, tc.want, robust.Median(append([]float64(nil), tc.v...)), "%v", tc.v)
	}
}

func benchmarkFit(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(8, 8))
	s := series(n, time.Minute, func(i int) float64 {
		return 100 + 0.01*float64(i) + 10*math.Sin(2*math.Pi*float64(i)/1440) + rng.NormFloat64()
	})
	o := Options{Horizon: 30 * time.Minute}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(s, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFit1440(b *testing.B)  { benchmarkFit(b, 1440) }
func BenchmarkFit10080(b *testing.B) { benchmarkFit(b, 10080) }
