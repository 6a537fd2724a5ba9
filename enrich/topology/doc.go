// Package topology finds where in the service dependency graph a cascade of
// failures started, and how far it reached.
//
// A Graph holds services and their dependencies (caller → callee), built from
// a static map (topology.static), from observed client/server pairs such as
// service-graph or mesh metrics (topology.from_metrics), or both merged.
// Analyze takes the per-service State (anomalous or not, onset, strength) and
// returns the origin — the anomalous service whose own dependencies are
// healthy, earliest onset first — together with ranked candidate origins,
// the propagation path to the alerting service, the affected services, the
// blast radius and the user impact. Detector turns raw metric history and a
// current window into a State with median/MAD robust z-scores, so that the
// evaluation and the enricher share one definition of "anomalous".
//
// Unlike a plain traversal from the alerting service, the analysis works on
// the strongly connected components of the anomalous subgraph, so mutual
// dependencies (A calls B, B calls A) cannot hide the origin, and it tells
// services observed healthy (which stop a cascade) from services with no
// data (which a cascade may pass through unseen). Everything is pure and
// deterministic: no I/O, no clock, sorted output.
package topology
