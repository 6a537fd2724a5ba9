package robust

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMedianAgreesWithSorting(t *testing.T) {
	require.True(t, math.IsNaN(Median(nil)))
	require.Equal(t, 3.0, Median([]float64{5, 3, 1}))
	require.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 300; n += 7 {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Round(rng.NormFloat64() * 10) // with ties
		}
		sorted := slices.Sorted(slices.Values(v))
		want := sorted[n/2]
		if n%2 == 0 {
			want = (sorted[n/2-1] + sorted[n/2]) / 2
		}
		require.Equal(t, want, Median(v), "n=%d", n)
		k := rng.IntN(n)
		require.Equal(t, sorted[k], Select(slices.Clone(v), k), "n=%d k=%d", n, k)
	}
}
