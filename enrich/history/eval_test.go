package history

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEvaluation builds a synthetic history of 8 recurring kinds with
// noise (600 resolved incidents, 10% of them novel) and asks about new,
// still open incidents: 50 of each kind and 200 novel ones; for three
// seeds.
//
// For a new incident of a known kind, the most similar past incident must
// be of the same kind in at least 90% of the cases, and the top suggested
// action one that works for the kind in at least 80%. A novel incident
// must find no incident above the threshold in at least 90% of the
// cases: its own services and alerts are unseen, so only the shared
// infrastructure service (30%), a generic alert (40%), the cause (a
// random one of six, 70%) and the signature can bring it near a past
// incident, and each of those alone stays below 0.5.
func TestEvaluation(t *testing.T) {
	for _, seed := range []uint64{42, 7, 2026} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { evaluate(t, seed) })
	}
}

// evaluate runs the evaluation on the history of a seed.
func evaluate(t *testing.T, seed uint64) {
	g := newGenerator(t, seed)
	ix, err := NewIndex(DefaultOptions())
	require.NoError(t, err)
	// probe has the lowest threshold allowed, to show the similarities
	// below the default one.
	o := DefaultOptions()
	o.Threshold = o.Weights.unshared() + 0.001
	probe, err := NewIndex(o)
	require.NoError(t, err)
	kindOf := map[string]string{}
	for _, l := range g.history(600, 0.1) {
		require.NoError(t, ix.Put(l.inc))
		require.NoError(t, probe.Put(l.inc))
		kindOf[l.inc.ID] = l.kind
	}
	var knownTop, otherKind, novelTop []float64

	const perKind, novel = 50, 200
	type tally struct{ queries, sameKind, effective, none int }
	byKind := map[string]*tally{}
	var total tally
	var misses []string
	for _, k := range g.kinds {
		tk := &tally{}
		byKind[k.name] = tk
		for range perKind {
			q := g.fresh(&k)
			s := Suggest(ix.Similar(q.inc.Fingerprint))
			all := probe.Similar(q.inc.Fingerprint)
			knownTop = append(knownTop, similarity(all, 0))
			if i := slices.IndexFunc(all, func(m Match) bool { return kindOf[m.ID] != k.name }); i >= 0 {
				otherKind = append(otherKind, all[i].Similarity)
			}
			tk.queries++
			switch {
			case !s.Found():
				tk.none++
			case kindOf[s.Similar[0].ID] == k.name:
				tk.sameKind++
			default:
				if len(misses) < 8 {
					misses = append(misses, fmt.Sprintf("%s → %s (%.2f) %s", k.name, kindOf[s.Similar[0].ID], s.Similar[0].Similarity, s.Line()))
				}
			}
			if len(s.Actions) > 0 && slices.Contains(k.effective, s.Actions[0].Name) {
				tk.effective++
			}
		}
		total.queries += tk.queries
		total.sameKind += tk.sameKind
		total.effective += tk.effective
		total.none += tk.none
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %8s %10s %10s %8s\n", "kind", "queries", "same kind", "effective", "no match")
	for _, k := range g.kinds {
		tk := byKind[k.name]
		fmt.Fprintf(&b, "%-24s %8d %10d %10d %8d\n", k.name, tk.queries, tk.sameKind, tk.effective, tk.none)
	}
	t.Log(b.String())
	t.Logf("misses:\n%s", strings.Join(misses, "\n"))

	novelMatched := 0
	for range novel {
		q := g.fresh(nil)
		if len(ix.Similar(q.inc.Fingerprint)) > 0 {
			novelMatched++
		}
		novelTop = append(novelTop, similarity(probe.Similar(q.inc.Fingerprint), 0))
	}
	sameKind := float64(total.sameKind) / float64(total.queries)
	effective := float64(total.effective) / float64(total.queries)
	noMatch := 1 - float64(novelMatched)/novel
	t.Logf("known kinds: top match of the same kind %.3f, top action effective %.3f, no match %d of %d", sameKind, effective, total.none, total.queries)
	t.Logf("novel: no match at %.2f or above in %.3f (%d of %d matched)", ix.opts.Threshold, noMatch, novelMatched, novel)
	t.Logf("similarity quantiles (0, 5, 10, 25, 50, 75, 90, 95, 100%%), 0 for none above %.3f:", probe.opts.Threshold)
	t.Logf("  known kind, most similar:       %.2f", quantiles(knownTop))
	t.Logf("  known kind, best of other kind: %.2f", quantiles(otherKind))
	t.Logf("  novel, most similar:            %.2f", quantiles(novelTop))

	require.GreaterOrEqual(t, sameKind, 0.9)
	require.GreaterOrEqual(t, effective, 0.8)
	require.GreaterOrEqual(t, noMatch, 0.9)
}

// similarity returns the similarity of the i-th match, 0 if there is none.
func similarity(m []Match, i int) float64 {
	if i >= len(m) {
		return 0
	}
	return m[i].Similarity
}

// quantiles returns the 0, 5, 10, 25, 50, 75, 90, 95 and 100% quantiles
// of v (nearest rank below).
func quantiles(v []float64) []float64 {
	if len(v) == 0 {
		return nil
	}
	v = slices.Sorted(slices.Values(v))
	var out []float64
	for _, p := range []float64{0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1} {
		out = append(out, v[int(p*float64(len(v)-1))])
	}
	return out
}
