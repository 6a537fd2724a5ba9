package triage

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"
)

func matchers(t *testing.T, ms ...string) labels.Matchers {
	t.Helper()
	var out labels.Matchers
	for _, s := range ms {
		m, err := labels.ParseMatcher(s)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

func TestSuppressor(t *testing.T) {
	var weekendNights []timeinterval.TimeInterval
	require.NoError(t, yaml.Unmarshal([]byte(`
- weekdays: [saturday, sunday]
  times: [{start_time: "02:00", end_time: "04:00"}]
`), &weekendNights))
	s := NewSuppressor([]Suppression{
		{Name: "staging", Matchers: matchers(t, `env="staging"`)},
		{Name: "db-maintenance", Matchers: matchers(t, `service="db"`, `severity=~"warning|info"`), TimeIntervals: []string{"weekend-nights"}},
		{Name: "until-noon", Matchers: matchers(t, `team="web"`), ExpiresAt: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)},
	}, map[string][]timeinterval.TimeInterval{"weekend-nights": weekendNights})

	saturday3am := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC) // a Saturday
	saturday5am := saturday3am.Add(2 * time.Hour)
	monday3am := saturday3am.Add(48 * time.Hour)
	for _, tc := range []struct {
		name   string
		labels model.LabelSet
		at     time.Time
		want   string
	}{
		{name: "matches", labels: model.LabelSet{"env": "staging", "alertname": "X"}, at: monday3am, want: "staging"},
		{name: "does not match", labels: model.LabelSet{"env": "prod"}, at: monday3am, want: ""},
		{name: "all matchers must match", labels: model.LabelSet{"service": "db", "severity": "critical"}, at: saturday3am, want: ""},
		{name: "inside its time interval", labels: model.LabelSet{"service": "db", "severity": "warning"}, at: saturday3am, want: "db-maintenance"},
		{name: "outside its time interval", labels: model.LabelSet{"service": "db", "severity": "warning"}, at: saturday5am, want: ""},
		{name: "not yet expired", labels: model.LabelSet{"team": "web"}, at: saturday3am, want: "until-noon"},
		{name: "expired", labels: model.LabelSet{"team": "web"}, at: saturday3am.Add(9 * time.Hour), want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, s.Suppressed(tc.labels, tc.at))
		})
	}
}

// BenchmarkTriage100 is the pure part of triage for a notification of 100
// alerts: signature, dedup decision, 10 suppression rules, the flap history
// and the score of each alert.
func BenchmarkTriage100(b *testing.B) {
	var alerts []model.Alert
	for i := range 100 {
		alerts = append(alerts, model.Alert{
			Labels:   model.LabelSet{"alertname": "HighErrorRate", "instance": model.LabelValue(fmt.Sprintf("10.0.0.%d:9100", i)), "service": model.LabelValue(fmt.Sprintf("svc-%d", i%20))},
			StartsAt: t0,
		})
	}
	var sups []Suppression
	for i := range 10 {
		m, err := labels.ParseMatchers(fmt.Sprintf(`{service="other-%d", severity=~"info|debug"}`, i))
		require.NoError(b, err)
		sups = append(sups, Suppression{Name: fmt.Sprint(i), Matchers: m})
	}
	s := NewSuppressor(sups, nil)
	policy := DedupPolicy{Window: 5 * time.Minute}
	prev := &Previous{Signature: 1, ReceivedAt: t0}
	flap := FlapPolicy{Window: time.Hour, Buckets: 20, High: 0.3, Low: 0.15}
	history := FlapHistory{Status: model.AlertResolved, StartsAt: t0.Add(-time.Hour),
		Changes: []time.Time{t0.Add(-50 * time.Minute), t0.Add(-40 * time.Minute), t0.Add(-30 * time.Minute)}}
	score := ScorePolicy{SeverityScores: map[string]float64{"critical": 1, "warning": 0.5}, UnknownSeverity: 0.5}
	b.ReportAllocs()
	for b.Loop() {
		sig := SignatureOf("team", "g", alerts)
		if Dedup(policy, prev, sig, t0) != Forward {
			b.Fatal("not forwarded")
		}
		for _, a := range alerts {
			if s.Suppressed(a.Labels, t0) != "" {
				b.Fatal("suppressed")
			}
			h := history.Observe(a, t0, flap)
			rate, _ := h.Evaluate(t0, flap)
			ScoreAlert(score, a, Evidence{Agreeing: 2, FlapRate: rate})
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}
