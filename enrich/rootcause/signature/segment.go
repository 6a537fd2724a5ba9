package signature

import (
	"cmp"
	"math"
	"slices"

	"github.com/augur-sre/augur/enrich/robust"
)

// Robust statistics. The noise unit is the MAD of the first differences,
// scaled to a standard deviation (madScale, exact for normal noise) and
// divided by √2 since a difference holds two samples' noise; differences
// do not see a level shift or a slow seasonal drift, and the MAD does not
// see outliers. When more than half of the differences equal their median
// (counts that are mostly 0, say) the mean absolute deviation stands in,
// likewise scaled.
const (
	madScale    = 1.4826
	meanADScale = 1.2533 // √(π/2)
	// relativeFloor bounds the noise unit below, as a fraction of the
	// series' typical magnitude, so that a constant series has a finite
	// noise unit and a change of it a finite size.
	relativeFloor = 1e-9
	// absoluteFloor is the noise unit of a series that is 0 throughout.
	absoluteFloor = 1e-12
)

// minSegment is the fewest samples a segment holds: a single sample (or
// two) off the level is an outlier, not a change.
const minSegment = 3

// filterHalf is the half-width of the running median that the change
// points are searched on: a running median of 2·filterHalf+1 samples
// removes runs of up to filterHalf outliers and keeps steps, ramps and
// runs of minSegment samples as they are.
const filterHalf = 2

// medianOf returns the median of v without changing it; buf is scratch
// space, returned grown to hold v.
func medianOf(v, buf []float64) (float64, []float64) {
	buf = append(buf[:0], v...)
	return robust.Median(buf), buf
}

// noise returns the noise unit of x (see madScale), 0 when x does not
// vary from one sample to the next.
func noise(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	d := make([]float64, len(x)-1)
	for i := range d {
		d[i] = x[i+1] - x[i]
	}
	m := robust.Median(d)
	sum := 0.0
	for i, v := range d {
		d[i] = math.Abs(v - m)
		sum += d[i]
	}
	if s := madScale * robust.Median(d) / math.Sqrt2; s > 0 {
		return s
	}
	return meanADScale * sum / float64(len(d)) / math.Sqrt2
}

// runningMedian returns the median of each sample and its filterHalf
// neighbours either side (fewer at the ends).
func runningMedian(x []float64) []float64 {
	out := make([]float64, len(x))
	var w [2*filterHalf + 1]float64
	for i := range x {
		lo, hi := max(0, i-filterHalf), min(len(x), i+filterHalf+1)
		win := w[:hi-lo]
		copy(win, x[lo:hi])
		slices.Sort(win)
		if len(win)%2 == 1 {
			out[i] = win[len(win)/2]
		} else {
			out[i] = (win[len(win)/2-1] + win[len(win)/2]) / 2
		}
	}
	return out
}

// candidate is the best split t of the seeded interval [s, e) and its
// CUSUM statistic.
type candidate struct {
	s, e, t int
	stat    float64
}

// changePoints returns the change points of y, in order: the indexes at
// which a new level starts. It is narrowest-over-threshold selection
// (Baranowski, Chen and Fryzlewicz 2019) over seeded intervals (Kovács,
// Li, Bühlmann, Haltmeier and Munk 2023): intervals of n, n/2, n/4, ...
// samples, each scale's intervals overlapping by half. In each interval
// the split with the largest CUSUM statistic
//
//	√(nl·nr/(nl+nr)) · |mean(left) − mean(right)| / sigma
//
// is a candidate when the statistic reaches threshold. The narrowest
// candidate is taken, and the search goes on either side of it among the
// intervals that lie there and the side itself, as binary segmentation
// would. Narrow intervals find a short excursion that a split of the
// whole series would dilute, and the narrowest interval over the
// threshold places a change exactly. Prefix sums make each split O(1),
// the whole O(n log n).
func changePoints(y []float64, sigma, threshold float64) []int {
	n := len(y)
	cs := make([]float64, n+1)
	for i, v := range y {
		cs[i+1] = cs[i] + v
	}
	var cands []candidate
	for l := float64(n) / 2; l >= 2*minSegment; l /= 2 {
		length := int(math.Ceil(l))
		shift := max(1, length/2)
		for s := 0; ; s += shift {
			s = min(s, n-length)
			if c, ok := bestSplit(cs, s, s+length, sigma); ok && c.stat >= threshold {
				cands = append(cands, c)
			}
			if s+length >= n {
				break
			}
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(a.e-a.s, b.e-b.s); c != 0 {
			return c
		}
		return cmp.Compare(b.stat, a.stat)
	})
	var cps []int
	var search func(s, e int)
	search = func(s, e int) {
		i := slices.IndexFunc(cands, func(c candidate) bool { return c.s >= s && c.e <= e })
		var c candidate
		if i >= 0 {
			c = cands[i]
		} else {
			var ok bool
			if c, ok = bestSplit(cs, s, e, sigma); !ok || c.stat < threshold {
				return
			}
		}
		cps = append(cps, c.t)
		search(s, c.t)
		search(c.t, e)
	}
	search(0, n)
	slices.Sort(cps)
	return cps
}

// bestSplit returns the split of [s, e) with the largest CUSUM statistic
// (see changePoints), given the prefix sums cs; false when the interval
// is too short for two segments. It compares squares, which need no
// square root: √(nl·nr/(nl+nr))·|left/nl − right/nr| squared is
// (left·nr − right·nl)² / (nl·nr·(nl+nr)).
func bestSplit(cs []float64, s, e int, sigma float64) (candidate, bool) {
	best := candidate{s: s, e: e, t: -1}
	total, n := cs[e]-cs[s], float64(e-s)
	square := 0.0
	for t := s + minSegment; t <= e-minSegment; t++ {
		nl := float64(t - s)
		nr := n - nl
		left := cs[t] - cs[s]
		d := left*nr - (total-left)*nl
		if sq := d * d / (nl * nr * n); sq > square {
			best.t, square = t, sq
		}
	}
	best.stat = math.Sqrt(square) / sigma
	return best, best.t >= 0
}
