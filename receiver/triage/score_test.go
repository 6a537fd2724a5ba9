package triage

import (
	"math"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestScoreAlert(t *testing.T) {
	policy := ScorePolicy{
		SeverityScores:  map[string]float64{"critical": 1, "warning": 0.5, "info": 0.2},
		UnknownSeverity: 0.4,
	}
	for _, tc := range []struct {
		name     string
		severity model.LabelValue
		agreeing int
		flapRate float64
		score    float64
		priority string
	}{
		{name: "critical alone", severity: "critical", score: 0.75, priority: "P1"},
		{name: "critical, case-insensitive", severity: "CRITICAL", score: 0.75, priority: "P1"},
		{name: "critical, fully agreed", severity: "critical", agreeing: 3, score: 1, priority: "P1"},
		{name: "agreement caps at three", severity: "critical", agreeing: 10, score: 1, priority: "P1"},
		{name: "warning alone", severity: "warning", score: 0.375, priority: "P3"},
		{name: "warning with two agreeing", severity: "warning", agreeing: 2, score: 0.375 + 0.25*2.0/3, priority: "P2"},
		{name: "info alone", severity: "info", score: 0.15, priority: "P4"},
		{name: "unknown severity", severity: "sev7", score: 0.3, priority: "P3"},
		{name: "no severity", severity: "", score: 0.3, priority: "P3"},
		// Flapping at 0.4 scales by 0.8: a lone critical alert drops to P2.
		{name: "critical, flapping", severity: "critical", flapRate: 0.4, score: 0.6, priority: "P2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := model.Alert{Labels: model.LabelSet{"alertname": "X"}}
			if tc.severity != "" {
				a.Labels["severity"] = tc.severity
			}
			got := ScoreAlert(policy, a, Evidence{Agreeing: tc.agreeing, FlapRate: tc.flapRate})
			require.InDelta(t, tc.score, got.Value, 1e-9)
			require.Equal(t, tc.priority, got.Priority)
			explained := (0.75*got.Parts["severity"] + 0.25*got.Parts["agreement"]) * (1 - got.Parts["flapping"]/2)
			require.InDelta(t, got.Value, explained, 1e-9, "the parts explain the score")
		})
	}
}

func TestExceedance(t *testing.T) {
	for _, tc := range []struct {
		cmp              string
		value, threshold float64
		want             float64
	}{
		{">", 0.06, 0.05, 0.2},
		{">", 0.04, 0.05, 0},
		{">", 0.2, 0.05, 1},
		{">=", 0.05, 0.05, 0},
		{"<", 5, 10, 0.5},
		{"<", 15, 10, 0},
		{">", 1, 0, 1},
		{"<", -1, -2, 0},
		{"<", -3, -2, 0.5},
	} {
		require.InDelta(t, tc.want, Exceedance(tc.cmp, tc.value, tc.threshold), 1e-9, "%v %s %v", tc.value, tc.cmp, tc.threshold)
	}
	policy := ScorePolicy{SeverityScores: map[string]float64{"warning": 0.5}}
	x := 1.0
	s := ScoreAlert(policy, model.Alert{Labels: model.LabelSet{"severity": "warning"}}, Evidence{Exceedance: &x})
	require.InDelta(t, 0.6*0.5+0.2, s.Value, 1e-9, "a warning far past its threshold")
	require.Equal(t, "P2", s.Priority)
	require.Equal(t, 1.0, s.Parts["exceedance"])

	u := Unusual(3)
	s = ScoreAlert(policy, model.Alert{Labels: model.LabelSet{"severity": "warning"}}, Evidence{Exceedance: &x, Unusual: &u})
	require.InDelta(t, (3*0.5+1+0.5)/6, s.Value, 1e-9, "and at the edge of its usual range")
	require.Equal(t, 0.5, s.Parts["unusual"])
}

func TestUnusual(t *testing.T) {
	for _, tc := range []struct {
		deviation, want float64
	}{
		{0, 0}, {3, 0.5}, {-3, 0.5}, {6, 1}, {-40, 1}, {math.NaN(), 0},
	} {
		require.Equal(t, tc.want, Unusual(tc.deviation), "deviation %v", tc.deviation)
	}
}

func TestSLOImpact(t *testing.T) {
	for sev, want := range map[string]float64{"critical": 1, "high": 0.75, "medium": 0.5, "low": 0, "": 0} {
		require.Equal(t, want, SLOImpact(sev), sev)
	}
	policy := ScorePolicy{SeverityScores: map[string]float64{"warning": 0.5}}
	i := SLOImpact("critical")
	s := ScoreAlert(policy, model.Alert{Labels: model.LabelSet{"severity": "warning"}}, Evidence{SLOImpact: &i})
	require.InDelta(t, (3*0.5+2*1)/6.0, s.Value, 1e-9, "a warning while the error budget burns at the page rate")
	require.Equal(t, "P2", s.Priority)
	require.Equal(t, 1.0, s.Parts["slo"])
}
