package baseline

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
)

// Statistics. The spread of a slot is its median absolute deviation
// scaled to a standard deviation (madScale, exact for normal noise); when
// more than half of the slot equals its median the MAD is 0 and the mean
// absolute deviation stands in (meanADScale, likewise scaled).
//
// A slot of the hour of the week holds only 4 values at the default 4
// weeks hourly, and the MAD of 4 values is below a third of the true
// spread one time in ten: the band would be too narrow and noise
// "unusual". So the spread is at least the pooled spread of the whole
// season, the MAD of every value around its own slot's median, each
// residual scaled by n/(n−1) for the n values of its slot (the median of
// a few values sits closer to them than the true level does). And it is
// at least minSpread of the median, so that a flat series does not make a
// 0.1% wiggle "unusual".
const (
	madScale    = 1.4826
	meanADScale = 1.2533 // √(π/2)
	minSpread   = 0.01
	// maxDeviation bounds the deviation where the spread is 0 (a slot
	// that was always exactly 0), so that it stays a finite JSON number.
	maxDeviation = 1000
	// recent is left out of the history: the anomaly must not define its
	// own baseline.
	recent = time.Hour
	// minValues is the fewest values a slot needs for a median and a MAD.
	minValues = 3
)

// Season names, as in the augur_enrichment baseline part.
const (
	HourOfWeek = "hour_of_week"
	HourOfDay  = "hour_of_day"
)

// season is a way to slot time: by the hour of the week or of the day,
// in UTC.
type season struct {
	name string
	// hours is the period in hours; two times share a slot when they are
	// a whole number of periods apart, counted in whole UTC hours.
	hours int64
	// history is the least history the season needs.
	history time.Duration
	// layout names a slot: "Mon 09:00 UTC".
	layout string
}

// seasons returns the seasons, finest first.
func seasons() []season {
	return []season{
		{name: HourOfWeek, hours: 7 * 24, history: 3 * 7 * 24 * time.Hour, layout: "Mon 15:04 MST"},
		{name: HourOfDay, hours: 24, history: 3 * 24 * time.Hour, layout: "15:04 MST"},
	}
}

// Result is a baseline and what it was computed for.
type Result struct {
	Baseline enrich.Baseline
	// Current is the value the baseline judges.
	Current float64
	// Slot names the season slot of now, for people: "Mon 09:00 UTC".
	Slot string
}

// Compute returns the baseline of a series at now: the median and spread
// of its history in now's slot of the finest season the history is long
// enough for, with the usual range k spreads either side of the median.
// History after now minus one hour is left out; NaN and infinite values
// are ignored. It fails when the history is too short for any season.
func Compute(history []model.SamplePair, current float64, now time.Time, k float64) (Result, error) {
	if math.IsNaN(current) || math.IsInf(current, 0) {
		return Result{}, fmt.Errorf("the current value is %v, not a number to compare", current)
	}
	span := now.Sub(first(history, now))
	for _, s := range seasons() {
		if span < s.history {
			continue
		}
		g := group(history, s, now)
		if len(g.slot(0)) < minValues {
			continue
		}
		return Result{
			Baseline: g.estimate(current, k, s.name),
			Current:  current,
			Slot:     now.UTC().Truncate(time.Hour).Format(s.layout),
		}, nil
	}
	return Result{}, fmt.Errorf("too little history for a baseline: %d hours", int(max(span, 0).Hours()))
}

// first returns the time of the first usable sample, now if none.
func first(history []model.SamplePair, now time.Time) time.Time {
	for _, p := range history {
		if usable(p.Value) {
			return p.Timestamp.Time()
		}
	}
	return now
}

// grouped is a history grouped by the slots of a season: slot i, i hours
// after now's modulo the period, holds values[at[i]:at[i+1]], sorted.
type grouped struct {
	values []float64
	at     []int
}

// group groups the usable values of history up to an hour before now by
// the slots of s.
func group(history []model.SamplePair, s season, now time.Time) grouped {
	cutoff := model.TimeFromUnixNano(now.Add(-recent).UnixNano())
	h := hour(model.TimeFromUnixNano(now.UnixNano()))
	slotOf := func(t model.Time) int {
		return int(((hour(t)-h)%s.hours + s.hours) % s.hours)
	}
	g := grouped{at: make([]int, s.hours+1)}
	for _, p := range history {
		if p.Timestamp <= cutoff && usable(p.Value) {
			g.at[slotOf(p.Timestamp)+1]++
		}
	}
	for i := 1; i < len(g.at); i++ {
		g.at[i] += g.at[i-1]
	}
	g.values = make([]float64, g.at[s.hours])
	next := slices.Clone(g.at[:s.hours])
	for _, p := range history {
		if p.Timestamp <= cutoff && usable(p.Value) {
			i := slotOf(p.Timestamp)
			g.values[next[i]] = float64(p.Value)
			next[i]++
		}
	}
	for i := range s.hours {
		slices.Sort(g.slot(int(i)))
	}
	return g
}

// slot returns the sorted values of slot i.
func (g grouped) slot(i int) []float64 {
	return g.values[g.at[i]:g.at[i+1]]
}

// hour is the number of whole hours since the Unix epoch.
func hour(t model.Time) int64 {
	return int64(t) / int64(time.Hour/time.Millisecond)
}

func usable(v model.SampleValue) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

// estimate computes the baseline of now's slot.
func (g grouped) estimate(current, k float64, season string) enrich.Baseline {
	values := g.slot(0)
	m := median(values)
	s := max(spread(values, m), g.pooledSpread(), minSpread*math.Abs(m))
	return enrich.Baseline{
		Expected:  m,
		Lower:     m - k*s,
		Upper:     m + k*s,
		Deviation: deviation(current, m, s),
		Season:    season,
	}
}

// median returns the median of sorted values.
func median(values []float64) float64 {
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}

// spread is the robust standard deviation of values around their median
// m (see madScale).
func spread(values []float64, m float64) float64 {
	dev := make([]float64, len(values))
	sum := 0.0
	for i, v := range values {
		dev[i] = math.Abs(v - m)
		sum += dev[i]
	}
	slices.Sort(dev)
	if s := madScale * median(dev); s > 0 {
		return s
	}
	return meanADScale * sum / float64(len(values))
}

// pooledSpread is the spread of every value around its slot's median,
// corrected for the size of its slot (see madScale).
func (g grouped) pooledSpread() float64 {
	res := make([]float64, 0, len(g.values))
	for i := range len(g.at) - 1 {
		values := g.slot(i)
		n := len(values)
		if n < 2 {
			continue
		}
		m, c := median(values), float64(n)/float64(n-1)
		for _, v := range values {
			res = append(res, c*math.Abs(v-m))
		}
	}
	if len(res) == 0 {
		return 0
	}
	slices.Sort(res)
	return madScale * median(res)
}

// deviation is how many spreads current is from the median, within
// ±maxDeviation.
func deviation(current, m, spread float64) float64 {
	if current == m {
		return 0
	}
	return max(-maxDeviation, min(maxDeviation, (current-m)/spread))
}

// Line is the augur_baseline annotation: "150 is within the usual range
// for Mon 09:00 UTC (141–159)" or "412 is 12.3σ above the usual for Mon
// 09:00 UTC (usual 141–159)".
func (r Result) Line() string {
	b := r.Baseline
	usual := enrich.Number(b.Lower) + "–" + enrich.Number(b.Upper)
	if r.Current >= b.Lower && r.Current <= b.Upper {
		return fmt.Sprintf("%s is within the usual range for %s (%s)", enrich.Number(r.Current), r.Slot, usual)
	}
	dir := "above"
	if b.Deviation < 0 {
		dir = "below"
	}
	return fmt.Sprintf("%s is %sσ %s the usual for %s (usual %s)", enrich.Number(r.Current), enrich.Number(math.Abs(b.Deviation)), dir, r.Slot, usual)
}
