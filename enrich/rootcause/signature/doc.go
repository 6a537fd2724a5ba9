// Package signature says whether and how one signal changed over a recent
// window: the pattern (stable, step_change, sudden_increase,
// gradual_increase, sudden_decrease, gradual_decrease or spike), when the
// change began, the levels before and after, and its size in noise units.
// The root-cause enricher matches these signatures against its causes.
//
// The series is compared with a seasonal reference when there is one (the
// residuals are value minus expected, so a daily rise is no change), else
// with itself. Everything is measured robustly, in noise units: the noise
// unit is the MAD of the residuals' first differences, scaled to a
// standard deviation, which neither a level shift, nor a slow drift, nor
// outliers move; with a reference it is at least half the reference's
// spread, so that a change well within the season's usual range stays
// stable. Levels are medians.
//
// Unlike a split of the whole series at its largest mean difference
// (binary segmentation with a CUSUM), which dilutes a short excursion in
// a long window and is pulled by outliers, Detect finds change points in
// three steps:
//
//  1. A running median of five samples removes outliers (runs of up to
//     two samples) and keeps steps, ramps and excursions of three samples
//     or more as they are.
//  2. Change points are found on that by narrowest-over-threshold
//     selection over seeded intervals (Baranowski et al. 2019, Kovács et
//     al. 2023): in intervals of n/2, n/4, ... samples overlapping by
//     half, the best split by the CUSUM statistic in noise units is a
//     candidate when it reaches Penalty·√(2 ln n), the usual threshold
//     for n Gaussian samples; the narrowest candidate is taken, then the
//     search goes on either side. Short excursions are found in short
//     intervals; the whole is O(n log n).
//  3. The segments between change points get their medians. The series
//     is stable unless a segment's median differs from the first
//     segment's by Threshold noise units or more.
//
// The largest such departure is described. When the series comes back
// (its last segment is within a quarter of the excursion, or the
// threshold, of the first), the excursion is a spike if it lasted no
// longer than SpikeSpan. Otherwise the shape of the change from the level
// before (a) to the level after (b: the last segment's, or the
// excursion's when it ended after SpikeSpan) is fitted by least squares
// to the residuals, each held within 2.5 noise units of the running
// median: a step; a straight ramp from a to b (whose end level is free
// when it runs past the last sample); or a jump by a share of the change
// followed by a ramp. Prefix sums make each candidate shape O(1), and a
// coarse-to-fine grid over onsets and ends keeps the search near linear.
// A ramp must lower the squared error by 0.5·ln n squared noise units to
// be preferred to a step, and a jump with a ramp by as much again over
// both.
//
// From the fitted shape:
//
//   - onset is the first sample of the change;
//   - transition is the time from the onset until 90% of the change is
//     made;
//   - step_change: the transition is at most two steps;
//   - sudden_increase, sudden_decrease: the transition is at most Sudden
//     (default 10m), or the change began with a jump of half or more and
//     kept moving the same way;
//   - gradual_increase, gradual_decrease: a longer ramp;
//   - spike: an excursion that is back near the level before within
//     SpikeSpan (default 10m) of its onset, by the end of the window;
//   - stable: no segment's level differs from the first's by Threshold
//     noise units (default 1.5).
//
// The tests generate each pattern with Gaussian noise, outliers, daily
// seasonality (with and without a reference), changes of 2–20 noise units
// and varied onsets and steps, and assert the accuracy. Limits: the noise
// is taken to be independent from one sample to the next (a rate() over
// a window much longer than the step makes neighbours alike and changes
// look larger than they are); excursions shorter than three samples are
// outliers; and below about three noise units a ramp of a few samples is
// hard to tell from a step. Too few observed samples (MinSamples) is an
// error, not stable: the signal's signature is then unknown.
package signature
