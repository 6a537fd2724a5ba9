package predict

import (
	"math"

	"github.com/augur-sre/augur/enrich/robust"
)

// Huber regression settings: the tuning constant (95% efficiency under
// normal errors), the MAD-to-sigma factor for normal errors, and when
// to stop reweighting: when a round moves the slope by less than
// irlsTolerance times |slope| + scale/n: 0.1% of the slope plus at most
// 3% of its standard error, scale·√(12/n³), up to n = 10,800.
const (
	huberK        = 1.345
	madToSigma    = 1.4826
	irlsMaxRounds = 30
	irlsTolerance = 1e-3
)

// anchorSamples is how many of the last residuals set the level a
// polynomial's forecast starts from: their median is added to the fitted
// end value, so that a level shift the robust fit treats as outliers
// still moves the forecast.
const anchorSamples = MinHistory

// poly is a polynomial of degree 0 (a level), 1 (a line) or 2 fitted to
// the last span samples of a series (all of them when span is 0), in
// x = i - (w-1) for sample i of the w fitted: coef[0] is the fitted
// value at the last sample, coef[1] the slope there and coef[2] half the
// curvature.
type poly struct {
	deg, span int
	coef      [3]float64
	// inv is the inverse of the moment matrix Σ x^(j+k) of the samples
	// fitted, for the prediction interval.
	inv [3][3]float64
	// scale is the robust (MAD) scale of the residuals.
	scale float64
	// shift is the median of the last anchorSamples residuals: the
	// forecast starts from coef[0] + shift.
	shift float64
	// end is the length of the series fitted, span or not.
	end int
	// buf is the fit's workspace, handed on to the next fit.
	buf []float64
}

// fitPoly fits a polynomial of degree deg to the last span samples of y
// (all of them when span is 0) by Huber's M-estimator, reweighting least
// squares until the slope settles: from the ordinary fit, or, when prev
// was fitted to a shorter start of the same series, from prev's
// polynomial moved to the new end, whose buffers it also reuses.
func fitPoly(y []float64, deg, span int, prev *poly) *poly {
	p := &poly{deg: deg, span: span, end: len(y)}
	if span > 0 && span < len(y) {
		y = y[len(y)-span:]
	}
	n := len(y)
	if prev != nil && cap(prev.buf) >= 2*n {
		p.buf = prev.buf[:2*n]
	} else {
		p.buf = make([]float64, 2*n)
	}
	// w holds the absolute residuals for their median before the weights.
	w, abs := p.buf[:n], p.buf[n:]
	if prev != nil && prev.deg == deg && prev.end <= p.end {
		c, d := prev.coef, float64(p.end-prev.end)
		p.coef = [3]float64{c[0] + d*(c[1]+d*c[2]), c[1] + 2*d*c[2], c[2]}
	} else {
		p.coef = weightedPoly(y, nil, deg)
	}
	for range irlsMaxRounds {
		if p.setScale(y, w, abs); p.scale == 0 {
			break
		}
		for i, r := range abs {
			w[i] = min(1, huberK*p.scale/r)
		}
		next := weightedPoly(y, w, deg)
		settled := math.Abs(next[1]-p.coef[1]) <= irlsTolerance*(math.Abs(p.coef[1])+p.scale/float64(n))
		p.coef = next
		if settled {
			break
		}
	}
	p.inv = invert(moments(y, nil, deg), deg)
	p.setShift(y, w)
	return p
}

// setScale sets the scale from the absolute residuals of y, which it
// writes into abs, using buf.
func (p *poly) setScale(y, buf, abs []float64) {
	p.absResiduals(y, abs)
	p.scale = madToSigma * robust.Median(append(buf[:0], abs...))
}

// setShift sets the shift from the last residuals of y, using buf.
func (p *poly) setShift(y, buf []float64) {
	tail := y[len(y)-min(len(y), anchorSamples):]
	off := len(y) - len(tail)
	for i, v := range tail {
		buf[i] = v - p.at(float64(off+i-(len(y)-1)))
	}
	p.shift = robust.Median(buf[:len(tail)])
}

// at is the polynomial's value at x.
func (p *poly) at(x float64) float64 {
	return p.coef[0] + x*(p.coef[1]+x*p.coef[2])
}

// absResiduals writes the absolute residuals of y from the polynomial
// into buf.
func (p *poly) absResiduals(y, buf []float64) {
	last := float64(len(y) - 1)
	for i, v := range y {
		buf[i] = math.Abs(v - p.at(float64(i)-last))
	}
}

// moments returns the weighted sums Σ w x^(j+k) for j, k ≤ deg and, in
// the last column, Σ w x^j y, with x = i - (len(y)-1); nil w weighs every
// sample 1.
func moments(y, w []float64, deg int) [3][4]float64 {
	var s0, s1, s2, s3, s4, t0, t1, t2 float64
	last := float64(len(y) - 1)
	for i, v := range y {
		x, wi := float64(i)-last, 1.0
		if w != nil {
			wi = w[i]
		}
		wx := wi * x
		wxx := wx * x
		s0 += wi
		s1 += wx
		s2 += wxx
		t0 += wi * v
		t1 += wx * v
		if deg == 2 {
			s3 += wxx * x
			s4 += wxx * x * x
			t2 += wxx * v
		}
	}
	return [3][4]float64{{s0, s1, s2, t0}, {s1, s2, s3, t1}, {s2, s3, s4, t2}}
}

// weightedPoly is the weighted least-squares polynomial of degree deg
// through y; a degenerate system (too few distinct weights) gives its
// best lower-degree terms.
func weightedPoly(y, w []float64, deg int) [3]float64 {
	m := moments(y, w, deg)
	a := invert(m, deg)
	var c [3]float64
	for j := 0; j <= deg; j++ {
		for k := 0; k <= deg; k++ {
			c[j] += a[j][k] * m[k][3]
		}
	}
	return c
}

// invert returns the inverse of the leading (deg+1)×(deg+1) block of m,
// by Gauss-Jordan elimination with partial pivoting; a singular pivot
// leaves its row and column zero.
func invert(m [3][4]float64, deg int) [3][3]float64 {
	n := deg + 1
	var a [3][6]float64
	for j := range n {
		for k := range n {
			a[j][k] = m[j][k]
		}
		a[j][n+j] = 1
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		if a[c][c] == 0 {
			a[c] = [6]float64{}
			continue
		}
		pivot := a[c][c]
		for k := range 2 * n {
			a[c][k] /= pivot
		}
		for r := range n {
			if f := a[r][c]; r != c && f != 0 {
				for k := range 2 * n {
					a[r][k] -= f * a[c][k]
				}
			}
		}
	}
	var inv [3][3]float64
	for j := range n {
		copy(inv[j][:n], a[j][n:2*n])
	}
	return inv
}

// forecast implements model: the polynomial continued from the current
// level, its fitted end value plus the shift.
func (p *poly) forecast(h int) []float64 {
	out := make([]float64, h)
	for k := range out {
		out[k] = p.at(float64(k+1)) + p.shift
	}
	return out
}

// sigma implements model with the least-squares prediction interval,
// scale * sqrt(1 + x'(X'X)⁻¹x) for x = (1, k, k²), widened by the
// variance of the shift, a median of anchorSamples residuals (π/2 times
// that of their mean).
func (p *poly) sigma(h int) []float64 {
	out := make([]float64, h)
	anchor := math.Pi / 2 / anchorSamples
	for k := range out {
		x := [3]float64{1, float64(k + 1), float64((k + 1) * (k + 1))}
		var q float64
		for j := 0; j <= p.deg; j++ {
			for l := 0; l <= p.deg; l++ {
				q += x[j] * p.inv[j][l] * x[l]
			}
		}
		out[k] = p.scale * math.Sqrt(1+max(0, q)+anchor)
	}
	return out
}

// slope implements model: the slope at the last sample.
func (p *poly) slope() float64 { return p.coef[1] }

// extend implements model: a polynomial has no parameters to keep, so it
// is refitted, starting from where it was.
func (p *poly) extend(y []float64) (model, error) { return p.refit(y) }

// refit implements model, starting from p when y continues the series p
// was fitted to.
func (p *poly) refit(y []float64) (model, error) { return fitPoly(y, p.deg, p.span, p), nil }

// acceleration is the second derivative, per step², of the least-squares
// quadratic through y, taken relative to its first value, which the
// curvature does not depend on but its rounding does.
func acceleration(y []float64) float64 {
	rel := make([]float64, len(y))
	for i, v := range y {
		rel[i] = v - y[0]
	}
	return 2 * weightedPoly(rel, nil, 2)[2]
}
