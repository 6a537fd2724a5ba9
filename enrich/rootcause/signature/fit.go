package signature

import "math"

// shape is how a change from level a to level b is made, fitted by least
// squares to the samples: the level a before sample j0; from j0
// a jump by alpha of the change followed by a straight line reaching b at
// time end; b from sample j1 on. A step has j1 = j0 (alpha = 1), a ramp
// alpha = 0.
type shape struct {
	j0, j1 int
	// end is the time, in steps since the series' start, at which the
	// line reaches b: the time of sample j1, or one step past the last
	// sample when the change is still going on.
	end   float64
	alpha float64
	// delta is the change fitted: b − a, except for a change still going
	// on at the last sample, whose end level is fitted freely.
	delta float64
	cost  float64
}

// rampFit fits shapes of a change from a to b to y over the samples
// [0, hi), sample j at time p[j] (in steps). Prefix sums make the cost of
// any shape O(1).
type rampFit struct {
	a, b, delta float64
	hi          int
	p           []float64
	// Prefix sums over samples: of y, y², p, p² and p·y.
	sy, syy, sp, spp, spy []float64
}

func newRampFit(y, p []float64, hi int, a, b float64) *rampFit {
	f := &rampFit{a: a, b: b, delta: b - a, hi: hi, p: p}
	sums := make([]float64, 5*(hi+1))
	f.sy, f.syy, f.sp, f.spp, f.spy = sums[:hi+1], sums[hi+1:2*(hi+1)], sums[2*(hi+1):3*(hi+1)], sums[3*(hi+1):4*(hi+1)], sums[4*(hi+1):]
	for j := range hi {
		v, t := y[j], p[j]
		f.sy[j+1] = f.sy[j] + v
		f.syy[j+1] = f.syy[j] + v*v
		f.sp[j+1] = f.sp[j] + t
		f.spp[j+1] = f.spp[j] + t*t
		f.spy[j+1] = f.spy[j] + t*v
	}
	return f
}

// flat is the squared error of samples [i, j) around level c.
func (f *rampFit) flat(i, j int, c float64) float64 {
	n := float64(j - i)
	return f.syy[j] - f.syy[i] - 2*c*(f.sy[j]-f.sy[i]) + c*c*n
}

// eval returns the shape that starts at j0 and reaches b at sample j1,
// with alpha fixed to 0 unless jump. With j1 = hi the line runs past the
// last sample and its end level is fitted, alpha then taken for that
// level.
func (f *rampFit) eval(j0, j1 int, jump bool) shape {
	sh := shape{j0: j0, j1: j1, alpha: 1, delta: f.delta}
	sh.end = f.p[j0]
	if j1 > j0 {
		if j1 < f.hi {
			sh.end = f.p[j1]
		} else {
			sh.end = f.p[f.hi-1] + 1
		}
	}
	cost := f.flat(0, j0, f.a) + f.flat(j1, f.hi, f.b)
	if j1 == j0 {
		sh.cost = cost
		return sh
	}
	// On the ramp, with u = y − a and g = (p − c)/L the fraction of the
	// line covered at time p (c one step before j0, L the line's length),
	// the model is a + delta·(alpha + (1 − alpha)·g).
	n := float64(j1 - j0)
	c := f.p[j0] - 1
	L := sh.end - c
	sy, sp := f.sy[j1]-f.sy[j0], f.sp[j1]-f.sp[j0]
	su := sy - f.a*n
	suu := f.flat(j0, j1, f.a)
	sug := (f.spy[j1] - f.spy[j0] - c*sy - f.a*sp + f.a*c*n) / L
	sg := (sp - c*n) / L
	sgg := (f.spp[j1] - f.spp[j0] - 2*c*sp + c*c*n) / (L * L)
	d := f.delta
	if j1 == f.hi && sgg > 0 {
		d = sug / sgg
		sh.delta = d
	}
	// Residuals r = u − d·g of the pure ramp, and w = d·(1 − g), the
	// direction in which alpha moves the model.
	srr := suu - 2*d*sug + d*d*sgg
	sh.alpha = 0
	if jump {
		srw := d * (su - sug - d*sg + d*sgg)
		sww := d * d * (n - 2*sg + sgg)
		if sww > 0 {
			sh.alpha = min(1, max(0, srw/sww))
			srr += -2*sh.alpha*srw + sh.alpha*sh.alpha*sww
		}
	}
	sh.cost = cost + srr
	return sh
}

// step returns the best step: the shape with j0 = j1 in [1, hi).
func (f *rampFit) step() shape {
	best := shape{cost: math.Inf(1)}
	for j := 1; j < f.hi; j++ {
		if sh := f.eval(j, j, false); sh.cost < best.cost {
			best = sh
		}
	}
	return best
}

// gridPoints is the number of grid points per axis of the coarsest search
// of ramp.
const gridPoints = 48

// ramp returns the best shape with a line (j0 < j1), alpha free when
// jump. It searches a grid of about gridPoints² starts and ends, then
// finer grids around the best point, a quarter the spacing each time, to
// one sample.
func (f *rampFit) ramp(jump bool) shape {
	best := shape{cost: math.Inf(1)}
	try := func(j0, j1 int) {
		if j0 < 1 || j0 >= f.hi || j1 <= j0 || j1 > f.hi {
			return
		}
		if sh := f.eval(j0, j1, jump); sh.cost < best.cost {
			best = sh
		}
	}
	stride := max(1, f.hi/gridPoints)
	for j0 := 1; j0 < f.hi; j0 += stride {
		for j1 := j0 + 1; j1 <= f.hi; j1 += stride {
			try(j0, j1)
		}
		try(j0, f.hi)
	}
	for stride > 1 {
		c0, c1 := best.j0, best.j1
		fine := max(1, stride/4)
		for j0 := c0 - stride; j0 <= c0+stride; j0 += fine {
			for j1 := c1 - stride; j1 <= c1+stride; j1 += fine {
				try(j0, j1)
			}
		}
		stride = fine
	}
	return best
}
