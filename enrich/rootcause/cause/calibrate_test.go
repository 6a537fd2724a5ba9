package cause

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFitCalibrationRecoversKnownWeights(t *testing.T) {
	want := Calibration{FitWeight: 6, MarginWeight: 3, Bias: -4}
	rng := rand.New(rand.NewPCG(7, 7))
	var samples []Sample
	for range 20000 {
		s := Sample{Fit: rng.Float64(), Coverage: 0.5 + 0.5*rng.Float64(), Margin: rng.Float64() - 0.3}
		p := want.Confidence(s.Fit, s.Coverage, s.Margin)
		s.Right = rng.Float64() < p
		samples = append(samples, s)
	}
	got, err := FitCalibration(samples)
	require.NoError(t, err)
	require.InDelta(t, want.FitWeight, got.FitWeight, 0.5)
	require.InDelta(t, want.MarginWeight, got.MarginWeight, 0.5)
	require.InDelta(t, want.Bias, got.Bias, 0.5)
	require.False(t, math.IsNaN(got.Confidence(0.5, 1, 0)))

	_, err = FitCalibration(samples[:1])
	require.ErrorContains(t, err, "both right and wrong ones are needed")
}
