package templates

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func data(t *testing.T, annotations ...model.LabelSet) (*template.Template, any) {
	t.Helper()
	tmpl, err := Load(nil)
	require.NoError(t, err)
	tmpl.ExternalURL, err = url.Parse("http://alertmanager:9093")
	require.NoError(t, err)
	var alerts []*alert.Alert
	for i, a := range annotations {
		alerts = append(alerts, alert.New(model.Alert{
			Labels:      model.LabelSet{"alertname": "HighErrorRate", "instance": model.LabelValue(rune('a' + i))},
			Annotations: a,
			StartsAt:    time.Date(2026, 11, 28, 14, 2, 0, 0, time.UTC),
		}, time.Now(), false))
	}
	return tmpl, tmpl.Data("team", model.LabelSet{"alertname": "HighErrorRate"}, nil, "first notification", alerts...)
}

func TestSlackText(t *testing.T) {
	tmpl, d := data(t,
		model.LabelSet{
			"summary":            "error rate high",
			"augur_summary":      "checkout error rate 7.9%",
			"augur_forecast":     "rising 0.4%/min",
			"augur_incident":     "inc-2026-11-28-0042",
			"augur_incident_url": "https://augur/api/v1/incidents/inc-2026-11-28-0042",
			"augur_enrichment":   `{"version":1}`,
		},
		model.LabelSet{"augur_incident": "inc-2026-11-28-0042"},
	)
	got, err := tmpl.ExecuteTextString(`{{ template "slack.default.text" . }}`, d)
	require.NoError(t, err)
	require.Equal(t, "*checkout error rate 7.9%*\n"+
		":chart_with_upwards_trend: rising 0.4%/min\n"+
		":link: <https://augur/api/v1/incidents/inc-2026-11-28-0042|inc-2026-11-28-0042>\n"+
		":link: inc-2026-11-28-0042\n", got)
}

func TestTextAlertList(t *testing.T) {
	tmpl, d := data(t, model.LabelSet{"summary": "error rate high", "augur_root_cause": "deployment_regression 0.86", "augur_enrichment": `{"version":1}`})
	got, err := tmpl.ExecuteTextString(`{{ template "augur.text.alert_list" .Alerts.Firing }}`, d)
	require.NoError(t, err)
	require.Equal(t, "Labels:\n - alertname = HighErrorRate\n - instance = a\n"+
		"Annotations:\n - summary = error rate high\n"+
		"Root cause: deployment_regression 0.86\n"+
		"Source: \n", got)
}

func TestPagerDutyDetailsIsJSON(t *testing.T) {
	tmpl, d := data(t,
		model.LabelSet{"augur_incident": "inc-1", "augur_summary": `quote " backslash \ newline` + "\n", "augur_enrichment": `{"version":1,"incident_id":"inc-1"}`},
		model.LabelSet{"augur_incident": "inc-1"},
	)
	got, err := tmpl.ExecuteTextString(`{{ template "augur.pagerduty.details" . }}`, d)
	require.NoError(t, err)
	var details []map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &details), got)
	require.Equal(t, []map[string]any{
		{"alertname": "HighErrorRate", "incident": "inc-1", "summary": `quote " backslash \ newline` + "\n",
			"enrichment": map[string]any{"version": 1.0, "incident_id": "inc-1"}},
		{"alertname": "HighErrorRate", "incident": "inc-1"},
	}, details)
}

func TestUserTemplatesOverrideAugurs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mine.tmpl")
	require.NoError(t, os.WriteFile(p, []byte(`{{ define "augur.slack.alert" }}mine{{ end }}`), 0o600))
	tmpl, err := Load([]string{filepath.Join(dir, "*.tmpl")})
	require.NoError(t, err)
	got, err := tmpl.ExecuteTextString(`{{ template "augur.slack.alert" . }}`, nil)
	require.NoError(t, err)
	require.Equal(t, "mine", got)

	_, err = Load([]string{filepath.Join(dir, "[")})
	require.ErrorContains(t, err, "templates:")
}

// The example team templates render for firing and for resolved-only
// notifications.
func TestExampleTeamTemplates(t *testing.T) {
	tmpl, err := Load([]string{filepath.Join("..", "..", "examples", "templates", "*.tmpl")})
	require.NoError(t, err)
	tmpl.ExternalURL, err = url.Parse("http://alertmanager:9093")
	require.NoError(t, err)
	firing := alert.New(model.Alert{
		Labels:       model.LabelSet{"alertname": "HighErrorRate", "service": "checkout", "severity": "page"},
		Annotations:  model.LabelSet{"summary": "error rate high", "augur_summary": "checkout error rate 7.9%", "augur_incident": "inc-1"},
		StartsAt:     time.Date(2026, 11, 28, 14, 2, 0, 0, time.UTC),
		GeneratorURL: "http://prometheus:9090/graph",
	}, time.Now(), false)
	resolved := alert.New(model.Alert{
		Labels:   model.LabelSet{"alertname": "DiskFull", "service": "db"},
		StartsAt: time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC),
		EndsAt:   time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC),
	}, time.Now(), false)

	d := tmpl.Data("team", model.LabelSet{}, nil, "first notification", firing, resolved)
	got, err := tmpl.ExecuteTextString(`{{ template "team.slack.text" . }}`, d)
	require.NoError(t, err)
	require.Equal(t, "*HighErrorRate* · checkout · page\nerror rate high\n*checkout error rate 7.9%*\n:link: inc-1\n<http://prometheus:9090/graph|source>\n\n:white_check_mark: resolved: DiskFull (db)", got)
	got, err = tmpl.ExecuteTextString(`{{ template "team.pagerduty.description" . }}`, d)
	require.NoError(t, err)
	require.Equal(t, "checkout error rate 7.9%", got)

	d = tmpl.Data("team", model.LabelSet{"alertname": "DiskFull"}, nil, "all alerts resolved", resolved)
	got, err = tmpl.ExecuteTextString(`{{ template "team.pagerduty.description" . }}`, d)
	require.NoError(t, err)
	require.Equal(t, "[RESOLVED] DiskFull (db)", got, "Alertmanager's default without an augur summary")
}
