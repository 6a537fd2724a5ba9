package triage

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

var flapPolicy = FlapPolicy{Window: time.Hour, Buckets: 20, High: 0.3, Low: 0.15}

func TestFlapRate(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	now := at(60)
	for _, tc := range []struct {
		name    string
		changes []time.Time
		want    float64
	}{
		{"none", nil, 0},
		// The newest sample weighs 1.2 of a total of 20.
		{"one change, newest sample", []time.Time{at(59)}, 1.2 / 20},
		// The oldest weighs 0.8.
		{"one change, oldest sample", []time.Time{at(1)}, 0.8 / 20},
		{"two changes in one sample count once", []time.Time{at(59), at(58)}, 1.2 / 20},
		{"older than the window", []time.Time{at(-1)}, 0},
		// Every sample changed: the whole weight.
		{"every sample", func() []time.Time {
			var c []time.Time
			for m := 1; m < 60; m += 3 {
				c = append(c, at(m))
			}
			return c
		}(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, FlapRate(tc.changes, now, flapPolicy), 1e-9)
		})
	}
}

func TestObserveCountsChanges(t *testing.T) {
	firing := func(start time.Time) model.Alert {
		return model.Alert{Labels: model.LabelSet{"alertname": "X"}, StartsAt: start}
	}
	resolved := func(start, end time.Time) model.Alert {
		return model.Alert{Labels: model.LabelSet{"alertname": "X"}, StartsAt: start, EndsAt: end}
	}
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

	var h FlapHistory
	h = h.Observe(firing(m(0)), m(1), flapPolicy)
	require.Equal(t, []time.Time{m(0)}, h.Changes, "first firing is a change")
	h = h.Observe(firing(m(0)), m(6), flapPolicy)
	require.Len(t, h.Changes, 1, "the same firing again (a repeat) is no change")
	h = h.Observe(resolved(m(0), m(8)), m(11), flapPolicy)
	require.Equal(t, m(8), h.Changes[1], "resolution at its end time")
	h = h.Observe(firing(m(12)), m(16), flapPolicy)
	require.Equal(t, m(12), h.Changes[2])
	// Resolved at ~m(14) and fired again at m(18), seen as one firing with a
	// new start time.
	h = h.Observe(firing(m(18)), m(21), flapPolicy)
	require.Len(t, h.Changes, 5, "an unseen resolution between two firings counts")
	// Fired and resolved between two resolved notifications.
	h = h.Observe(resolved(m(18), m(22)), m(26), flapPolicy)
	h = h.Observe(resolved(m(27), m(29)), m(31), flapPolicy)
	require.Len(t, h.Changes, 8)
	// A start time in the future (clock skew) counts as now.
	h = h.Observe(firing(m(40)), m(35), flapPolicy)
	require.Equal(t, m(35), h.Changes[8])
	// Changes age out of the window.
	h = h.Observe(firing(m(40)), m(70), flapPolicy)
	require.Equal(t, []time.Time{m(12), m(18), m(18), m(22), m(27), m(29), m(35)}, h.Changes)
}

// An alert that fires for 5 minutes and resolves for 5, over and over,
// starts flapping once enough changes are in its window, stays flapping
// while it goes on, and becomes stable only once its rate falls below the
// low threshold, not already below the high one.
func TestFlappingHysteresis(t *testing.T) {
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	var (
		h       FlapHistory
		started = -1
	)
	for n := 0; n <= 60; n += 5 {
		a := model.Alert{StartsAt: m(n - n%10)}
		if n%10 == 5 {
			a.EndsAt = m(n)
		}
		h = h.Observe(a, m(n), flapPolicy)
		if _, changed := h.Evaluate(m(n), flapPolicy); changed && h.Flapping {
			started = n
		}
	}
	// Changes at 0, 5, 10, 15, 20, 25: six samples of twenty, 0.3.
	require.Equal(t, 25, started, "flapping from the sixth change")
	require.True(t, h.Flapping)

	// Quiet from m(60) on: the rate decays as changes leave the window.
	var stable time.Duration
	for n := 61; n <= 180; n++ {
		rate, changed := h.Evaluate(m(n), flapPolicy)
		if changed {
			require.False(t, h.Flapping)
			require.Less(t, rate, flapPolicy.Low)
			stable = m(n).Sub(m(60))
			break
		}
		require.GreaterOrEqual(t, rate, flapPolicy.Low, "still flapping at rate %v, below the high threshold", rate)
	}
	// At m(105) the changes at 45, 50, 55 and 60 fill the window's samples
	// 0, 1, 3 and 5: (0.8 + 0.821 + 0.863 + 0.905) / 20 = 0.169. At m(106)
	// the one at 45 has left and the rest fill samples 1, 3 and 4 (0.128).
	require.Equal(t, 46*time.Minute, stable)
}
