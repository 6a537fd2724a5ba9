// Package predict forecasts a metric's series a short horizon ahead and
// says when, and how likely, a threshold is crossed: the "time to breach"
// behind augur's forecast annotation and its predicted alerts.
//
// Unlike PromQL's predict_linear, which extrapolates a least-squares line
// over its whole range, Fit tries several models and keeps the one that
// forecasts best from recent origins: the robust level of the last
// samples; robust lines (Huber M-estimator by iteratively reweighted
// least squares, so that a few outliers do not tilt them) over the whole
// series and over the last horizon, twice that, four times that, ..., so
// that a ramp that began recently is measured over its own length; a
// robust quadratic over the last two horizons for accelerating ramps;
// Holt's additive level-and-trend smoothing; and additive Holt-Winters
// when the series holds at least two full seasons. Every forecast starts
// from the model's current level: a polynomial's fitted end value moved
// by the median of its last residuals (so that a level shift the robust
// fit discounts still moves it), the smoothed level for Holt.
//
// The smoothing parameters minimise the one-step-ahead squared error
// (Nelder-Mead over logistic-transformed parameters, so that they stay in
// (0, 1)). Each model is scored by its forecasts up to the horizon from
// up to eight origins spread over the last 20% of the series (at least
// the horizon), from the data before each origin only: polynomials are
// refitted at each origin, their reweighting starting from the previous
// origin's fit, smoothing models fitted before the first one and run on
// with those parameters. The mean absolute errors are weighted
// toward the latest origin, since what matters is the forecast from now,
// and a more complex model has to beat a simpler one by 10%. The winner
// is then refitted on the whole series, a parameter search starting from
// where the first one ended. Nothing looks beyond the series given. To
// bound the cost on long series, the parameter search runs over the last
// 4,096 samples (at least three seasons); the model then runs over all
// of them.
//
// Forecast errors are taken to be normal with a standard deviation that
// grows with the lead time as the model implies: for the polynomials, the
// prediction-interval formula of least squares with the robust (MAD)
// residual scale; for Holt and Holt-Winters, the closed forms for the
// additive innovations state-space models (Hyndman & Athanasopoulos,
// Forecasting: Principles and Practice, table 8.8), scaled by the
// standard deviation of the model's own one-step errors. When the model's
// errors from the origins were larger than that, in units of its
// standard deviations, the interval is widened by their root mean square.
//
// The series is a gauge: counter resets are the caller's to remove, which
// a query through rate() or increase() already does.
package predict
