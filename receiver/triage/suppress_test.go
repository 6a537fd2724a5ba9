package triage

import (
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
