package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"
)

func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.good.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			_, err := LoadFile(f)
			require.NoError(t, err)
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "empty.good.yml"))
	require.NoError(t, err)
	require.Equal(t, DefaultPrometheusConfig.URL.String(), cfg.Prometheus.URL.String())
	require.Equal(t, DefaultPrometheusConfig.Timeout, cfg.Prometheus.Timeout)
	require.Equal(t, DefaultIntakeConfig, cfg.Intake)
	require.Equal(t, DefaultForwardConfig, cfg.Forward)
	require.Equal(t, DefaultEnrichConfig, cfg.Enrich)
	require.Equal(t, DefaultStorageConfig, cfg.Storage)
	require.Empty(t, cfg.Receivers)
	require.NotNil(t, cfg.Global, "Alertmanager's global defaults")
	require.Equal(t, model.Duration(5*time.Minute), cfg.Global.ResolveTimeout)

	// A section that is present without a value gets its defaults.
	cfg, err = LoadFile(filepath.Join("testdata", "empty-sections.good.yml"))
	require.NoError(t, err)
	require.Equal(t, DefaultForwardConfig, cfg.Forward)
	require.Equal(t, DefaultEnrichConfig, cfg.Enrich)
	require.Equal(t, DefaultStorageConfig, cfg.Storage)
	require.Equal(t, DefaultIntakeConfig, cfg.Intake)
	require.Equal(t, DefaultPrometheusConfig.Timeout, cfg.Prometheus.Timeout)
	require.Equal(t, DefaultTriageConfig.Flapping, cfg.Triage.Flapping)
	require.Equal(t, DefaultTriageConfig.Aggregation, cfg.Triage.Aggregation)

	// A section that is present but sparse gets the defaults for the rest.
	cfg, err = Load([]byte("forward:\n  concurrency: 3\n"), t.TempDir())
	require.NoError(t, err)
	want := DefaultForwardConfig
	want.Concurrency = 3
	require.Equal(t, want, cfg.Forward)
}

func TestFullConfig(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "full.good.yml"))
	require.NoError(t, err)
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)
	require.Equal(t, "https://prometheus.example.org:9090", cfg.Prometheus.URL.String())
	require.Equal(t, model.Duration(30*time.Second), cfg.Prometheus.Timeout)
	require.Equal(t, "augur", cfg.Prometheus.HTTPConfig.BasicAuth.Username)
	require.Equal(t, filepath.Join(dir, "secrets", "prom-pass"), cfg.Prometheus.HTTPConfig.BasicAuth.PasswordFile,
		"resolved against the config file's directory")

	require.Equal(t, "intake-s3cret", string(cfg.Intake.BearerToken), "read from bearer_token_file, trimmed")
	require.Equal(t, int64(1<<20), cfg.Intake.MaxBodyBytes)
	require.Equal(t, "quiet", cfg.Intake.DefaultReceiver)
	require.Equal(t, ForwardConfig{
		Timeout:        model.Duration(5 * time.Second),
		InitialBackoff: model.Duration(500 * time.Millisecond),
		MaxBackoff:     model.Duration(2 * time.Minute),
		Concurrency:    4,
	}, cfg.Forward)
	require.Equal(t, model.Duration(1500*time.Millisecond), cfg.Enrich.Deadline)
	require.Equal(t, ForecastConfig{Enabled: true, Horizon: model.Duration(time.Hour), Lookback: model.Duration(49 * time.Hour),
		Step: model.Duration(5 * time.Minute), Season: model.Duration(24 * time.Hour)}, cfg.Enrich.Forecast)
	require.Equal(t, model.Duration(2*time.Hour), cfg.Enrich.RootCause.Lookback)
	require.Equal(t, model.Duration(30*time.Second), cfg.Enrich.RootCause.Step, "the keys not given keep their defaults")
	require.Equal(t, 0.6, cfg.Enrich.RootCause.MinConfidence)
	causes, err := cfg.Enrich.RootCause.CauseSignatures()
	require.NoError(t, err)
	require.Len(t, causes, 7, "the six defaults and cache_stampede")
	require.Equal(t, "cache_stampede", causes[6].Name)
	require.Equal(t, model.Duration(2*time.Minute), causes[6].Order[0].Tolerance, "defaults filled in")
	require.Equal(t, []string{"cache_hit_ratio", "cpu", "dependency_latency", "error_rate", "latency", "memory", "request_rate"}, cfg.Signals.Names(),
		"defaults with cache_hit_ratio added and database_latency removed")
	q, err := cfg.Signals.Render("error_rate", map[string]string{"service": "checkout"})
	require.NoError(t, err)
	require.Equal(t, `sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m]))`, q)
	require.Equal(t, map[string][]string{"checkout": {"payment", "inventory"}, "payment": {"postgres"}}, cfg.Topology.Static)
	require.Equal(t, &FromMetricsConfig{Query: "sum by (client, server) (rate(traces_service_graph_request_total[10m]))", ClientLabel: "client", ServerLabel: "server"},
		cfg.Topology.FromMetrics)
	require.Equal(t, model.Duration(5*time.Minute), cfg.Topology.Refresh)
	require.Equal(t, []ChangeSource{
		{Name: "deployments", Query: "changes(kube_deployment_status_observed_generation[5m]) > 0", Type: "deployment", ServiceLabel: "deployment"},
		{Name: "flags", Query: "changes(feature_flag_state[5m]) > 0", Type: "feature_flag"},
	}, cfg.Changes.Prometheus)
	require.Equal(t, model.Duration(2*time.Minute), cfg.Triage.DedupWindow)
	require.Equal(t, model.Duration(6*time.Hour), cfg.Triage.RepeatInterval)
	require.Len(t, cfg.Triage.TimeIntervals, 1)
	require.Equal(t, "weekend-nights", cfg.Triage.TimeIntervals[0].Name)
	require.Len(t, cfg.Triage.Suppress, 2)
	require.Equal(t, "db-maintenance", cfg.Triage.Suppress[1].Name)
	require.Equal(t, `severity=~"warning|info"`, cfg.Triage.Suppress[1].Matchers[1].String())
	require.Equal(t, []string{"weekend-nights"}, cfg.Triage.Suppress[1].TimeIntervals)
	require.Equal(t, FlappingConfig{Enabled: true, Window: model.Duration(2 * time.Hour), Buckets: 20, HighThreshold: 0.5, LowThreshold: 0.15},
		cfg.Triage.Flapping, "the keys not given keep their defaults")
	require.Equal(t, AggregationConfig{Window: model.Duration(30 * time.Minute), By: []string{"cluster", "team"}, GracePeriod: model.Duration(10 * time.Minute)},
		cfg.Triage.Aggregation)
	require.Equal(t, StorageConfig{Path: "/var/lib/augur", Retention: model.Duration(720 * time.Hour)}, cfg.Storage)

	require.Equal(t, []string{filepath.Join(dir, "templates", "*.tmpl")}, cfg.Templates)
	require.Equal(t, model.Duration(10*time.Minute), cfg.Global.ResolveTimeout)

	require.Len(t, cfg.Receivers, 2)
	team, ok := cfg.Receiver("team")
	require.True(t, ok)
	_, ok = cfg.Receiver("nobody")
	require.False(t, ok)
	require.Len(t, team.WebhookConfigs, 1)
	require.Equal(t, uint64(10), team.WebhookConfigs[0].MaxAlerts)
	require.NotNil(t, team.WebhookConfigs[0].HTTPConfig, "global http_config copied in, as Alertmanager does")
	require.Len(t, team.SlackConfigs, 2)
	require.Equal(t, "https://hooks.slack.com/services/GLOBAL/GLOBAL/GLOBAL", team.SlackConfigs[0].APIURL.String(),
		"global slack_api_url copied into the receiver that sets none")
	require.Equal(t, filepath.Join(dir, "secrets", "slack-url"), team.SlackConfigs[1].APIURLFile,
		"receiver *_file paths are made absolute against the config file's directory")
	require.Len(t, team.PagerdutyConfigs, 1)
	require.Equal(t, "0123456789abcdef0123456789abcdef", string(team.PagerdutyConfigs[0].RoutingKey))
}

func TestBadConfigs(t *testing.T) {
	cases := map[string][]string{
		"unknown-top-level":           {"line 2: triage_rules: unknown field"},
		"unknown-augur-key":           {"line 2: forward.timout: unknown field"},
		"unknown-receiver-key":        {"receivers[0].webhook_configs[0].urll: unknown field"},
		"bad-webhook-url":             {`receivers[0]: invalid URL: parse "::not a url"`},
		"bad-prometheus-url":          {`prometheus: invalid URL "ftp://prometheus.example.org": scheme must be http or https`},
		"receiver-without-name":       {"receivers[0]: missing name in receiver"},
		"duplicate-receivers":         {`receivers: notification config name "team" is not unique`},
		"unknown-default-receiver":    {`intake.default_receiver: receiver "nobody" does not exist in receivers`},
		"missing-secret-file":         {"receivers[0].slack_configs[0].api_url_file: open /", "/config/testdata/secrets/does-not-exist: no such file or directory"},
		"missing-intake-token":        {"intake.bearer_token_file: open /", "/config/testdata/secrets/nope: no such file or directory"},
		"zero-timeout":                {"forward.timeout: must be positive"},
		"backoff-order":               {"forward.max_backoff: must not be shorter than initial_backoff"},
		"bearer-and-basic":            {"intake: bearer_token and basic_auth are mutually exclusive"},
		"basic-without-password":      {"intake.basic_auth: one of password and password_file must be set"},
		"bad-duration":                {`enrich: not a valid duration string: "soon"`},
		"slack-without-url":           {"receivers[0]: no Slack API URL nor App token set"},
		"suppress-unknown-interval":   {`triage.suppress[0] (maint).time_intervals: "weekends" is not defined in triage.time_intervals`},
		"suppress-no-matchers":        {"triage.suppress[0] (all).matchers: at least one matcher is required"},
		"suppress-bad-matcher":        {`triage.suppress (broken).matchers: "service=~\"(\"": error parsing regexp`},
		"null-receiver":               {"receivers[1]: must be a receiver (a mapping with a name), not <nil>"},
		"flow-style-unknown":          {"line 1: forward.timout: unknown field"},
		"key-set-twice":               {"line 3: forward.timeout: key set twice"},
		"ambiguous-unknown-field":     {"receivers[0].webhook_configs[0].channel: unknown field"},
		"flapping-thresholds":         {"triage.flapping.low_threshold: 0.6 must be at least 0 and below high_threshold 0.3"},
		"flapping-buckets":            {"triage.flapping.buckets: 1 is not within [2, 1000]"},
		"forecast-lookback":           {"enrich.forecast.lookback: 10m is shorter than the horizon 30m"},
		"baseline-lookback":           {"enrich.baseline.lookback: 2d must be at least 3d"},
		"baseline-points":             {"enrich.baseline.step: 1m gives 40320 points over 4w, more than the 11000 Prometheus returns"},
		"watcher-step":                {"watcher.step: 1h leaves fewer than 10 samples in the lookback 6h"},
		"aggregation-bad-label":       {`triage.aggregation.by[1]: "" is not a valid label name`},
		"signal-not-promql":           {"signals.error_rate: not PromQL once filled in"},
		"signal-bad-template":         {"signals.saturation: template: saturation:1: unexpected"},
		"topology-bad-query":          {"topology.from_metrics.query: 1:"},
		"change-source-unnamed":       {"changes.prometheus[0]: missing name"},
		"rootcause-bad-cause":         {`enrich.rootcause.causes: cause "cache_stampede": expect[0] (database_latency): unknown pattern "avalanche"`},
		"rootcause-step":              {"enrich.rootcause.step: 1m leaves fewer than 20 samples in the lookback 10m"},
		"history-threshold":           {"enrich.history: threshold: 1.5 is not within (0.308, 1]"},
		"history-time-zone":           {"enrich.history.time_zone: unknown time zone Mars/Olympus_Mons"},
		"runbook-post":                {`runbooks.by_alertname.HighErrorRate[0].http_check.method: "POST" is not allowed: only GET and HEAD`},
		"slo-objective":               {`slo "checkout-availability": objective 100.5: must be in (0, 100)`},
		"slo-twice":                   {`slos: "checkout-requests-availability" is defined twice`},
		"slo-files-none":              {`slo_files[0]: "slos/*.yml" matches no file`},
		"missing-prometheus-password": {"prometheus.http_config.basic_auth.password_file: open /", "/config/testdata/secrets/nope: no such file or directory"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file+".bad.yml")
			_, err := LoadFile(path)
			require.Error(t, err)
			require.Equal(t, path+": ", err.Error()[:len(path)+2], "the error names the file")
			for _, w := range want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yml"))
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every bad fixture has a case above")
}

// Loading must never change the defaults that the next load starts from.
func TestDefaultsAreNotShared(t *testing.T) {
	cfg, err := Load([]byte("prometheus:\n  url: http://other.example.org:9090\n"), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, "http://other.example.org:9090", cfg.Prometheus.URL.String())
	cfg, err = Load([]byte("prometheus:\n  timeout: 5s\n"), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, "http://localhost:9090", cfg.Prometheus.URL.String())
	require.Equal(t, "http://localhost:9090", DefaultPrometheusConfig.URL.String())
}

func TestTriageZeroValuesKept(t *testing.T) {
	cfg, err := Load([]byte("triage:\n  dedup_window: 0s\n"), t.TempDir())
	require.NoError(t, err)
	require.Zero(t, cfg.Triage.DedupWindow, "0s is kept, not taken as an absent value")
	require.Equal(t, DefaultTriageConfig.SeverityScores, cfg.Triage.SeverityScores)

	cfg, err = Load([]byte("triage:\n  severity_scores: {warning: 0.6, sev1: 1}\n  min_score: 0.3\n"), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, 0.6, cfg.Triage.SeverityScores["warning"], "overridden")
	require.Equal(t, 1.0, cfg.Triage.SeverityScores["sev1"], "added")
	require.Equal(t, 1.0, cfg.Triage.SeverityScores["critical"], "the other defaults kept")
	require.Equal(t, 0.5, DefaultTriageConfig.SeverityScores["warning"], "the defaults themselves untouched")
	require.Equal(t, 0.3, cfg.Triage.MinScore)
	_, err = Load([]byte("triage:\n  severity_scores: {warning: 2}\n"), t.TempDir())
	require.ErrorContains(t, err, "triage.severity_scores.warning: 2 is not within [0, 1]")
	_, err = Load([]byte("triage:\n  min_score: -0.1\n"), t.TempDir())
	require.ErrorContains(t, err, "triage.min_score: -0.1 is not within [0, 1]")
	cfg, err = Load([]byte("triage:\n"), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, DefaultTriageConfig, cfg.Triage)
	_, err = Load([]byte("triage:\n  dedup_window: 10m\n  repeat_interval: 5m\n"), t.TempDir())
	require.ErrorContains(t, err, "triage.repeat_interval: must not be shorter than triage.dedup_window")
}

func TestServiceLabel(t *testing.T) {
	cfg, err := Load([]byte("service_label: app\n"), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, "app", cfg.ServiceLabel)
	cfg, err = Load([]byte("{}"), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, DefaultServiceLabel, cfg.ServiceLabel)
}

func TestMissingFile(t *testing.T) {
	_, err := LoadFile(filepath.Join("testdata", "nope.yml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "read config: open testdata/nope.yml")
}

func TestSecretsDoNotLeak(t *testing.T) {
	cfg, err := Load([]byte(`
receivers:
  - name: team
    slack_configs:
      - api_url: https://hooks.slack.com/services/T0/B0/TOPSECRET
intake:
  basic_auth:
    username: am
    password: TOPSECRET
`), t.TempDir())
	require.NoError(t, err)
	for _, v := range []any{cfg.Intake, cfg.Receivers, cfg.Prometheus} {
		out, err := yaml.Marshal(v)
		require.NoError(t, err)
		require.NotContains(t, string(out), "TOPSECRET")
	}
	out, err := yaml.Marshal(cfg.Intake)
	require.NoError(t, err)
	require.Contains(t, string(out), "password: <secret>")

	cfg, err = Load([]byte("prometheus:\n  url: http://augur:TOPSECRET@prometheus.example.org:9090\n"), t.TempDir())
	require.NoError(t, err)
	out, err = yaml.Marshal(cfg.Prometheus)
	require.NoError(t, err)
	require.NotContains(t, string(out), "TOPSECRET")
	require.Contains(t, string(out), "http://augur:xxxxx@prometheus.example.org:9090")
}

func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	dir, err := filepath.Abs("testdata")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, content []byte) {
		cfg, err := Load(content, dir)
		if err != nil {
			require.Nil(t, cfg)
			return
		}
		// What loads is usable as it is.
		require.NotNil(t, cfg.Prometheus.URL)
		require.Positive(t, cfg.Prometheus.Timeout)
		require.Positive(t, cfg.Intake.MaxBodyBytes)
		require.Positive(t, cfg.Forward.Timeout)
		require.GreaterOrEqual(t, cfg.Forward.MaxBackoff, cfg.Forward.InitialBackoff)
		require.Positive(t, cfg.Enrich.Deadline)
		require.Positive(t, cfg.Storage.Retention)
		seen := map[string]bool{}
		for _, r := range cfg.Receivers {
			require.NotEmpty(t, r.Name)
			require.False(t, seen[r.Name], "duplicate receiver %q", r.Name)
			seen[r.Name] = true
		}
		if r := cfg.Intake.DefaultReceiver; r != "" {
			require.True(t, seen[r])
		}
	})
}

func TestSLOFiles(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "slo-files.good.yml"))
	require.NoError(t, err)
	var names []string
	for _, s := range cfg.SLOs {
		names = append(names, s.ID())
	}
	require.Equal(t, []string{"checkout-checkout-latency", "checkout-requests-availability", "checkout-payment-provider-errors",
		"inventory-api-availability", "search-search-availability", "search-search-latency"}, names,
		"slos: first, then the files in order")
}
