package cause

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// Sample is a hypothesis of a labelled incident: its features and
// whether its cause was the right one.
type Sample struct {
	Fit, Coverage, Margin float64
	Right                 bool
}

// SampleOf returns the sample of a hypothesis.
func SampleOf(h Hypothesis, right bool) Sample {
	return Sample{Fit: h.Fit, Coverage: h.Coverage, Margin: h.Margin, Right: right}
}

// FitCalibration fits the calibration's weights to labelled samples by
// maximum likelihood (logistic regression, with a weak Gaussian prior
// that keeps the weights finite when the samples separate perfectly), so
// that the confidence of a hypothesis estimates the probability that it
// is right.
func FitCalibration(samples []Sample) (Calibration, error) {
	var right int
	for _, s := range samples {
		if s.Right {
			right++
		}
	}
	if right == 0 || right == len(samples) {
		return Calibration{}, fmt.Errorf("fit calibration: %d of %d samples right: both right and wrong ones are needed", right, len(samples))
	}
	const prior = 0.01 // precision of the Gaussian prior on each weight
	features := func(s Sample) [3]float64 { return [3]float64{s.Fit * math.Sqrt(s.Coverage), s.Margin, 1} }
	p := optimize.Problem{
		Func: func(w []float64) float64 {
			var nll float64
			for _, s := range samples {
				x := features(s)
				z := w[0]*x[0] + w[1]*x[1] + w[2]*x[2]
				// −log σ(z) = log(1+e^−z), computed stably.
				if s.Right {
					nll += softplus(-z)
				} else {
					nll += softplus(z)
				}
			}
			return nll + prior/2*(w[0]*w[0]+w[1]*w[1]+w[2]*w[2])
		},
		Grad: func(grad, w []float64) {
			for i := range grad {
				grad[i] = prior * w[i]
			}
			for _, s := range samples {
				x := features(s)
				z := w[0]*x[0] + w[1]*x[1] + w[2]*x[2]
				y := 0.0
				if s.Right {
					y = 1
				}
				d := 1/(1+math.Exp(-z)) - y
				for i := range grad {
					grad[i] += d * x[i]
				}
			}
		},
	}
	res, err := optimize.Minimize(p, []float64{1, 1, 0}, nil, &optimize.BFGS{})
	if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) {
		return Calibration{}, fmt.Errorf("fit calibration: %w", err)
	}
	return Calibration{FitWeight: res.X[0], MarginWeight: res.X[1], Bias: res.X[2]}, nil
}

// softplus is log(1+e^x) without overflow.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}
