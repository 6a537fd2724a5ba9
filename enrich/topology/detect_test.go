package topology

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// steady returns n samples around level with a deterministic wobble of
// ±spread.
func steady(n int, level, spread float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = level + spread*math.Sin(float64(i)*1.7)
	}
	return out
}

func TestDetectorAssess(t *testing.T) {
	nan := math.NaN()
	step := 5 * time.Minute
	sig := func(worse Direction, hist, cur []float64) Signal {
		return Signal{Name: "s", Worse: worse, History: hist, Current: cur, Start: epoch(), Step: step}
	}
	latency := steady(288, 100, 10)
	avail := steady(288, 100, 0)
	avail[10], avail[50] = 99.5, 99.8
	cases := []struct {
		name        string
		signal      Signal
		anomalous   bool
		preexisting bool
		onsetIndex  int
		minScore    float64
	}{
		{name: "latency step up", signal: sig(WorseUp, latency, []float64{101, 99, 190, 210, 205}), anomalous: true, onsetIndex: 2, minScore: 8},
		{name: "latency step down is good", signal: sig(WorseUp, latency, []float64{101, 99, 20, 10, 15})},
		{name: "noise", signal: sig(WorseUp, latency, []float64{108, 92, 110, 90, 105})},
		{name: "single spike is a blip", signal: sig(WorseUp, latency, []float64{100, 400, 100, 100, 100})},
		{name: "gaps neither break nor make a run", signal: sig(WorseUp, latency, []float64{100, nan, 200, nan, 210}), anomalous: true, onsetIndex: 2, minScore: 8},
		{name: "availability drop", signal: sig(WorseDown, avail, []float64{100, 100, 97, 96, 100}), anomalous: true, onsetIndex: 2, minScore: 5},
		{name: "availability steady", signal: sig(WorseDown, avail, []float64{100, 100, 100, 99.9, 100})},
		{name: "request rate collapse", signal: sig(WorseEither, latency, []float64{100, 100, 100, 5, 3}), anomalous: true, onsetIndex: 3, minScore: 8},
		{name: "request rate surge", signal: sig(WorseEither, latency, []float64{100, 300, 320, 100, 100}), anomalous: true, onsetIndex: 1, minScore: 10},
		{name: "a 3 % rise of a very steady latency is no incident", signal: sig(WorseUp, steady(288, 100, 0.1), []float64{100, 103, 103, 103, 103})},
		{name: "already anomalous at the start of the window", signal: sig(WorseUp, latency, []float64{300, 310, 320, 330, 340}), preexisting: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, scores, err := Detector{}.Assess(tc.signal)
			require.NoError(t, err)
			require.Len(t, scores, 1)
			require.Equal(t, tc.anomalous, st.Anomalous)
			require.Equal(t, tc.anomalous, scores[0].Anomalous)
			require.Equal(t, tc.preexisting, scores[0].Preexisting)
			if tc.anomalous {
				require.Equal(t, epoch().Add(time.Duration(tc.onsetIndex)*step), st.Onset)
				require.GreaterOrEqual(t, st.Score, tc.minScore)
				require.GreaterOrEqual(t, st.Score, DefaultThreshold)
			} else {
				require.True(t, st.Onset.IsZero())
				require.Zero(t, st.Score)
			}
		})
	}
}

func TestDetectorAssessSeveralSignals(t *testing.T) {
	step := time.Minute
	hist := steady(100, 50, 5)
	signals := []Signal{
		{Name: "p99", History: hist, Current: []float64{50, 50, 50, 200, 200}, Start: epoch(), Step: step},
		{Name: "avg", History: hist, Current: []float64{50, 120, 130, 130, 130}, Start: epoch(), Step: step},
		{Name: "short", History: hist[:5], Current: []float64{500, 500}, Start: epoch(), Step: step},
		{Name: "empty-now", History: hist, Current: []float64{math.NaN()}, Start: epoch(), Step: step},
	}
	st, scores, err := Detector{}.Assess(signals...)
	require.NoError(t, err)
	require.True(t, st.Anomalous)
	require.Equal(t, epoch().Add(step), st.Onset, "earliest onset of the anomalous signals")
	require.Equal(t, scores[0].Score, st.Score, "strongest score")
	require.Len(t, scores, 2)
	require.Equal(t, "p99", scores[0].Name)
	require.Equal(t, "avg", scores[1].Name)
}

func TestDetectorAssessErrors(t *testing.T) {
	cases := []struct {
		name    string
		signals []Signal
		want    string
	}{
		{name: "no signals", want: "assess: no signals"},
		{
			name:    "too little history",
			signals: []Signal{{Name: "lat", History: []float64{1, 2, 3}, Current: []float64{1}}},
			want:    `assess: no usable signal: signal "lat": 3 history samples, need 12`,
		},
		{
			name:    "no current sample",
			signals: []Signal{{Name: "lat", History: steady(20, 1, 0.1), Current: []float64{math.NaN()}}},
			want:    `assess: no usable signal: signal "lat": no current sample`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Detector{}.Assess(tc.signals...)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestDetectorSettings(t *testing.T) {
	hist := steady(100, 100, 10)
	cur := []float64{100, 170, 170, 100, 100}
	sig := Signal{Name: "lat", History: hist, Current: cur, Start: epoch(), Step: time.Minute}
	cases := []struct {
		name      string
		d         Detector
		anomalous bool
	}{
		{name: "defaults", d: Detector{}, anomalous: true},
		{name: "higher threshold", d: Detector{Threshold: 20}},
		{name: "longer sustain", d: Detector{Sustain: 3}},
		{name: "more history needed than there is", d: Detector{MinHistory: 1000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _, err := tc.d.Assess(sig)
			if tc.d.MinHistory > len(hist) {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.anomalous, st.Anomalous)
		})
	}
}

func TestRobustScale(t *testing.T) {
	cases := []struct {
		name          string
		xs            []float64
		minRel        float64
		center, scale float64
	}{
		{name: "MAD", xs: []float64{1, 2, 3, 4, 100}, center: 3, scale: 1.4826},
		{name: "MAD zero falls back to mean absolute deviation", xs: []float64{10, 10, 10, 10, 15}, center: 10, scale: 1.2533},
		{name: "relative floor", xs: []float64{100, 101, 99, 100, 100}, minRel: 0.05, center: 100, scale: 5},
		{name: "resolution floor of a constant", xs: []float64{100, 100, 100}, center: 100, scale: 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := robustScale(tc.xs, tc.minRel)
			require.InDelta(t, tc.center, c, 1e-9)
			require.InDelta(t, tc.scale, s, 1e-9)
		})
	}
}
