package baseline

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich"
)

// Monday 30 November 2026.
var monday = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// truth is the weekly pattern: 150 on weekdays from 9 to 17 UTC, else 100.
func truth(t time.Time) float64 {
	if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday && t.Hour() >= 9 && t.Hour() < 17 {
		return 150
	}
	return 100
}

// series samples f at step over the lookback before now, on multiples of
// step (as the querier aligns them), with normal noise of sd from a fixed
// seed.
func series(now time.Time, lookback, step time.Duration, sd float64, f func(time.Time) float64) []model.SamplePair {
	rng := rand.New(rand.NewPCG(uint64(now.Unix()), 2))
	var out []model.SamplePair
	for t := now.Add(-lookback).Truncate(step); !t.After(now); t = t.Add(step) {
		v := f(t) + sd*rng.NormFloat64()
		out = append(out, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()), Value: model.SampleValue(v)})
	}
	return out
}

func constant(v float64) func(time.Time) float64 {
	return func(time.Time) float64 { return v }
}

const weeks4 = 28 * 24 * time.Hour

func TestSeasonalBaseline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		now      time.Time
		lookback time.Duration
		season   string
		slot     string
	}{
		{"Monday 10:00, 4 weeks", monday.Add(10*time.Hour + 30*time.Minute), weeks4, HourOfWeek, "Mon 10:00 UTC"},
		{"Sunday 03:00, 4 weeks", monday.Add(6*24*time.Hour + 3*time.Hour + 20*time.Minute), weeks4, HourOfWeek, "Sun 03:00 UTC"},
		// The hour of the day would say 150 here: only the week knows
		// Saturdays are quiet.
		{"Saturday 10:00, 4 weeks", monday.Add(5*24*time.Hour + 10*time.Hour), weeks4, HourOfWeek, "Sat 10:00 UTC"},
		// Monday to Thursday at 10:00 are history; Friday's is the last hour.
		{"Friday 10:00, 5 days", monday.Add(4*24*time.Hour + 10*time.Hour + 30*time.Minute), 5 * 24 * time.Hour, HourOfDay, "10:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := truth(tc.now)
			r, err := Compute(series(tc.now, tc.lookback, time.Hour, 5, truth), want, tc.now, 3)
			require.NoError(t, err)
			b := r.Baseline
			require.Equal(t, tc.season, b.Season)
			require.Equal(t, tc.slot, r.Slot)
			require.InEpsilon(t, want, b.Expected, 0.05)
			require.Less(t, b.Lower, want)
			require.Greater(t, b.Upper, want)
			require.Less(t, math.Abs(b.Deviation), 3.0)
			require.Contains(t, r.Line(), "is within the usual range for "+tc.slot)
		})
	}
}

// weekValues is an hourly history whose Monday 10:00 values, four weeks
// back to one, are vs, and every other value is 500.
func weekValues(now time.Time, vs ...float64) []model.SamplePair {
	i := 0
	return series(now, weeks4, time.Hour, 0, func(t time.Time) float64 {
		if t.Weekday() == time.Monday && t.Hour() == 10 && i < len(vs) {
			i++
			return vs[i-1]
		}
		return 500
	})
}

// Known answers: Monday 10:00 was 95, 100, 105, 100: median 100, MAD 2.5,
// spread 1.4826 × 2.5 = 3.7065.
func TestDeviation(t *testing.T) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	history := weekValues(now, 95, 100, 105, 100)
	const spread = 1.4826 * 2.5
	for _, tc := range []struct {
		name      string
		current   float64
		deviation float64
		line      string
	}{
		{"usual", 101, 1 / spread, "101 is within the usual range for Mon 10:00 UTC (88.9–111)"},
		{"10 spreads above", 100 + 10*spread, 10, "137 is 10σ above the usual for Mon 10:00 UTC (usual 88.9–111)"},
		{"4 spreads below", 100 - 4*spread, -4, "85.2 is 4σ below the usual for Mon 10:00 UTC (usual 88.9–111)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compute(history, tc.current, now, 3)
			require.NoError(t, err)
			require.Equal(t, enrich.Baseline{Expected: 100, Lower: 100 - 3*spread, Upper: 100 + 3*spread, Deviation: r.Baseline.Deviation, Season: HourOfWeek}, r.Baseline)
			require.InDelta(t, tc.deviation, r.Baseline.Deviation, 1e-9)
			require.Equal(t, tc.line, r.Line())
		})
	}
}

// The last hour is not history: a spike that started 50 minutes ago at
// 5m resolution does not move its own baseline.
func TestLastHourLeftOut(t *testing.T) {
	now := monday.Add(10*time.Hour + 50*time.Minute)
	spike := func(t time.Time) float64 {
		if now.Sub(t) < time.Hour {
			return 1000
		}
		return truth(t)
	}
	r, err := Compute(series(now, weeks4, 5*time.Minute, 0, spike), 1000, now, 3)
	require.NoError(t, err)
	require.Equal(t, 150.0, r.Baseline.Expected)
	require.InDelta(t, 850/1.5, r.Baseline.Deviation, 1e-9, "a constant slot has a spread of 1% of 150")
}

func TestTooLittleHistory(t *testing.T) {
	now := monday.Add(10 * time.Hour)
	for _, tc := range []struct {
		name    string
		history []model.SamplePair
		want    string
	}{
		{"one day", series(now, 24*time.Hour, time.Hour, 5, truth), "too little history for a baseline: 24 hours"},
		{"none", nil, "too little history for a baseline: 0 hours"},
		{"only NaN", series(now, weeks4, time.Hour, 0, constant(math.NaN())), "too little history for a baseline: 0 hours"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(tc.history, 100, now, 3)
			require.EqualError(t, err, tc.want)
		})
	}
	_, err := Compute(series(now, weeks4, time.Hour, 5, truth), math.NaN(), now, 3)
	require.EqualError(t, err, "the current value is NaN, not a number to compare")
}

// A slot where most values equal the median has a MAD of 0.
func TestZeroMAD(t *testing.T) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	for _, tc := range []struct {
		name     string
		history  []model.SamplePair
		current  float64
		want     enrich.Baseline
		unusual  bool
		deviated float64
	}{
		// The spread is 1% of the median: 97–103.
		{"constant 100", series(now, weeks4, time.Hour, 0, constant(100)), 100,
			enrich.Baseline{Expected: 100, Lower: 97, Upper: 103, Season: HourOfWeek}, false, 0},
		{"constant 100, now 110", series(now, weeks4, time.Hour, 0, constant(100)), 110,
			enrich.Baseline{Expected: 100, Lower: 97, Upper: 103, Season: HourOfWeek}, true, 10},
		// Mostly 0 with one 4: the mean absolute deviation, 1, scaled.
		{"sparse", weekValues(now, 0, 4, 0, 0), 4,
			enrich.Baseline{Expected: 0, Lower: -3 * 1.2533, Upper: 3 * 1.2533, Season: HourOfWeek}, true, 4 / 1.2533},
		{"always 0", series(now, weeks4, time.Hour, 0, constant(0)), 0,
			enrich.Baseline{Season: HourOfWeek}, false, 0},
		{"always 0, now 1", series(now, weeks4, time.Hour, 0, constant(0)), 1,
			enrich.Baseline{Season: HourOfWeek}, true, maxDeviation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compute(tc.history, tc.current, now, 3)
			require.NoError(t, err)
			require.InDelta(t, tc.deviated, r.Baseline.Deviation, 1e-9)
			require.InDelta(t, tc.want.Expected, r.Baseline.Expected, 1e-9)
			require.InDelta(t, tc.want.Lower, r.Baseline.Lower, 1e-9)
			require.InDelta(t, tc.want.Upper, r.Baseline.Upper, 1e-9)
			require.Equal(t, tc.want.Season, r.Baseline.Season)
			require.Equal(t, tc.unusual, !strings.Contains(r.Line(), "within"), r.Line())
		})
	}
}

// NaN and infinite values are gaps: the baseline is that of the rest.
func TestGapsIgnored(t *testing.T) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	clean := series(now, weeks4, 5*time.Minute, 5, truth)
	var gappy, rest []model.SamplePair
	for i, p := range clean {
		switch i % 7 {
		case 0:
			p.Value = model.SampleValue(math.NaN())
		case 3:
			p.Value = model.SampleValue(math.Inf(1))
		default:
			rest = append(rest, p)
		}
		gappy = append(gappy, p)
	}
	got, err := Compute(gappy, 150, now, 3)
	require.NoError(t, err)
	want, err := Compute(rest, 150, now, 3)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.InEpsilon(t, 150, got.Baseline.Expected, 0.02)
}

// A few wild values in history barely move the median.
func TestRobustToOutliers(t *testing.T) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	clean := series(now, weeks4, 5*time.Minute, 5, truth)
	dirty := make([]model.SamplePair, len(clean))
	copy(dirty, clean)
	// Five of the 48 Monday 10:00 values are 100 times too high.
	for i, n := 0, 0; i < len(dirty) && n < 5; i++ {
		if ts := dirty[i].Timestamp.Time(); ts.Weekday() == time.Monday && ts.Hour() == 10 && ts.Minute()%10 == 0 {
			dirty[i].Value *= 100
			n++
		}
	}
	want, err := Compute(clean, 150, now, 3)
	require.NoError(t, err)
	got, err := Compute(dirty, 150, now, 3)
	require.NoError(t, err)
	require.InEpsilon(t, want.Baseline.Expected, got.Baseline.Expected, 0.02)
	// The MAD grows by a third; a standard deviation would grow 900-fold.
	require.InEpsilon(t, want.Baseline.Upper-want.Baseline.Lower, got.Baseline.Upper-got.Baseline.Lower, 0.5)
	require.Contains(t, got.Line(), "within the usual range")
}

func BenchmarkCompute(b *testing.B) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	for _, bc := range []struct {
		name string
		step time.Duration
	}{
		{"4w-1h-672", time.Hour},
		{"4w-5m-8064", 5 * time.Minute},
	} {
		history := series(now, weeks4, bc.step, 5, truth)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compute(history, 150, now, 3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Four Monday 10:00 values that happen to agree do not make a narrow band
// when every other hour varies by 5: the spread is the season's.
func TestPooledSpread(t *testing.T) {
	now := monday.Add(10*time.Hour + 30*time.Minute)
	noisy := series(now, weeks4, time.Hour, 5, constant(150))
	for i, p := range noisy {
		if ts := p.Timestamp.Time(); ts.Weekday() == time.Monday && ts.Hour() == 10 {
			noisy[i].Value = 150
		}
	}
	r, err := Compute(noisy, 160, now, 3)
	require.NoError(t, err)
	require.Equal(t, 150.0, r.Baseline.Expected)
	require.InEpsilon(t, 5, (r.Baseline.Upper-r.Baseline.Expected)/3, 0.2, "the spread is about the noise's 5")
	require.Contains(t, r.Line(), "160 is within the usual range")
}
