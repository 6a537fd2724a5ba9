package predict

import "math"

// Huber regression settings: the tuning constant (95% efficiency under
// normal errors), the MAD-to-sigma factor for normal errors, and when
// to stop reweighting.
const (
	huberK        = 1.345
	madToSigma    = 1.4826
	irlsMaxRounds = 30
	irlsTolerance = 1e-6
)

// line is a straight line fitted to n samples, y = a + b*i at sample
// i, with the robust scale of its residuals.
type line struct {
	a, b  float64
	n     int
	scale float64
}

// fitLine fits a line to y by Huber's M-estimator, reweighting least
// squares from the ordinary fit until the slope settles.
func fitLine(y []float64) model {
	w, abs, scratch := ones(len(y)), make([]float64, len(y)), make([]float64, len(y))
	l := weightedLine(y, w)
	for range irlsMaxRounds {
		l.absResiduals(y, abs)
		l.scale = madToSigma * median(append(scratch[:0], abs...))
		if l.scale == 0 {
			break
		}
		for i, r := range abs {
			w[i] = min(1, huberK*l.scale/r)
		}
		next := weightedLine(y, w)
		next.scale = l.scale
		settled := math.Abs(next.b-l.b) <= irlsTolerance*(math.Abs(l.b)+l.scale/float64(len(y)))
		l = next
		if settled {
			break
		}
	}
	return l
}

// weightedLine is the weighted least-squares line through y.
func weightedLine(y, w []float64) line {
	var sw, sx, sy float64
	for i, v := range y {
		sw += w[i]
		sx += w[i] * float64(i)
		sy += w[i] * v
	}
	mx, my := sx/sw, sy/sw
	var sxx, sxy float64
	for i, v := range y {
		dx := float64(i) - mx
		sxx += w[i] * dx * dx
		sxy += w[i] * dx * (v - my)
	}
	b := sxy / sxx
	return line{a: my - b*mx, b: b, n: len(y)}
}

// absResiduals writes the absolute residuals of y from the line into buf.
func (l line) absResiduals(y, buf []float64) {
	for i, v := range y {
		buf[i] = math.Abs(v - l.a - l.b*float64(i))
	}
}

// forecast implements model.
func (l line) forecast(h int) []float64 {
	out := make([]float64, h)
	for k := range out {
		out[k] = l.a + l.b*float64(l.n+k)
	}
	return out
}

// sigma implements model with the least-squares prediction interval:
// scale * sqrt(1 + 1/n + (x - mean x)²/Sxx).
func (l line) sigma(h int) []float64 {
	n := float64(l.n)
	mx := (n - 1) / 2
	sxx := n * (n*n - 1) / 12
	out := make([]float64, h)
	for k := range out {
		d := float64(l.n+k) - mx
		out[k] = l.scale * math.Sqrt(1+1/n+d*d/sxx)
	}
	return out
}

// slope implements model.
func (l line) slope() float64 { return l.b }

// refit implements model.
func (l line) refit(y []float64) (model, error) { return fitLine(y), nil }

// acceleration is the second derivative, per step², of the least-squares
// quadratic through y. With x centred on the middle sample the odd
// moments vanish and the curvature comes from a 2×2 system; y is taken
// relative to its first value, which the curvature does not depend on.
func acceleration(y []float64) float64 {
	mid := float64(len(y)-1) / 2
	var n, s2, s4, sy, s2y float64
	for i, v := range y {
		x2 := (float64(i) - mid) * (float64(i) - mid)
		n++
		s2 += x2
		s4 += x2 * x2
		sy += v - y[0]
		s2y += x2 * (v - y[0])
	}
	det := n*s4 - s2*s2
	if det == 0 {
		return 0
	}
	return 2 * (n*s2y - s2*sy) / det
}

// median returns the median of v, reordering it (quickselect).
func median(v []float64) float64 {
	k := len(v) / 2
	m := nth(v, k)
	if len(v)%2 == 1 {
		return m
	}
	lower := v[0]
	for _, x := range v[:k] {
		lower = max(lower, x)
	}
	return (lower + m) / 2
}

// nth reorders v so that v[k] is its k-th smallest element, with the
// smaller ones before it, and returns it.
func nth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[(lo+hi)/2]
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
	return v[k]
}
