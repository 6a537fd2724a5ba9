package history

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSimilarityParts(t *testing.T) {
	friday := time.Date(2026, 10, 2, 14, 0, 0, 0, time.UTC)
	// fp returns a fingerprint of an incident opened on a Friday at 14:00
	// and resolved 10 minutes later, changed by change.
	fp := func(t *testing.T, change func(*Input)) Fingerprint {
		in := Input{OpenedAt: friday}
		change(&in)
		if in.ResolvedAt.IsZero() && in.Now.IsZero() {
			in.ResolvedAt = in.OpenedAt.Add(10 * time.Minute)
		}
		f, err := New(in)
		require.NoError(t, err)
		return f
	}
	open := func(d time.Duration) func(*Input) {
		return func(in *Input) { in.Now = in.OpenedAt.Add(d) }
	}
	resolved := func(d time.Duration) func(*Input) {
		return func(in *Input) { in.ResolvedAt = in.OpenedAt.Add(d) }
	}
	for _, tc := range []struct {
		name    string
		weights Weights
		a, b    func(*Input)
		want    float64
	}{
		{
			name: "services: Jaccard", weights: Weights{Services: 1},
			a:    func(in *Input) { in.Services = []string{"a", "b"} },
			b:    func(in *Input) { in.Services = []string{"b", "c"} },
			want: 1.0 / 3,
		},
		{
			name: "services: both empty", weights: Weights{Services: 1},
			a: func(*Input) {}, b: func(*Input) {}, want: 0,
		},
		{
			name: "alertnames: same", weights: Weights{Alertnames: 1},
			a:    func(in *Input) { in.Alertnames = []string{"X"} },
			b:    func(in *Input) { in.Alertnames = []string{"X"} },
			want: 1,
		},
		{
			name: "signature: same direction ½, step against sudden 0, stable in both left out", weights: Weights{Signature: 1},
			a: func(in *Input) {
				in.Signature = map[string]string{"error_rate": "sudden_increase", "latency": "sudden_increase", "request_rate": "stable", "cpu": "stable"}
			},
			b: func(in *Input) {
				in.Signature = map[string]string{"error_rate": "gradual_increase", "latency": "step_change", "request_rate": "stable", "memory": "spike"}
			},
			want: 0.25,
		},
		{
			name: "signature: stable against a change", weights: Weights{Signature: 1},
			a:    func(in *Input) { in.Signature = map[string]string{"error_rate": "stable"} },
			b:    func(in *Input) { in.Signature = map[string]string{"error_rate": "spike"} },
			want: 0,
		},
		{
			name: "signature: opposite directions", weights: Weights{Signature: 1, Services: 1},
			a:    func(in *Input) { in.Signature = map[string]string{"request_rate": "sudden_increase"} },
			b:    func(in *Input) { in.Signature = map[string]string{"request_rate": "sudden_decrease"} },
			want: 0,
		},
		{
			name: "signature: all stable is no evidence", weights: Weights{Signature: 1, Services: 1},
			a: func(in *Input) {
				in.Services = []string{"a"}
				in.Signature = map[string]string{"error_rate": "stable"}
			},
			b: func(in *Input) {
				in.Services = []string{"a"}
				in.Signature = map[string]string{"error_rate": "stable"}
			},
			want: 1,
		},
		{
			name: "cause: same", weights: Weights{Cause: 1},
			a:    func(in *Input) { in.Cause = "database_issue" },
			b:    func(in *Input) { in.Cause = "database_issue" },
			want: 1,
		},
		{
			name: "cause: half the Jaccard index of the words", weights: Weights{Cause: 1},
			a:    func(in *Input) { in.Cause = "database_lock" },
			b:    func(in *Input) { in.Cause = "database_issue" },
			want: 1.0 / 6,
		},
		{
			name: "cause: unknown on one side is left out", weights: Weights{Cause: 1, Alertnames: 1},
			a:    func(in *Input) { in.Cause, in.Alertnames = "database_issue", []string{"X"} },
			b:    func(in *Input) { in.Alertnames = []string{"X"} },
			want: 1,
		},
		{
			name: "time of day: night and business hours", weights: Weights{TimeOfDay: 1},
			a:    func(in *Input) { in.OpenedAt = time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC) },
			b:    func(*Input) {},
			want: 0.25,
		},
		{
			name: "time of day: weekend and evening", weights: Weights{TimeOfDay: 1},
			a:    func(in *Input) { in.OpenedAt = time.Date(2026, 10, 3, 10, 0, 0, 0, time.UTC) },
			b:    func(in *Input) { in.OpenedAt = time.Date(2026, 10, 1, 20, 0, 0, 0, time.UTC) },
			want: 0.5,
		},
		{
			name: "weekday: Friday and Monday are 3 days apart", weights: Weights{Weekday: 1},
			a:    func(in *Input) { in.OpenedAt = time.Date(2026, 9, 28, 14, 0, 0, 0, time.UTC) },
			b:    func(*Input) {},
			want: 0,
		},
		{
			name: "weekday: Friday and Sunday are 2 days apart", weights: Weights{Weekday: 1},
			a:    func(in *Input) { in.OpenedAt = time.Date(2026, 10, 4, 14, 0, 0, 0, time.UTC) },
			b:    func(*Input) {},
			want: 1.0 / 3,
		},
		{
			name: "duration: four times apart", weights: Weights{Duration: 1},
			a: resolved(10 * time.Minute), b: resolved(40 * time.Minute), want: 0.5,
		},
		{
			name: "duration: sixteen times apart and more", weights: Weights{Duration: 1},
			a: resolved(time.Minute), b: resolved(20 * time.Minute), want: 0,
		},
		{
			name: "duration: under a minute counts as a minute", weights: Weights{Duration: 1},
			a: resolved(10 * time.Second), b: resolved(time.Minute), want: 1,
		},
		{
			name: "duration: open for less than the other lasted", weights: Weights{Duration: 1},
			a: open(10 * time.Minute), b: resolved(40 * time.Minute), want: 1,
		},
		{
			name: "duration: open for longer than the other lasted", weights: Weights{Duration: 1},
			a: open(10 * time.Minute), b: resolved(5 * time.Minute), want: 0.75,
		},
		{
			name: "duration: both open is left out", weights: Weights{Duration: 1},
			a: open(10 * time.Minute), b: open(time.Minute), want: 0,
		},
		{
			name: "severity: peaks two levels apart", weights: Weights{Severity: 1},
			a:    func(in *Input) { in.Priorities = []string{"P3", "P1"} },
			b:    func(in *Input) { in.Priorities = []string{"P3"} },
			want: 1.0 / 3,
		},
		{
			name: "resolution: different types", weights: Weights{Resolution: 1},
			a:    func(in *Input) { in.ResolutionType = "rollback" },
			b:    func(in *Input) { in.ResolutionType = "scaling" },
			want: 0,
		},
		{
			name: "default weights: nothing in common but the weekday's neighbourhood", weights: DefaultWeights(),
			a: func(in *Input) {
				in.Services, in.Alertnames, in.Priorities, in.ResolutionType = []string{"a"}, []string{"A"}, []string{"P1"}, "rollback"
			},
			b: func(in *Input) {
				in.Services, in.Alertnames, in.Priorities, in.ResolutionType = []string{"b"}, []string{"B"}, []string{"P4"}, "scaling"
				in.OpenedAt = time.Date(2026, 10, 4, 14, 0, 0, 0, time.UTC)
				in.ResolvedAt = in.OpenedAt.Add(160 * time.Minute)
			},
			want: 0.01 / 0.65,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := fp(t, tc.a), fp(t, tc.b)
			require.InDelta(t, tc.want, Similarity(a, b, tc.weights), 1e-9)
			require.InDelta(t, tc.want, Similarity(b, a, tc.weights), 1e-9, "symmetric")
		})
	}
}

func TestSimilarityRange(t *testing.T) {
	g := newGenerator(t, 5)
	var all []Fingerprint
	for _, l := range g.history(100, 0.2) {
		all = append(all, l.inc.Fingerprint)
	}
	for range 20 {
		all = append(all, g.fresh(&g.kinds[0]).inc.Fingerprint)
	}
	w := DefaultWeights()
	for i, a := range all {
		require.InDelta(t, 1, Similarity(a, a, w), 1e-12, "itself")
		for _, b := range all[i+1:] {
			s := Similarity(a, b, w)
			require.False(t, math.IsNaN(s))
			require.GreaterOrEqual(t, s, 0.0)
			require.LessOrEqual(t, s, 1.0)
			require.InDelta(t, s, Similarity(b, a, w), 1e-12, "symmetric")
		}
	}
}

func TestWeightsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    Weights
		want string
	}{
		{name: "default", w: DefaultWeights()},
		{name: "alertnames only", w: Weights{Alertnames: 1}},
		{name: "negative", w: Weights{Services: 1, Duration: -0.1}, want: "weights.duration: -0.1 is not a finite number of at least 0"},
		{name: "NaN", w: Weights{Services: 1, Signature: math.NaN()}, want: "weights.signature: NaN is not a finite number of at least 0"},
		{name: "infinite", w: Weights{Services: math.Inf(1)}, want: "weights.services: +Inf is not a finite number of at least 0"},
		{name: "no sets", w: Weights{Cause: 1, Signature: 1}, want: "weights: services or alertnames must weigh more than 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.w.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.want)
		})
	}
}
