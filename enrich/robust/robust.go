// Package robust holds the order statistics the analytics share: the
// median by quickselect, in linear time, where sorting would cost
// n log n on every window of every series.
package robust

import (
	"math"
	"slices"
)

// Median returns the median of v (the mean of the middle two for an even
// count, NaN for none), reordering v.
func Median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	m := Select(v, n/2)
	if n%2 == 1 {
		return m
	}
	// The lower middle is the largest of the values below the upper.
	return (slices.Max(v[:n/2]) + m) / 2
}

// Select reorders v so that v[k] is the value it would hold sorted,
// with no larger value before it and no smaller after, and returns it
// (Hoare's quickselect with a median-of-three pivot).
func Select(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	insertionSort(v[lo : hi+1])
	return v[k]
}

// insertionSort sorts a few values in place.
func insertionSort(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}
