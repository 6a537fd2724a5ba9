package history

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkSimilar searches a history of 100,000 resolved incidents (8
// recurring kinds, 10% novel) for new incidents of the kinds and novel
// ones in turn: with the default options, and with a threshold low
// enough that the cause and signature postings are visited too.
func BenchmarkSimilar(b *testing.B) {
	g := newGenerator(b, 1)
	history := g.history(100_000, 0.1)
	queries := make([]Fingerprint, 0, 90)
	for i := range 90 {
		if i%9 == 8 {
			queries = append(queries, g.fresh(nil).inc.Fingerprint)
		} else {
			queries = append(queries, g.fresh(&g.kinds[i%9]).inc.Fingerprint)
		}
	}
	for _, tc := range []struct {
		name      string
		threshold float64
	}{
		{name: "default", threshold: DefaultOptions().Threshold},
		{name: "threshold 0.4", threshold: 0.4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			o := DefaultOptions()
			o.Threshold = tc.threshold
			ix, err := NewIndex(o)
			require.NoError(b, err)
			for _, l := range history {
				require.NoError(b, ix.Put(l.inc))
			}
			b.ReportAllocs()
			found := 0
			for i := 0; b.Loop(); i++ {
				found += len(ix.Similar(queries[i%len(queries)]))
			}
			b.ReportMetric(float64(found)/float64(b.N), "matches/op")
		})
	}
}

// BenchmarkPut adds incidents to an index of 100,000 and replaces them.
func BenchmarkPut(b *testing.B) {
	g := newGenerator(b, 2)
	ix, err := NewIndex(DefaultOptions())
	require.NoError(b, err)
	for _, l := range g.history(100_000, 0.1) {
		require.NoError(b, ix.Put(l.inc))
	}
	more := g.history(10_000, 0.1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		inc := more[i%len(more)].inc
		inc.ID = fmt.Sprintf("new-%d", i%20_000)
		require.NoError(b, ix.Put(inc))
	}
}
