package predict

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// Parameter search: the starting smoothing parameters (α, β*, γ*), the
// simplex size in logit space, and the evaluation budget of one fit.
const (
	startAlpha, startBeta, startGamma = 0.3, 0.1, 0.1
	simplexSize                       = 1.0
	refineSimplex                     = 0.2
	maxEvaluations                    = 150
	convergeRelative                  = 1e-4
	convergeRounds                    = 10
)

// smooth is additive exponential smoothing in error-correction form:
// Holt's level and trend, plus a season of period m when m > 0
// (Holt-Winters). With e the one-step error:
//
//	level  += trend + alpha*e
//	trend  += beta*e            (beta = alpha*β*)
//	season += gamma*e           (gamma = (1-alpha)*γ*)
//
// so that beta and gamma are the coefficients of the innovations
// state-space model whose forecast variance has a closed form.
type smooth struct {
	m                  int
	alpha, beta, gamma float64
	level, trend       float64
	season             []float64 // season[i%m] is the seasonal term of sample i
	n                  int       // samples filtered
	sigma1             float64   // standard deviation of one-step errors
	theta              []float64 // the fitted parameters in logit space
}

// holtStart is the most samples Holt's initial level and trend are taken
// from.
const holtStart = 10

// searchWindow is the most recent samples, at least three seasons, that
// the parameter search runs over: each parameter tried runs the model
// over them once, and older samples matter little to a forecast.
const searchWindow = 4096

// fitSmooth fits Holt (m == 0) or Holt-Winters with period m to y: it
// searches the parameters on the last searchWindow samples, from theta
// (nil: the defaults), and runs the model with them over all of y.
func fitSmooth(y []float64, m int, theta []float64) (model, error) {
	theta, err := search(y[len(y)-min(len(y), max(searchWindow, 3*m)):], m, theta)
	if err != nil {
		return nil, err
	}
	s, err := initial(y, m)
	if err != nil {
		return nil, err
	}
	s.set(theta)
	sse, count := s.filter(y)
	s.sigma1 = math.Sqrt(sse / float64(max(1, count-s.params())))
	return s, nil
}

// search returns the parameters, in logit space, that minimise the mean
// squared one-step error on y, found by Nelder-Mead from theta (nil: the
// defaults, searched more widely).
func search(y []float64, m int, theta []float64) ([]float64, error) {
	init, err := initial(y, m)
	if err != nil {
		return nil, err
	}
	size := refineSimplex
	if theta == nil {
		theta, size = logits(startAlpha, startBeta, startGamma)[:init.params()], simplexSize
	}
	work := init.clone()
	objective := func(x []float64) float64 {
		work.set(x)
		work.restart(init)
		sse, count := work.filter(y)
		return sse / float64(count)
	}
	res, err := optimize.Minimize(optimize.Problem{Func: objective}, theta, &optimize.Settings{
		FuncEvaluations: maxEvaluations,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: convergeRelative, Iterations: convergeRounds},
	}, &optimize.NelderMead{SimplexSize: size})
	if res == nil {
		return nil, fmt.Errorf("search smoothing parameters: %w", err)
	}
	return res.X, nil
}

// initial returns the state before the first smoothed sample, with n the
// samples it was taken from. Holt starts from the least-squares line
// through the first samples; Holt-Winters from the mean of the first
// season, the trend between the means of the first two (0 with one) and
// the first season's deviations from that line.
func initial(y []float64, m int) (*smooth, error) {
	if m == 0 {
		k := max(2, min(holtStart, len(y)/2))
		if len(y) <= k {
			return nil, fmt.Errorf("holt: %d samples, need more than %d", len(y), k)
		}
		c := weightedPoly(y[:k], nil, 1)
		return &smooth{level: c[0], trend: c[1], n: k}, nil
	}
	if len(y) <= m {
		return nil, fmt.Errorf("holt-winters: %d samples, need more than a season of %d", len(y), m)
	}
	mean1 := stat.Mean(y[:m], nil)
	var trend float64
	if len(y) >= 2*m {
		trend = (stat.Mean(y[m:2*m], nil) - mean1) / float64(m)
	}
	s := &smooth{m: m, trend: trend, season: make([]float64, m), n: m}
	centre := float64(m-1) / 2
	for j := range m {
		s.season[j] = y[j] - (mean1 + trend*(float64(j)-centre))
	}
	s.level = mean1 + trend*centre
	return s, nil
}

// params is the number of smoothing parameters.
func (s *smooth) params() int {
	if s.m == 0 {
		return 2
	}
	return 3
}

// clone returns a copy of s that shares nothing with it.
func (s *smooth) clone() *smooth {
	c := *s
	c.season = append([]float64(nil), s.season...)
	c.theta = append([]float64(nil), s.theta...)
	return &c
}

// restart resets the state to init's.
func (s *smooth) restart(init *smooth) {
	s.level, s.trend, s.n = init.level, init.trend, init.n
	copy(s.season, init.season)
}

// set sets the smoothing parameters from their logits.
func (s *smooth) set(theta []float64) {
	s.theta = append(s.theta[:0], theta...)
	s.alpha = logistic(theta[0])
	s.beta = s.alpha * logistic(theta[1])
	if s.m > 0 {
		s.gamma = (1 - s.alpha) * logistic(theta[2])
	}
}

// filter smooths y from sample s.n on and returns the sum of squared
// one-step errors and their number. It runs once per parameter tried, so
// Holt's loop is kept free of the season's.
func (s *smooth) filter(y []float64) (sse float64, count int) {
	if s.m == 0 {
		sse = s.filterHolt(y[s.n:])
	} else {
		sse = s.filterSeasonal(y[s.n:], s.n%s.m)
	}
	count = len(y) - s.n
	s.n = len(y)
	return sse, count
}

// filterHolt smooths y with level and trend only.
func (s *smooth) filterHolt(y []float64) (sse float64) {
	level, trend, alpha, beta := s.level, s.trend, s.alpha, s.beta
	for _, v := range y {
		e := v - (level + trend)
		level += trend + alpha*e
		trend += beta * e
		sse += e * e
	}
	s.level, s.trend = level, trend
	return sse
}

// filterSeasonal smooths y, whose first sample falls at phase j of the
// season.
func (s *smooth) filterSeasonal(y []float64, j int) (sse float64) {
	level, trend, alpha, beta, gamma := s.level, s.trend, s.alpha, s.beta, s.gamma
	season := s.season
	for _, v := range y {
		e := v - (level + trend + season[j])
		level += trend + alpha*e
		trend += beta * e
		season[j] += gamma * e
		sse += e * e
		if j++; j == len(season) {
			j = 0
		}
	}
	s.level, s.trend = level, trend
	return sse
}

// forecast implements model.
func (s *smooth) forecast(h int) []float64 {
	out := make([]float64, h)
	for k := range out {
		out[k] = s.level + float64(k+1)*s.trend
		if s.m > 0 {
			out[k] += s.season[(s.n+k)%s.m]
		}
	}
	return out
}

// sigma implements model with the variance of the additive innovations
// model h steps ahead, for j = floor((h-1)/m) full seasons:
// σ²[1 + (h-1)(α² + αβh + β²h(2h-1)/6) + γj(2α + γ + βm(j+1))].
func (s *smooth) sigma(h int) []float64 {
	a, b, g := s.alpha, s.beta, s.gamma
	out := make([]float64, h)
	for k := range out {
		hh := float64(k + 1)
		v := 1 + (hh-1)*(a*a+a*b*hh+b*b*hh*(2*hh-1)/6)
		if s.m > 0 {
			j := float64(k / s.m)
			v += g * j * (2*a + g + b*float64(s.m)*(j+1))
		}
		out[k] = s.sigma1 * math.Sqrt(v)
	}
	return out
}

// slope implements model.
func (s *smooth) slope() float64 { return s.trend }

// extend implements model: the smoothing runs on over the samples of y
// past those it has seen, with the parameters it has.
func (s *smooth) extend(y []float64) (model, error) {
	c := s.clone()
	c.filter(y)
	return c, nil
}

// refit implements model: the parameter search on y starts from the
// parameters s found.
func (s *smooth) refit(y []float64) (model, error) {
	return fitSmooth(y, s.m, s.theta)
}

// logistic maps the real line onto (0, 1).
func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logits returns the logits of p.
func logits(p ...float64) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = math.Log(v / (1 - v))
	}
	return out
}
