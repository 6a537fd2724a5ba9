package predict

import (
	"fmt"
	"math"
)

// Model names.
const (
	ModelLocalLevel     = "local_level"
	ModelLinear         = "linear"
	ModelLocalLinear    = "local_linear"
	ModelLocalQuadratic = "local_quadratic"
	ModelHolt           = "holt"
	ModelHoltWinters    = "holt_winters"
)

// holdout is the fraction of the series, at least the horizon, over
// which the forecast origins that choose the model are spread.
const holdout = 0.2

// resolution is the error, relative to the series' largest magnitude,
// below which forecasts count as exact: rounding must not choose a more
// complex model that is as exact as a simpler one.
const resolution = 1e-9

// localSpans is the longest local line's window in local windows: longer
// ones cost more than they add to the line of the whole series.
const localSpans = 4

// maxOrigins is the most forecast origins a model is scored from.
const maxOrigins = 8

// simpler is how much lower a model's error must be than a simpler one's
// for it to be chosen: on a plain trend, Holt's forecast can beat the
// line's by chance, and its trend is the noisier; on noise, a trend
// beats the level by chance.
const simpler = 0.9

// model is a model fitted to a series.
type model interface {
	// forecast returns the point forecasts 1..h steps past the series.
	forecast(h int) []float64
	// sigma returns the standard deviations of their errors.
	sigma(h int) []float64
	// slope returns the trend per step at the end of the series.
	slope() float64
	// extend returns the model run on to the end of y, which continues
	// the series it was fitted to, keeping the parameters it has: what it
	// would have been at that later origin, from data before it only.
	extend(y []float64) (model, error)
	// refit fits the same kind of model to y.
	refit(y []float64) (model, error)
}

// candidate is a kind of model and how to fit it.
type candidate struct {
	name string
	fit  func(y []float64) (model, error)
}

// choice is the model chosen, fitted on the whole series, with its
// out-of-sample error and how much wider than its own its errors were.
type choice struct {
	name  string
	model model
	score
}

// score is how well a kind of model forecast from the origins.
type score struct {
	// err is the mean absolute error of the forecasts up to the horizon,
	// weighted toward the latest origin.
	err float64
	// widen is the root mean square of the forecast errors in units of
	// the model's sigma, at least 1: the factor that makes its interval
	// honest out of sample.
	widen float64
}

// candidates returns the models to try on n samples with a season of m
// steps and a horizon of h, the simplest first: the level of the last
// local = max(MinHistory, h) samples, the line of all of them, lines of
// the last local, 2*local and 4*local samples while shorter than the
// series (a ramp is best measured over its own length), Holt, the
// quadratic of the last 2*local samples when shorter than the series,
// and Holt-Winters when the series holds two full seasons.
func candidates(n, m, h int) []candidate {
	local := max(MinHistory, h)
	c := []candidate{{ModelLocalLevel, polynomial(0, local)}, {ModelLinear, polynomial(1, 0)}}
	for span := local; span < n && span <= localSpans*local; span *= 2 {
		c = append(c, candidate{ModelLocalLinear, polynomial(1, span)})
	}
	c = append(c, candidate{ModelHolt, func(y []float64) (model, error) { return fitSmooth(y, 0, nil) }})
	if 2*local < n {
		c = append(c, candidate{ModelLocalQuadratic, polynomial(2, 2*local)})
	}
	if m >= 2 && n >= 2*m {
		c = append(c, candidate{ModelHoltWinters, func(y []float64) (model, error) { return fitSmooth(y, m, nil) }})
	}
	return c
}

// polynomial fits a polynomial of degree deg to the last span samples.
func polynomial(deg, span int) func(y []float64) (model, error) {
	return func(y []float64) (model, error) { return fitPoly(y, deg, span, nil), nil }
}

// choose scores each candidate by its forecasts up to h steps from
// origins near the end of y, each from the data before it only, keeps
// the one with the lowest error (the first on a tie, so the simplest)
// and refits it on all of y. A constant series needs no choice: its
// forecast is the constant.
func choose(y []float64, h int, cs []candidate) (choice, error) {
	if constant(y) {
		return choice{name: ModelLinear, model: &poly{deg: 1, coef: [3]float64{y[0]}}, score: score{widen: 1}}, nil
	}
	at := origins(len(y), h)
	floor := resolution * maxAbs(y)
	best := choice{score: score{err: math.Inf(1)}}
	for _, c := range cs {
		m, s, err := backtest(y, at, h, c)
		if err != nil {
			return choice{}, err
		}
		s.err = max(s.err, floor)
		if s.err < simpler*best.err {
			best = choice{name: c.name, model: m, score: s}
		}
	}
	m, err := best.model.refit(y)
	if err != nil {
		return choice{}, fmt.Errorf("%s on all %d samples: %w", best.name, len(y), err)
	}
	best.model = m
	return best, nil
}

// origins returns the samples forecasts are scored from: up to
// maxOrigins, evenly over the last holdout of the n samples (at least h,
// at most half of them), the last one the closest to the end.
func origins(n, h int) []int {
	span := min(n/2, max(h, int(math.Round(holdout*float64(n)))))
	out := make([]int, min(maxOrigins, span))
	for i := range out {
		out[i] = n - span + i*span/len(out)
	}
	return out
}

// backtest fits the candidate before the first origin, runs it on to
// each later one and scores its forecasts of the samples after each, up
// to h of them, the later origins weighing more. It returns the model at
// the last origin.
func backtest(y []float64, at []int, h int, c candidate) (model, score, error) {
	var m model
	var err error
	var sum, weights, ratio float64
	var count int
	for i, o := range at {
		if i == 0 {
			m, err = c.fit(y[:o])
		} else {
			m, err = m.extend(y[:o])
		}
		if err != nil {
			return nil, score{}, fmt.Errorf("%s on the first %d samples: %w", c.name, o, err)
		}
		actual := y[o:min(o+h, len(y))]
		forecast, sigma := m.forecast(len(actual)), m.sigma(len(actual))
		w := float64(i + 1)
		sum += w * meanAbsError(forecast, actual)
		weights += w
		for k, v := range actual {
			if sigma[k] > 0 {
				z := (v - forecast[k]) / sigma[k]
				ratio += z * z
				count++
			}
		}
	}
	s := score{err: sum / weights, widen: 1}
	if count > 0 {
		s.widen = max(1, math.Sqrt(ratio/float64(count)))
	}
	return m, s, nil
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

// maxAbs is the largest magnitude in y.
func maxAbs(y []float64) float64 {
	var m float64
	for _, v := range y {
		m = max(m, math.Abs(v))
	}
	return m
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
