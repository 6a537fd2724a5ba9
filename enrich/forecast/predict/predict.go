package predict

import (
	"fmt"
	"math"
	"time"

	"github.com/augur-sre/augur/enrich/robust"
)

// Defaults for Options.
const (
	DefaultSeason = 24 * time.Hour
	DefaultLevel  = 0.9
)

// MinHistory is the fewest samples, after cleaning, that Fit forecasts
// from: fewer say too little about a trend to extrapolate it.
const MinHistory = 10

// Trends a Forecast reports.
const (
	TrendIncreasing = "increasing"
	TrendDecreasing = "decreasing"
	TrendStable     = "stable"
)

// stableFraction is the change over the horizon, as a fraction of the
// current value, below which a noiseless series counts as stable.
const stableFraction = 1e-3

// Series is evenly spaced samples: Values[i] was observed at
// Start + i*Step. NaN (or ±Inf) marks a missing sample.
type Series struct {
	Start  time.Time
	Step   time.Duration
	Values []float64
}

// Options say how far ahead to forecast and how.
type Options struct {
	// Horizon is how far past the last sample to forecast; it is required.
	Horizon time.Duration
	// Season is the period Holt-Winters models (0: DefaultSeason), rounded
	// to a whole number of steps. It is tried only when the series holds
	// at least two full seasons.
	Season time.Duration
	// Level is the coverage of the prediction interval (0: DefaultLevel).
	Level float64
}

// Forecast is a model fitted to a series and its forecast up to the
// horizon.
type Forecast struct {
	// Model is the model chosen: "local_level", "linear",
	// "local_linear", "holt", "local_quadratic" or "holt_winters".
	Model string
	// Current is the last observed value.
	Current float64
	// Predicted holds the point forecast 1, 2, ... steps past End, up to
	// the first step at or beyond the horizon.
	Predicted []float64
	// Sigma holds the standard deviation of the forecast error for each
	// step of Predicted.
	Sigma []float64
	// Step is the time between two forecast steps.
	Step time.Duration
	// End is the time of the last observation.
	End time.Time
	// Slope is the current trend, in units per second.
	Slope float64
	// Acceleration is the change of the slope, in units per second², from
	// a quadratic fitted to the recent samples (twice the horizon, at
	// least MinHistory).
	Acceleration float64
	// Trend is TrendIncreasing, TrendDecreasing or TrendStable: stable
	// when the trend moves the series over the horizon by less than its
	// one-step noise (or, noiseless, by less than 0.1% of its value).
	Trend string
	// Error is the mean absolute error of the chosen model's forecasts up
	// to the horizon from origins over the last 20% of the series (at
	// least the horizon), weighted toward the latest, which chose it.
	Error float64
	// Level is the coverage of the interval Breach reports.
	Level float64
	// Persistence is the lag-1 autocorrelation, within [0,
	// maxPersistence], of the recent samples (as many as Acceleration
	// uses) around their least-squares line: how much of a sample's
	// noise the next one keeps, as in a rate over a window longer than
	// the step.
	Persistence float64
	// Noise is the standard deviation of the recent samples' own noise,
	// the part of the error that each sample draws afresh: from their
	// median absolute second difference, which a smooth or piecewise
	// constant series leaves near 0 however large the model's error.
	Noise float64
}

// maxPersistence bounds Persistence, so that a series whose noise
// drifts slowly still makes one independent try at a threshold every
// (1+maxPersistence)/(1−maxPersistence) steps.
const maxPersistence = 0.95

// Fit fits the models to the series, keeps the one whose forecasts up to
// o.Horizon from recent origins erred least and forecasts with it,
// refitted on the whole series, up to o.Horizon. Missing samples are interpolated over gaps of up to
// MaxGap samples; at a longer gap the series is cut and only what follows
// is used. A constant series gives a flat, stable forecast.
func Fit(s Series, o Options) (Forecast, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Forecast{}, err
	}
	if s.Step <= 0 {
		return Forecast{}, fmt.Errorf("series step %s: must be positive", s.Step)
	}
	y, start, err := clean(s)
	if err != nil {
		return Forecast{}, err
	}
	season := int(math.Round(float64(o.Season) / float64(s.Step)))
	h := int(math.Ceil(float64(o.Horizon) / float64(s.Step)))
	choice, err := choose(y, h, candidates(len(y), season, h))
	if err != nil {
		return Forecast{}, err
	}
	return newForecast(y, choice, h, s.Step, start, o.Level), nil
}

// withDefaults returns the options with defaults applied, or why they are
// invalid.
func (o Options) withDefaults() (Options, error) {
	if o.Horizon <= 0 {
		return o, fmt.Errorf("horizon %s: must be positive", o.Horizon)
	}
	if o.Season == 0 {
		o.Season = DefaultSeason
	}
	if o.Season < 0 {
		return o, fmt.Errorf("season %s: must not be negative", o.Season)
	}
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	if o.Level <= 0 || o.Level >= 1 {
		return o, fmt.Errorf("level %g: must be between 0 and 1", o.Level)
	}
	return o, nil
}

// newForecast describes the fitted model's forecast h steps past the end
// of y, whose first sample was observed at start.
func newForecast(y []float64, c choice, h int, step time.Duration, start time.Time, level float64) Forecast {
	n := len(y)
	recent := y[n-min(n, max(MinHistory, 2*h)):]
	f := Forecast{
		Model:        c.name,
		Current:      y[n-1],
		Predicted:    c.model.forecast(h),
		Sigma:        c.model.sigma(h),
		Step:         step,
		End:          start.Add(time.Duration(n-1) * step),
		Slope:        c.model.slope() / step.Seconds(),
		Acceleration: acceleration(recent) / (step.Seconds() * step.Seconds()),
		Error:        c.err,
		Level:        level,
	}
	for k := range f.Sigma {
		f.Sigma[k] *= c.widen
	}
	f.Persistence, f.Noise = persistence(recent), noise(recent)
	f.Trend = trend(c.model.slope()*float64(h), f.Sigma[0], f.Current)
	return f
}

// persistence is the lag-1 autocorrelation of y around its
// least-squares line, within [0, maxPersistence]; 0 for a line.
func persistence(y []float64) float64 {
	c := weightedPoly(y, nil, 1)
	last := float64(len(y) - 1)
	var num, den, prev float64
	for i, v := range y {
		r := v - c[0] - c[1]*(float64(i)-last)
		den += r * r
		if i > 0 {
			num += r * prev
		}
		prev = r
	}
	if den == 0 {
		return 0
	}
	return min(max(num/den, 0), maxPersistence)
}

// noise is the standard deviation of white noise whose second
// differences have the median absolute value of y's: a second difference
// of white noise has six times its variance, and the median absolute
// value of a normal variable is 0.6745 of its standard deviation.
func noise(y []float64) float64 {
	if len(y) < 3 {
		return 0
	}
	d := make([]float64, len(y)-2)
	for i := range d {
		d[i] = math.Abs(y[i+2] - 2*y[i+1] + y[i])
	}
	return robust.Median(d) / 0.6745 / math.Sqrt(6)
}

// trend classes a change over the horizon against the one-step noise
// sigma and the current value.
func trend(change, sigma, current float64) string {
	switch {
	case math.Abs(change) <= max(sigma, stableFraction*math.Abs(current)):
		return TrendStable
	case change > 0:
		return TrendIncreasing
	default:
		return TrendDecreasing
	}
}
