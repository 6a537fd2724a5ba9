// Package predict forecasts a metric's series a short horizon ahead and
// says when, and how likely, a threshold is crossed: the "time to breach"
// behind augur's forecast annotation and its predicted alerts.
//
// Unlike PromQL's predict_linear, which extrapolates a least-squares line,
// Fit tries three models and keeps the one that forecasts best out of
// sample: a robust line (Huber M-estimator by iteratively reweighted least
// squares, so that a few outliers do not tilt it), Holt's additive
// level-and-trend smoothing, and additive Holt-Winters when the series
// holds at least two full seasons. The smoothing parameters minimise the
// one-step-ahead squared error (Nelder-Mead over logistic-transformed
// parameters, so that they stay in (0, 1)). Each model is fitted on the
// first 80% of the series and scored by the mean absolute error of its
// forecast of the last 20%, a more complex model having to beat a
// simpler one by 10%; the winner is then refitted on the whole series,
// its parameter search starting from where the first one ended. Nothing
// looks beyond the series given. To bound the cost on long series, the
// parameter search runs over the last 4,096 samples (at least three
// seasons); the model then runs over all of them.
//
// Forecast errors are taken to be normal with a standard deviation that
// grows with the lead time as the model implies: for the line, the
// prediction-interval formula of least squares with the robust (MAD)
// residual scale; for Holt and Holt-Winters, the closed forms for the
// additive innovations state-space models (Hyndman & Athanasopoulos,
// Forecasting: Principles and Practice, table 8.8), scaled by the
// standard deviation of the model's own one-step errors.
//
// The series is a gauge: counter resets are the caller's to remove, which
// a query through rate() or increase() already does.
package predict
