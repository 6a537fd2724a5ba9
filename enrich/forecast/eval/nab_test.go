package eval

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The one policy of every replay, NAB's and the ramps'. The lookback is
// the watcher's default, 6h: the last 72 samples of a 5-minute series (12
// of NYC taxi's 30-minute one, 6 of the hourly ambient temperature), too
// short for the daily season. A day (288 samples at 5 minutes) was tried
// first and did worse everywhere (ramps warned 8.8% against 24%, NAB 0 of
// 31 either way): over a day, a ramp of a few hours is a minority of the
// window the line is fitted to. The horizon of an hour is 12 samples at 5
// minutes. A forecast is made every 15 minutes (every 3rd sample at 5
// minutes, every sample of the coarser files), and warns as the watcher
// raises a predicted alert: the point forecast crosses the threshold
// within the horizon with Breach.Probability at least 0.8, the watcher's
// default min_probability, the last sample being still below it. Level is
// the enricher's.
const (
	lookback       = 6 * time.Hour
	horizon        = time.Hour
	every          = 15 * time.Minute
	minProbability = 0.8
	level          = 0.9
)

// slack widens the time before a breach in which a warning counts for it,
// [breach − horizon − slack, breach): one evaluation, so that a warning
// made just before the horizon reaches the breach is not lost to the
// evaluation grid.
const slack = every

// policy is the policy of every replay.
func policy() Policy {
	return Policy{Lookback: lookback, Horizon: horizon, Every: every, MinProbability: minProbability, Level: level}
}

// nabEvent is a breach of the threshold inside a labelled window.
type nabEvent struct {
	file   string
	breach time.Time
	warned bool
	lead   time.Duration
}

// nabResult is the score of one replayed file.
type nabResult struct {
	file          string
	step          time.Duration
	threshold     float64
	events        []nabEvent
	falseWarnings int
	daysOutside   float64
}

// scoreNAB replays a file with NAB's breach protocol: the threshold is
// the largest value of the probationary period, a breach is the first
// sample above it inside a labelled window, and a warning counts for it
// when it falls within [breach − horizon − slack, breach). Warning
// episodes after the probationary period and outside all windows are
// false.
func scoreNAB(f nabFile, p Policy) (nabResult, error) {
	s := f.series
	theta := maxOf(s.Values[:f.probationSlots])
	res := nabResult{file: f.name, step: s.Step, threshold: theta}
	from := f.probationEnd
	evals, err := Replay(s, theta, from.Add(-p.Horizon-slack), f.end(), p)
	if err != nil {
		return res, fmt.Errorf("replay %s: %w", f.name, err)
	}
	for _, w := range f.windows {
		breach, ok := firstAbove(f, theta, w)
		if !ok {
			continue
		}
		ev := nabEvent{file: f.name, breach: breach}
		if e, ok := FirstWarning(evals, breach.Add(-p.Horizon-slack), breach); ok {
			ev.warned, ev.lead = true, breach.Sub(e.At)
		}
		res.events = append(res.events, ev)
	}
	res.falseWarnings = Episodes(evals, from, f.windows)
	outside := f.end().Sub(from)
	for _, w := range f.windows {
		start, end := maxTime(w.Start, from), minTime(w.End, f.end())
		if end.After(start) {
			outside -= end.Sub(start)
		}
	}
	res.daysOutside = outside.Hours() / 24
	return res, nil
}

// firstAbove returns the time of the first sample above theta within the
// window.
func firstAbove(f nabFile, theta float64, w Interval) (time.Time, bool) {
	s := f.series
	for i, v := range s.Values {
		at := s.Start.Add(time.Duration(i) * s.Step)
		if v > theta && w.Contains(at) {
			return at, true
		}
	}
	return time.Time{}, false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// replayNAB scores the files of the categories in parallel.
func replayNAB(t *testing.T, dir string, categories ...string) []nabResult {
	t.Helper()
	var names []string
	for _, c := range categories {
		n, err := nabNames(dir, c)
		require.NoError(t, err)
		names = append(names, n...)
	}
	files, err := loadNAB(dir, names)
	require.NoError(t, err)
	results := make([]nabResult, len(files))
	require.NoError(t, parallel(len(files), func(i int) error {
		r, err := scoreNAB(files[i], policy())
		results[i] = r
		return err
	}))
	return results
}

// TestNABBreachEarlyWarning replays realKnownCause and realAWSCloudwatch
// and scores the warnings of a breach of NAB's probationary maximum.
func TestNABBreachEarlyWarning(t *testing.T) {
	dir := nabDir(t)
	start := time.Now()
	results := replayNAB(t, dir, "realKnownCause", "realAWSCloudwatch")

	t.Logf("policy: lookback %s, horizon %s, evaluated every %s, warning = forecast crosses θ within the horizon with p ≥ %.2f, not yet breached; counted in [breach − %s, breach)",
		lookback, horizon, every, minProbability, horizon+slack)
	t.Logf("%-58s %6s %12s %7s %7s %-22s %6s %7s", "file", "step", "θ", "events", "warned", "leads", "false", "days")
	var events, warned, falseWarnings int
	var days float64
	var leads []float64
	for _, r := range results {
		var ls []string
		for _, e := range r.events {
			events++
			if e.warned {
				warned++
				leads = append(leads, e.lead.Minutes())
				ls = append(ls, e.lead.String())
			} else {
				ls = append(ls, "-")
			}
		}
		falseWarnings += r.falseWarnings
		days += r.daysOutside
		t.Logf("%-58s %6s %12.4g %7d %7d %-22s %6d %7.1f", r.file, r.step, r.threshold, len(r.events), countWarned(r.events), strings.Join(ls, " "), r.falseWarnings, r.daysOutside)
	}
	perDay := float64(falseWarnings) / days
	medianLead := median(leads)
	t.Logf("NAB events warned before the breach: %d of %d (published detectors: ~10 of 28)", warned, events)
	t.Logf("NAB median lead of the warned events: %.0f min (published: 0 min; over all %d events, unwarned as 0: %.0f min)",
		medianLead, events, median(append(leads, make([]float64, events-warned)...)))
	t.Logf("NAB false warnings outside windows: %d episodes in %.1f days = %.2f/day", falseWarnings, days, perDay)
	t.Logf("NAB replay took %s", time.Since(start).Round(time.Millisecond))

	// NAB's README expects about 28 events; this protocol, with the
	// probationary period taken as 15% of the rows, finds 31.
	require.Equal(t, 31, events, "NAB events: breaches of the probationary maximum inside labelled windows")
	// Target missed: more than ~10 of 28 events warned before the breach.
	// The forecaster warns of none of the 31 (short of the target by 11 or
	// more), before and after choosing models by their forecasts from
	// recent origins, and with Breach modelling the first noisy sample
	// past θ: NAB's breaches are jumps from a steady level, which a model
	// of level and trend cannot see coming. No floor below 0 to assert.
	// False warnings: 0.16/day (0.08/day when only the point forecast's
	// crossing counted), target < 1/day.
	require.Less(t, perDay, 1.0, "false warnings per day outside labelled windows")
}

// countWarned counts the events warned of.
func countWarned(events []nabEvent) int {
	var n int
	for _, e := range events {
		if e.warned {
			n++
		}
	}
	return n
}

// TestNABNoAnomalyFalseWarnings replays artificialNoAnomaly, where every
// warning is false.
func TestNABNoAnomalyFalseWarnings(t *testing.T) {
	dir := nabDir(t)
	results := replayNAB(t, dir, "artificialNoAnomaly")
	t.Logf("%-58s %12s %6s %7s", "file", "θ", "false", "days")
	clean := 0
	for _, r := range results {
		require.Empty(t, r.events, r.file)
		if r.falseWarnings == 0 {
			clean++
		}
		t.Logf("%-58s %12.4g %6d %7.1f", r.file, r.threshold, r.falseWarnings, r.daysOutside)
	}
	t.Logf("no-anomaly files without a false warning: %d of %d", clean, len(results))
	require.GreaterOrEqual(t, clean, 3, "no-anomaly files without a false warning")
}
