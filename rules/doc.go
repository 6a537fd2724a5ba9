// Package rules generates Prometheus rule files: SLO burn-rate recording
// and alerting rules with a promtool unit-test file for each SLO,
// predictive alerting rules for watched queries, and seasonal-baseline
// recording rules. Every generator is a pure function from specs to
// files; nothing here reads or writes the file system.
//
// Like Sloth, the SLO generator writes per SLO three groups (SLI
// recordings, metadata recordings, alerts) with Sloth's metric and label
// names, so that Sloth's dashboards and alerts keep working (NamingAugur
// switches to augur-prefixed names). Where it differs from Sloth:
//
//   - an events SLI records its error and total queries over 5m only and
//     builds every longer window from sums of those, so a window's ratio
//     is weighted by traffic and a 30d window costs no more than a 1h one;
//   - numbers are written as the spec wrote them: (14.4 * (1 - 0.999));
//   - an alert that can never fire (factor × (1 − objective) ≥ 1) and a
//     window shorter than the rule interval are errors;
//   - each tier has its own for:, each burn-rate alert carries the window
//     pair that fired (augur_burn_window), absent-SLI and budget-exhausted
//     alerts can be switched on, and windows without traffic record what
//     the spec's no_traffic says (nan, good or absent);
//   - each SLO comes with a promtool test file that feeds it synthetic
//     series, asserts the recorded values computed here, and checks that
//     the page alert fires above its burn rate and stays silent below.
//     Values that Prometheus derives through rate() are asserted to a
//     relative 1e-9 (rate's extrapolation adds float noise); constants
//     exactly. An SLI whose queries are not sums of rates (say, a grouped
//     sum) gets a test of its metadata rules only, which says why.
//
// Output is one rule file and one test file per SLO, named after the SLO's
// ID, so that a change to one SLO touches only its own files. All output
// is checked with Prometheus's rulefmt and PromQL parser before it is
// returned, and is byte-for-byte deterministic.
package rules
