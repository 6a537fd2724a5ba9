package eval

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich/forecast/predict"
)

func TestReplayWarnsOfALine(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := make([]float64, 200)
	for i := range v {
		v[i] = float64(i)
	}
	s := predict.Series{Start: start, Step: 5 * time.Minute, Values: v}
	p := Policy{Lookback: time.Hour, Horizon: time.Hour, Every: 15 * time.Minute, MinProbability: 0.8, Level: 0.9}
	// The line passes 150 after sample 150, 12h30m in.
	breach := start.Add(150 * 5 * time.Minute)
	evals, err := Replay(s, 150, start, breach, p)
	require.NoError(t, err)
	require.Equal(t, start.Add(11*5*time.Minute), evals[0].At, "the first evaluation has a full lookback")
	e, ok := FirstWarning(evals, breach.Add(-2*time.Hour), breach)
	require.True(t, ok)
	// Evaluations fall at samples 11, 14, ...: at 137 the line meets 150
	// only at the horizon, not above it; at 140 it meets it in 50m and
	// passes it with the next sample, 55m: In is halfway, where the
	// probability of a sample above 150 goes from 0 to 1.
	require.Equal(t, breach.Add(-50*time.Minute), e.At)
	require.InDelta(t, (52*time.Minute + 30*time.Second).Seconds(), e.Breach.In.Seconds(), 1)
	require.Equal(t, 0, Episodes(evals, start, []Interval{{Start: breach.Add(-2 * time.Hour), End: breach.Add(time.Hour)}}))
	require.Equal(t, 1, Episodes(evals, start, nil))
}

func TestQuantile(t *testing.T) {
	require.True(t, math.IsNaN(Quantile(nil, 0.5)))
	require.Equal(t, 2.5, Quantile([]float64{4, 1, 3, 2}, 0.5))
	require.InDelta(t, 3.7, Quantile([]float64{4, 1, 3, 2}, 0.9), 1e-12)
}
