// Package expr splits a Prometheus alerting expression into what augur
// forecasts: the watched query, the comparator and the threshold. It reads
// the expression with Prometheus's own PromQL parser, never with regular
// expressions, and refuses what it cannot split rather than guess.
//
// The split follows PromQL's semantics:
//
//   - A comparison is oriented as Query <cmp> Threshold. A number on the
//     left is flipped to the right (0.05 < x becomes x > 0.05); between two
//     series the left one is watched, since a filtering comparison keeps the
//     left side's values. Constant arithmetic such as 4 * 1024 * 1024 is
//     folded into Threshold; anything else becomes ThresholdQuery.
//   - "a and b" fires with a's series while b has a match: the condition comes
//     from a and b goes to Filters. "a unless b" likewise puts b in Unless.
//   - "a or b" fires when either side does: two conditions, each needing its
//     own forecast, so it is refused.
//   - A chained comparison such as x > 0.9 < 1 (a range) takes its condition
//     from the first comparison and adds x < 1 to Filters.
//   - The bool modifier is dropped: the split reports the comparison the
//     rule's author wrote, although a bool comparison makes the rule fire for
//     every series.
//   - == and != are split like the others, but they describe a state (up == 0)
//     rather than a level a trend crosses; Condition.Ordered tells them apart.
//   - absent(), absent_over_time() and expressions without a top-level
//     comparison have no threshold and are refused.
package expr
