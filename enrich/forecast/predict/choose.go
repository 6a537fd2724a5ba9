package predict

import (
	"fmt"
	"math"
)

// Model names.
const (
	ModelLinear      = "linear"
	ModelHolt        = "holt"
	ModelHoltWinters = "holt_winters"
)

// holdout is the fraction of the series held out to choose the model.
const holdout = 0.2

// simpler is how much lower a model's error must be than a simpler one's
// for it to be chosen: on a plain trend, Holt's forecast of the tail can
// beat the line's by chance, and its trend is the noisier.
const simpler = 0.9

// model is a model fitted to a series.
type model interface {
	// forecast returns the point forecasts 1..h steps past the series.
	forecast(h int) []float64
	// sigma returns the standard deviations of their errors.
	sigma(h int) []float64
	// slope returns the trend per step at the end of the series.
	slope() float64
	// refit fits the same kind of model to y.
	refit(y []float64) (model, error)
}

// candidate is a kind of model and how to fit it.
type candidate struct {
	name string
	fit  func(y []float64) (model, error)
}

// choice is the model chosen, fitted on the whole series, with its
// out-of-sample error.
type choice struct {
	name  string
	model model
	err   float64
}

// candidates returns the models to try on n samples with a season of m
// steps: Holt-Winters only when they hold two full seasons.
func candidates(n, m int) []candidate {
	c := []candidate{
		{ModelLinear, func(y []float64) (model, error) { return fitLine(y), nil }},
		{ModelHolt, func(y []float64) (model, error) { return fitSmooth(y, 0, nil) }},
	}
	if m >= 2 && n >= 2*m {
		c = append(c, candidate{ModelHoltWinters, func(y []float64) (model, error) { return fitSmooth(y, m, nil) }})
	}
	return c
}

// choose fits each candidate to the first part of y, keeps the one with
// the lowest mean absolute error on the held-out rest (the first on a
// tie, so the simplest) and refits it on all of y. A constant series
// needs no choice: its forecast is the constant.
func choose(y []float64, cs []candidate) (choice, error) {
	if constant(y) {
		return choice{name: ModelLinear, model: line{a: y[0], n: len(y)}}, nil
	}
	train, test := split(y)
	best := choice{err: math.Inf(1)}
	for _, c := range cs {
		m, err := c.fit(train)
		if err != nil {
			return choice{}, fmt.Errorf("%s on the first %d samples: %w", c.name, len(train), err)
		}
		if e := meanAbsError(m.forecast(len(test)), test); e < simpler*best.err {
			best = choice{name: c.name, model: m, err: e}
		}
	}
	m, err := best.model.refit(y)
	if err != nil {
		return choice{}, fmt.Errorf("%s on all %d samples: %w", best.name, len(y), err)
	}
	best.model = m
	return best, nil
}

// split returns the part of y to fit and the held-out rest.
func split(y []float64) (train, test []float64) {
	k := len(y) - max(1, int(math.Round(holdout*float64(len(y)))))
	return y[:k], y[k:]
}

// meanAbsError is the mean absolute difference of the forecast from the
// actual values.
func meanAbsError(forecast, actual []float64) float64 {
	var sum float64
	for i, v := range actual {
		sum += math.Abs(forecast[i] - v)
	}
	return sum / float64(len(actual))
}

// constant reports whether all of y is the same value.
func constant(y []float64) bool {
	for _, v := range y {
		if v != y[0] {
			return false
		}
	}
	return true
}
