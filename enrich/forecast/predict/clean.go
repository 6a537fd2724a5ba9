package predict

import (
	"fmt"
	"math"
	"time"
)

// MaxGap is the longest run of missing samples that is interpolated over;
// a longer one cuts the series.
const MaxGap = 5

// clean returns the most recent stretch of the series without gaps longer
// than MaxGap, shorter gaps interpolated linearly, and the time of its
// first sample. It fails when that stretch is shorter than MinHistory.
func clean(s Series) ([]float64, time.Time, error) {
	last := len(s.Values) - 1
	for last >= 0 && missing(s.Values[last]) {
		last--
	}
	if last < 0 {
		return nil, time.Time{}, fmt.Errorf("all %d samples are missing", len(s.Values))
	}
	first, gap := last, 0
	for i := last - 1; i >= 0; i-- {
		if missing(s.Values[i]) {
			continue
		}
		if gap = first - i - 1; gap > MaxGap {
			break
		}
		first, gap = i, 0
	}
	n := last - first + 1
	if n < MinHistory {
		if gap > MaxGap {
			return nil, time.Time{}, fmt.Errorf("too little history: %d samples since a gap of %d missing ones, need at least %d", n, gap, MinHistory)
		}
		return nil, time.Time{}, fmt.Errorf("too little history: %d samples, need at least %d", n, MinHistory)
	}
	y := make([]float64, n)
	copy(y, s.Values[first:last+1])
	interpolate(y)
	return y, s.Start.Add(time.Duration(first) * s.Step), nil
}

// missing reports whether v marks a missing sample.
func missing(v float64) bool {
	return math.IsNaN(v) || math.IsInf(v, 0)
}

// interpolate fills the missing samples of y, which starts and ends with
// observed ones, on the line between their neighbours.
func interpolate(y []float64) {
	prev := 0
	for i := 1; i < len(y); i++ {
		if missing(y[i]) {
			continue
		}
		for j := prev + 1; j < i; j++ {
			y[j] = y[prev] + (y[i]-y[prev])*float64(j-prev)/float64(i-prev)
		}
		prev = i
	}
}
