// Package history tells which past incidents looked like a new one and
// what resolved them.
//
// An incident's Fingerprint is what it looked like: the pattern of each
// golden signal of its origin service, the services and alert names
// involved, the top cause, when it opened (time-of-day class and weekday,
// in a configurable time zone), how long it lasted, how its priority
// progressed, and once known how it was resolved. It is made from plain
// values (New), so the package depends on nothing of the receiver, and is
// stored as versioned JSON.
//
// Similarity is a weighted mean over the parts of two fingerprints, each
// in [0, 1]: Jaccard indexes for the sets, exact or partial agreement for
// the signature and the cause, closeness for the time, duration and
// severity (see Weights for each part and the defaults). A part that one
// side does not know is left out rather than counted as a difference.
//
// An Index holds the history and returns the top k incidents above a
// threshold. Rather than scoring every past incident, it looks up the
// incidents that share a service, an alert name, a word of the cause or
// a changed signal with the query, and scores fully only those whose
// upper bound can still make the top k; the threshold is validated to be
// above what incidents sharing none of these can reach, so nothing
// similar enough is missed.
//
// Suggest turns the similar incidents into actions ranked by
// similarity-weighted success ("rollback — worked in 3 of 4 similar
// incidents"), the actions that did not help, an estimated time to
// resolve, and the augur_similar line. With no incident above the
// threshold it says so instead of guessing.
//
// The package is pure: fingerprints in, matches and suggestions out.
package history
