package slo

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestParseBad(t *testing.T) {
	cases := map[string]string{
		"objective-range.yml":  `slo "checkout-availability": objective 100.5: must be in (0, 100)`,
		"unknown-key.yml":      "slo \"checkout-availability\": yaml: unmarshal errors:\n  line 4: field objectiv not found in type slo.plain",
		"no-window.yml":        `slo "availability": sli.events.error_query: has no {{.window}} placeholder for the range`,
		"bad-promql.yml":       `slo "availability": sli.raw.error_ratio_query: 1:31: parse error: unexpected <op:/>`,
		"never-fires.yml":      `slo "batch-success": objective 90: the page alert over 5m and 1h can never fire: its threshold 14.4 × (1 − 0.9) is not below 1; lower the objective or the factor`,
		"no-service.yml":       `slo "orphan": service or matchers: one of them is required`,
		"both-slis.yml":        `slo "api": sli: events and raw: only one of them may be set`,
		"no-traffic.yml":       `slo "api": no_traffic "zero": must be one of nan, good, absent`,
		"burn-rates.yml":       `slo "api": burn_rates[0]: short window 1h must be shorter than the long window 5m`,
		"short-period.yml":     `slo "api": time_window 1d: shorter than the ticket alert's long window 3d: set burn_rates for this period`,
		"openslo-calendar.yml": `slo "search-availability": spec.timeWindow[0]: calendar windows are not supported: use isRolling: true`,
		"openslo-ref.yml":      `slo "search-availability": spec.indicatorRef "missing-sli": no SLI document of that name in the file`,
		"openslo-gauge.yml":    `slo "search-availability": spec.objectives[0]: indicator: ratioMetric.total.metricSource.spec.query: has no {{.window}} placeholder and is not a counter's series selector (with counter: true)`,
		"unknown-format.yml":   `document 1: line 1: unknown spec format: want Sloth (version: prometheus/v1), OpenSLO (apiVersion: openslo/v1) or a list of augur's short form (slos)`,
		"duplicate.yml":        `slo "availability": defined twice (id "checkout-availability")`,
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "bad", file))
			require.NoError(t, err)
			_, err = Parse(file, data)
			require.EqualError(t, err, file+": "+want)
		})
	}
}

func TestParseExamples(t *testing.T) {
	read := func(name string) []SLO {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "slos", name))
		require.NoError(t, err)
		slos, err := Parse(name, data)
		require.NoError(t, err)
		return slos
	}

	sloth := read("checkout.sloth.yml")
	require.Len(t, sloth, 2)
	require.Equal(t, "checkout-requests-availability", sloth[0].ID())
	require.Equal(t, SpecSloth, sloth[0].Spec)
	require.Equal(t, map[string]string{"owner": "payments-team", "tier": "1"}, sloth[0].Labels)
	require.Equal(t, 30*24*time.Hour, sloth[0].Period())
	require.Equal(t, "0.999", sloth[0].ObjectiveRatioText())
	require.Equal(t, NoTrafficNaN, sloth[0].NoTraffic)
	require.NotNil(t, sloth[1].SLI.Raw)
	require.True(t, sloth[1].Alerting.TicketAlert.Disable)

	openslo := read("search.openslo.yml")
	require.Len(t, openslo, 2)
	require.Equal(t, "search-availability", openslo[0].Name)
	require.Equal(t, 99.5, openslo[0].Objective)
	require.Equal(t, 28*24*time.Hour, openslo[0].Period())
	require.Equal(t, map[string]string{"team": "discovery"}, openslo[0].Labels)
	require.Equal(t, EventsSLI{
		ErrorQuery: `(sum(rate(http_requests_total{service="search"}[{{.window}}]))) - (sum(rate(http_requests_total{code!~"5..",service="search"}[{{.window}}])))`,
		TotalQuery: `sum(rate(http_requests_total{service="search"}[{{.window}}]))`,
	}, *openslo[0].SLI.Events)
	require.Equal(t, 99.0, openslo[1].Objective)
	require.Equal(t, EventsSLI{
		ErrorQuery: `(sum(rate(http_request_duration_seconds_count{service="search"}[{{.window}}]))) - (sum(rate(http_request_duration_seconds_bucket{le="0.3",service="search"}[{{.window}}])))`,
		TotalQuery: `sum(rate(http_request_duration_seconds_count{service="search"}[{{.window}}]))`,
	}, *openslo[1].SLI.Events)

	short := read("inventory.augur.yml")
	require.Len(t, short, 1)
	s := short[0]
	require.Equal(t, SpecAugur, s.Spec)
	require.Equal(t, NoTrafficGood, s.NoTraffic)
	require.Equal(t, []string{`env="prod"`}, s.Matchers)
	require.True(t, s.Alerting.AbsentAlert.Enable)
	require.Equal(t, model.Duration(2*time.Minute), s.Alerting.PageAlert.For)
	ms, err := s.AlertMatchers("service")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, `service="inventory"`, ms[0].String())
	require.Equal(t, `env="prod"`, ms[1].String())
}

func TestWindows(t *testing.T) {
	day := 24 * time.Hour
	require.Equal(t, []AlertWindow{
		{SeverityPage, 5 * time.Minute, time.Hour, 14.4},
		{SeverityPage, 30 * time.Minute, 6 * time.Hour, 6},
		{SeverityTicket, 2 * time.Hour, day, 3},
		{SeverityTicket, 6 * time.Hour, 3 * day, 1},
	}, Windows(30*day))
	// Sloth's factors for 28 days: the same windows, the same budget shares.
	w28 := Windows(28 * day)
	require.Equal(t, []string{"13.44", "5.6", "2.8", "0.9333333333333333"},
		[]string{FormatFloat(w28[0].Factor), FormatFloat(w28[1].Factor), FormatFloat(w28[2].Factor), FormatFloat(w28[3].Factor)})
	require.Equal(t, []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, day, 3 * day, 28 * day},
		SLIWindows(28*day))
}

func TestObjectiveText(t *testing.T) {
	for percent, ratio := range map[string]string{
		"99.9": "0.999", "99.95": "0.9995", "99": "0.99", "50": "0.5", "5": "0.05", "0.1": "0.001", "99.999": "0.99999",
	} {
		require.Equal(t, ratio, percentToRatio(percent), percent)
		require.Equal(t, percent, ratioToPercent(ratio), ratio)
	}
}

func TestQueriesForTheEnricher(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "slos", "checkout.sloth.yml"))
	require.NoError(t, err)
	slos, err := Parse("checkout.sloth.yml", data)
	require.NoError(t, err)
	s := slos[0]

	q, err := s.RecordedErrorRatioQuery(NamingSloth, time.Hour)
	require.NoError(t, err)
	require.Equal(t, `slo:sli_error:ratio_rate1h{sloth_id="checkout-requests-availability", sloth_service="checkout", sloth_slo="requests-availability"}`, q)
	q, err = s.RecordedErrorRatioQuery(NamingAugur, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, `augur_slo:sli_error:ratio_rate30d{augur_slo_id="checkout-requests-availability", augur_service="checkout", augur_slo="requests-availability"}`, q)
	_, err = s.RecordedErrorRatioQuery(NamingSloth, 15*time.Minute)
	require.EqualError(t, err, `slo "requests-availability": no recording rule over 15m`)

	raw, err := s.ErrorRatioQuery(6 * time.Hour)
	require.NoError(t, err)
	require.Equal(t, "(sum(rate(http_requests_total{service=\"checkout\",code=~\"5..\"}[6h])))\n/\n(sum(rate(http_requests_total{service=\"checkout\"}[6h])))", raw)
	raw, err = slos[1].ErrorRatioQuery(time.Hour)
	require.NoError(t, err)
	require.Contains(t, raw, `outcome="error"}[1h]`)
}

func TestUnmarshalShortForm(t *testing.T) {
	var s SLO
	err := yaml.Unmarshal([]byte(`
name: api
service: api
objective: 99.5
sli:
  raw:
    error_ratio_query: sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))
`), &s)
	require.NoError(t, err)
	require.Equal(t, model.Duration(DefaultTimeWindow), s.TimeWindow)
	require.Equal(t, DefaultAlertName, s.Alerting.Name)
	require.Equal(t, NoTrafficNaN, s.NoTraffic)
	require.Equal(t, SpecAugur, s.Spec)
}

// FuzzParse checks that Parse never panics and that what it accepts is valid.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{filepath.Join("..", "..", "examples", "slos"), filepath.Join("testdata", "bad")} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
		require.NoError(f, err)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		for i := range slos {
			require.NoError(t, slos[i].Validate())
		}
	})
}

func TestBurnRatesRoundTrip(t *testing.T) {
	in := []AlertWindow{{SeverityPage, 10 * time.Minute, 2 * time.Hour, 10}}
	data, err := yaml.Marshal(in)
	require.NoError(t, err)
	require.Equal(t, "- severity: page\n  short: 10m\n  long: 2h\n  factor: 10\n", string(data))
	var out []AlertWindow
	require.NoError(t, yaml.Unmarshal(data, &out))
	require.Equal(t, in, out)
}
