// Package config loads and validates augur.yml.
//
// The file has two halves. global, templates and receivers follow
// Alertmanager's own schema and are validated by Alertmanager's config
// package, so receivers can be pasted from an existing alertmanager.yml
// unchanged. Every other section is augur's and is decoded strictly here:
// unknown keys are errors, defaults are applied by each section's
// UnmarshalYAML, and every error names the key path it is about.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	amcommon "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/matcher/compat"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/augur-sre/augur/enrich/runbook"
	"github.com/augur-sre/augur/rules/slo"
)

// Config is a loaded and validated augur.yml.
type Config struct {
	// Global, Templates and Receivers are Alertmanager's own sections, as
	// Alertmanager's config loader leaves them: global defaults copied into
	// each receiver, relative file paths resolved against the config file.
	Global    *amconfig.GlobalConfig
	Templates []string
	Receivers []amconfig.Receiver

	// ServiceLabel is the alert label that names the service an alert is about.
	ServiceLabel string

	Prometheus   PrometheusConfig
	Intake       IntakeConfig
	Forward      ForwardConfig
	Triage       TriageConfig
	Enrich       EnrichConfig
	Alertmanager AlertmanagerConfig
	Watcher      WatcherConfig
	Storage      StorageConfig

	// Signals, Topology and Changes feed root-cause analysis.
	Signals  Signals
	Topology TopologyConfig
	Changes  ChangesConfig

	// SLOs are those of slos: and of the files of slo_files:, in that
	// order.
	SLOs []slo.SLO

	// Runbooks are the read-only diagnostic steps, by cause and by
	// alert name.
	Runbooks runbook.Config
}

// Receiver returns the receiver with the given name.
func (c *Config) Receiver(name string) (amconfig.Receiver, bool) {
	for _, r := range c.Receivers {
		if r.Name == name {
			return r, true
		}
	}
	return amconfig.Receiver{}, false
}

// document is the shape of the file. Alertmanager's sections are kept raw
// here and handed to Alertmanager's loader as a whole.
// augur's sections are pointers: a section that is absent, or present
// without a value ("forward:"), stays nil and gets its defaults.
type document struct {
	Global       any                 `yaml:"global,omitempty"`
	Templates    []any               `yaml:"templates,omitempty"`
	Receivers    []any               `yaml:"receivers,omitempty"`
	Prometheus   *PrometheusConfig   `yaml:"prometheus"`
	Intake       *IntakeConfig       `yaml:"intake"`
	Forward      *ForwardConfig      `yaml:"forward"`
	Triage       *TriageConfig       `yaml:"triage"`
	Enrich       *EnrichConfig       `yaml:"enrich"`
	Alertmanager *AlertmanagerConfig `yaml:"alertmanager"`
	Watcher      *WatcherConfig      `yaml:"watcher"`
	Storage      *StorageConfig      `yaml:"storage"`
	Signals      map[string]string   `yaml:"signals"`
	Topology     *TopologyConfig     `yaml:"topology"`
	Changes      *ChangesConfig      `yaml:"changes"`
	SLOs         []slo.SLO           `yaml:"slos"`
	SLOFiles     []string            `yaml:"slo_files"`
	Runbooks     *runbook.Config     `yaml:"runbooks"`
	// ServiceLabel is a plain value: absent or empty means the default.
	ServiceLabel string `yaml:"service_label"`
}

// DefaultServiceLabel is the default service_label.
const DefaultServiceLabel = "service"

// PrometheusConfig says where augur runs its PromQL queries, and how many.
type PrometheusConfig struct {
	URL        *URL                       `yaml:"url"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config"`
	// Timeout bounds one query.
	Timeout model.Duration `yaml:"timeout"`
	// MaxConcurrency bounds the queries in flight at once; more wait.
	MaxConcurrency int `yaml:"max_concurrency"`
	// Cache keeps query results for reuse.
	Cache QueryCacheConfig `yaml:"cache"`
	// RulesRefresh is how long Prometheus's rules (/api/v1/rules) are
	// reused before they are read again.
	RulesRefresh model.Duration `yaml:"rules_refresh"`
}

// QueryCacheConfig sizes the query cache: at most Size results, each kept
// for TTL.
type QueryCacheConfig struct {
	Size int            `yaml:"size"`
	TTL  model.Duration `yaml:"ttl"`
}

// DefaultPrometheusConfig is the default prometheus section.
var DefaultPrometheusConfig = PrometheusConfig{
	URL:            mustParseURL("http://localhost:9090"),
	HTTPConfig:     commoncfg.DefaultHTTPClientConfig,
	Timeout:        model.Duration(10 * time.Second),
	MaxConcurrency: 8,
	Cache:          QueryCacheConfig{Size: 10000, TTL: model.Duration(time.Minute)},
	RulesRefresh:   model.Duration(time.Minute),
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *PrometheusConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultPrometheusConfig
	// Decoded into a fresh URL, never into the default's shared one.
	c.URL = nil
	type plain PrometheusConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("prometheus", err)
	}
	if c.URL == nil {
		c.URL = DefaultPrometheusConfig.URL
	}
	switch {
	case c.Timeout <= 0:
		return errors.New("prometheus.timeout: must be positive")
	case c.MaxConcurrency < 1:
		return fmt.Errorf("prometheus.max_concurrency: %d must be at least 1", c.MaxConcurrency)
	case c.Cache.Size < 0:
		return fmt.Errorf("prometheus.cache.size: %d must not be negative (0 turns the cache off)", c.Cache.Size)
	case c.RulesRefresh <= 0:
		return errors.New("prometheus.rules_refresh: must be positive")
	}
	if err := c.HTTPConfig.Validate(); err != nil {
		return fmt.Errorf("prometheus.http_config: %w", err)
	}
	return nil
}

// IntakeConfig guards the webhook endpoints.
type IntakeConfig struct {
	// BearerToken, if set, must be presented as "Authorization: Bearer ...",
	// which is what Alertmanager's http_config.authorization sends.
	BearerToken     commoncfg.Secret `yaml:"bearer_token,omitempty"`
	BearerTokenFile string           `yaml:"bearer_token_file,omitempty"`
	BasicAuth       *BasicAuth       `yaml:"basic_auth,omitempty"`
	// MaxBodyBytes bounds the size of one webhook request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// DefaultReceiver takes notifications sent to POST /api/v1/webhook whose
	// receiver field names no receiver of augur's. Empty means they are
	// refused with 404.
	DefaultReceiver string `yaml:"default_receiver,omitempty"`
}

// DefaultIntakeConfig is the default intake section.
var DefaultIntakeConfig = IntakeConfig{
	MaxBodyBytes: 10 << 20,
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *IntakeConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultIntakeConfig
	type plain IntakeConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("intake", err)
	}
	if c.MaxBodyBytes <= 0 {
		return errors.New("intake.max_body_bytes: must be positive")
	}
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		return errors.New("intake: bearer_token and bearer_token_file are mutually exclusive")
	}
	if (c.BearerToken != "" || c.BearerTokenFile != "") && c.BasicAuth != nil {
		return errors.New("intake: bearer_token and basic_auth are mutually exclusive")
	}
	return nil
}

// BasicAuth is a username and password that webhook requests must carry.
type BasicAuth struct {
	Username     string           `yaml:"username"`
	Password     commoncfg.Secret `yaml:"password,omitempty"`
	PasswordFile string           `yaml:"password_file,omitempty"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *BasicAuth) UnmarshalYAML(unmarshal func(any) error) error {
	type plain BasicAuth
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("intake.basic_auth", err)
	}
	if c.Username == "" {
		return errors.New("intake.basic_auth.username: must be set")
	}
	if c.Password != "" && c.PasswordFile != "" {
		return errors.New("intake.basic_auth: password and password_file are mutually exclusive")
	}
	if c.Password == "" && c.PasswordFile == "" {
		return errors.New("intake.basic_auth: one of password and password_file must be set")
	}
	return nil
}

// ForwardConfig tunes delivery to the downstream receivers.
type ForwardConfig struct {
	// Timeout bounds one delivery attempt to one integration.
	Timeout model.Duration `yaml:"timeout"`
	// InitialBackoff is the wait before the first retry; it doubles, with
	// jitter, up to MaxBackoff.
	InitialBackoff model.Duration `yaml:"initial_backoff"`
	MaxBackoff     model.Duration `yaml:"max_backoff"`
	// Concurrency bounds the deliveries in flight at once.
	Concurrency int `yaml:"concurrency"`
}

// DefaultForwardConfig is the default forward section.
var DefaultForwardConfig = ForwardConfig{
	Timeout:        model.Duration(10 * time.Second),
	InitialBackoff: model.Duration(time.Second),
	MaxBackoff:     model.Duration(time.Minute),
	Concurrency:    16,
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *ForwardConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultForwardConfig
	type plain ForwardConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("forward", err)
	}
	switch {
	case c.Timeout <= 0:
		return errors.New("forward.timeout: must be positive")
	case c.InitialBackoff <= 0:
		return errors.New("forward.initial_backoff: must be positive")
	case c.MaxBackoff < c.InitialBackoff:
		return errors.New("forward.max_backoff: must not be shorter than initial_backoff")
	case c.Concurrency < 1:
		return errors.New("forward.concurrency: must be at least 1")
	}
	return nil
}

// TriageConfig configures what augur drops before enrichment.
type TriageConfig struct {
	// DedupWindow: the same notification (same receiver, group key, alert
	// fingerprints, statuses and start times) again within it is dropped as
	// a duplicate.
	DedupWindow model.Duration `yaml:"dedup_window"`
	// RepeatInterval: an unchanged notification after DedupWindow (a repeat
	// by Alertmanager's repeat_interval) is forwarded only once the last
	// forward of its group is this old; 0 drops every unchanged repeat.
	RepeatInterval model.Duration `yaml:"repeat_interval"`
	// TimeIntervals are named time intervals in Alertmanager's schema
	// (maintenance windows, business hours) for Suppress to refer to.
	TimeIntervals []amconfig.TimeInterval `yaml:"time_intervals,omitempty"`
	// Suppress rules keep matching alerts from being forwarded.
	Suppress []SuppressRule `yaml:"suppress,omitempty"`
	// MinScore: firing alerts scored below it are not forwarded; they stay
	// on their incident. 0 forwards all.
	MinScore float64 `yaml:"min_score"`
	// SeverityScores maps values of the severity label to the severity part
	// of an alert's score; entries here add to or replace augur's defaults.
	SeverityScores map[string]float64 `yaml:"severity_scores,omitempty"`
	// UnknownSeverityScore is the severity part for alerts whose severity
	// is missing or not in SeverityScores.
	UnknownSeverityScore float64 `yaml:"unknown_severity_score"`
	// Flapping configures flap damping (key "flapping", decoded by
	// UnmarshalYAML).
	Flapping FlappingConfig `yaml:"-"`
	// Aggregation says which alerts make one incident (key "aggregation",
	// decoded by UnmarshalYAML).
	Aggregation AggregationConfig `yaml:"-"`
}

// FlappingConfig configures flap damping: Nagios's weighted percent state
// change over Window cut into Buckets samples, with hysteresis between
// LowThreshold and HighThreshold (rates in [0,1]).
type FlappingConfig struct {
	Enabled       bool           `yaml:"enabled"`
	Window        model.Duration `yaml:"window"`
	Buckets       int            `yaml:"buckets"`
	HighThreshold float64        `yaml:"high_threshold"`
	LowThreshold  float64        `yaml:"low_threshold"`
}

// UnmarshalYAML implements yaml.Unmarshaler: keys not given keep their
// defaults.
func (c *FlappingConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultTriageConfig.Flapping
	type plain FlappingConfig
	return unmarshal((*plain)(c))
}

// AggregationConfig says which alerts make one incident: alerts on the same
// service (service_label) while the incident had a firing alert within
// Window, or, when By names labels, alerts with the same values of all of
// them. An incident whose alerts all resolved stays open for GracePeriod, so
// that a problem that comes back at once is the same incident.
type AggregationConfig struct {
	Window      model.Duration `yaml:"window"`
	By          []string       `yaml:"by,omitempty"`
	GracePeriod model.Duration `yaml:"grace_period"`
}

// SuppressRule suppresses the alerts that match all its matchers, while
// inside one of its time intervals if it names any.
type SuppressRule struct {
	Name          string            `yaml:"name"`
	Matchers      amcommon.Matchers `yaml:"matchers"`
	TimeIntervals []string          `yaml:"time_intervals,omitempty"`
}

// UnmarshalYAML implements yaml.Unmarshaler. It parses the matchers with
// Alertmanager's parser itself, so that an error names the rule and the
// matcher.
func (r *SuppressRule) UnmarshalYAML(unmarshal func(any) error) error {
	var raw struct {
		Name          string   `yaml:"name"`
		Matchers      []string `yaml:"matchers"`
		TimeIntervals []string `yaml:"time_intervals,omitempty"`
	}
	if err := unmarshal(&raw); err != nil {
		return err
	}
	*r = SuppressRule{Name: raw.Name, TimeIntervals: raw.TimeIntervals}
	for _, m := range raw.Matchers {
		ms, err := compat.Matchers(m, "config")
		if err != nil {
			return fmt.Errorf("triage.suppress (%s).matchers: %q: %w", raw.Name, m, err)
		}
		r.Matchers = append(r.Matchers, ms...)
	}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler: keys not given keep their
// defaults.
func (c *AggregationConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultTriageConfig.Aggregation
	type plain AggregationConfig
	return unmarshal((*plain)(c))
}

// DefaultTriageConfig is the default triage section.
var DefaultTriageConfig = TriageConfig{
	DedupWindow: model.Duration(5 * time.Minute),
	SeverityScores: map[string]float64{
		"critical": 1, "page": 1,
		"error": 0.8, "high": 0.8, "major": 0.8,
		"warning": 0.5, "ticket": 0.5, "minor": 0.5,
		"info": 0.2, "low": 0.2,
		"none": 0.1,
	},
	UnknownSeverityScore: 0.5,
	Flapping: FlappingConfig{
		Enabled:       true,
		Window:        model.Duration(time.Hour),
		Buckets:       20,
		HighThreshold: 0.3,
		LowThreshold:  0.15,
	},
	Aggregation: AggregationConfig{
		Window:      model.Duration(15 * time.Minute),
		GracePeriod: model.Duration(10 * time.Minute),
	},
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *TriageConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultTriageConfig
	// Entries are decoded on their own, then laid over a copy of the
	// defaults: the defaults' map is never written to.
	c.SeverityScores = nil
	// The nested sections are pointers here so that one present without
	// a value ("flapping:") keeps its defaults rather than zeroes.
	type plain TriageConfig
	raw := struct {
		plain       `yaml:",inline"`
		Flapping    *FlappingConfig    `yaml:"flapping"`
		Aggregation *AggregationConfig `yaml:"aggregation"`
	}{plain: plain(*c)}
	if err := unmarshal(&raw); err != nil {
		return inSection("triage", err)
	}
	*c = TriageConfig(raw.plain)
	c.Flapping = orDefault(raw.Flapping, DefaultTriageConfig.Flapping)
	c.Aggregation = orDefault(raw.Aggregation, DefaultTriageConfig.Aggregation)
	scores := maps.Clone(DefaultTriageConfig.SeverityScores)
	maps.Copy(scores, c.SeverityScores)
	c.SeverityScores = scores
	switch {
	case c.DedupWindow < 0:
		return errors.New("triage.dedup_window: must not be negative")
	case c.RepeatInterval < 0:
		return errors.New("triage.repeat_interval: must not be negative")
	case c.RepeatInterval > 0 && c.RepeatInterval < c.DedupWindow:
		return errors.New("triage.repeat_interval: must not be shorter than triage.dedup_window")
	case c.MinScore < 0 || c.MinScore > 1:
		return fmt.Errorf("triage.min_score: %v is not within [0, 1]", c.MinScore)
	case c.UnknownSeverityScore < 0 || c.UnknownSeverityScore > 1:
		return fmt.Errorf("triage.unknown_severity_score: %v is not within [0, 1]", c.UnknownSeverityScore)
	case c.Flapping.Window <= 0:
		return errors.New("triage.flapping.window: must be positive")
	case c.Flapping.Buckets < 2 || c.Flapping.Buckets > 1000:
		return fmt.Errorf("triage.flapping.buckets: %d is not within [2, 1000]", c.Flapping.Buckets)
	case c.Flapping.HighThreshold <= 0 || c.Flapping.HighThreshold > 1:
		return fmt.Errorf("triage.flapping.high_threshold: %v is not within (0, 1]", c.Flapping.HighThreshold)
	case c.Flapping.LowThreshold < 0 || c.Flapping.LowThreshold >= c.Flapping.HighThreshold:
		return fmt.Errorf("triage.flapping.low_threshold: %v must be at least 0 and below high_threshold %v", c.Flapping.LowThreshold, c.Flapping.HighThreshold)
	}
	for i, l := range c.Aggregation.By {
		if !model.UTF8Validation.IsValidLabelName(l) {
			return fmt.Errorf("triage.aggregation.by[%d]: %q is not a valid label name", i, l)
		}
	}
	for sev, v := range c.SeverityScores {
		if v < 0 || v > 1 {
			return fmt.Errorf("triage.severity_scores.%s: %v is not within [0, 1]", sev, v)
		}
	}
	intervals := map[string]bool{}
	for i, ti := range c.TimeIntervals {
		if intervals[ti.Name] {
			return fmt.Errorf("triage.time_intervals[%d]: name %q is not unique", i, ti.Name)
		}
		intervals[ti.Name] = true
	}
	rules := map[string]bool{}
	for i, r := range c.Suppress {
		switch {
		case r.Name == "":
			return fmt.Errorf("triage.suppress[%d].name: must be set", i)
		case rules[r.Name]:
			return fmt.Errorf("triage.suppress[%d].name: %q is not unique", i, r.Name)
		case len(r.Matchers) == 0:
			return fmt.Errorf("triage.suppress[%d] (%s).matchers: at least one matcher is required", i, r.Name)
		}
		rules[r.Name] = true
		for _, name := range r.TimeIntervals {
			if !intervals[name] {
				return fmt.Errorf("triage.suppress[%d] (%s).time_intervals: %q is not defined in triage.time_intervals", i, r.Name, name)
			}
		}
	}
	return nil
}

// EnrichConfig configures the enrichment stage.
type EnrichConfig struct {
	// Deadline bounds all enrichers of one notification together; what is
	// not done by then is skipped and the alert goes out without it.
	Deadline model.Duration `yaml:"deadline"`
	// Forecast and Baseline configure those enrichers (keys "forecast"
	// and "baseline", decoded by UnmarshalYAML).
	Forecast  ForecastConfig  `yaml:"-"`
	Baseline  BaselineConfig  `yaml:"-"`
	RootCause RootCauseConfig `yaml:"-"`
	SLO       SLOConfig       `yaml:"-"`
	History   HistoryConfig   `yaml:"-"`
}

// BaselineConfig configures the baseline enricher: the alert's series is
// read over Lookback at Step, and its usual range is the median ± K
// spreads of its slot of the week (or day).
type BaselineConfig struct {
	Enabled  bool           `yaml:"enabled"`
	Lookback model.Duration `yaml:"lookback"`
	Step     model.Duration `yaml:"step"`
	K        float64        `yaml:"k"`
}

// maxPoints is the most points per series Prometheus returns for a range
// query.
const maxPoints = 11000

// UnmarshalYAML implements yaml.Unmarshaler: keys not given keep their
// defaults.
func (c *BaselineConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultEnrichConfig.Baseline
	type plain BaselineConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	lookback, step := time.Duration(c.Lookback), time.Duration(c.Step)
	switch {
	case lookback < 3*24*time.Hour:
		return fmt.Errorf("enrich.baseline.lookback: %s must be at least 3d, the least history a baseline needs", c.Lookback)
	case step <= 0 || step > time.Hour:
		return fmt.Errorf("enrich.baseline.step: %s must be positive and at most 1h, so that every hour has samples", c.Step)
	case lookback/step > maxPoints:
		return fmt.Errorf("enrich.baseline.step: %s gives %d points over %s, more than the %d Prometheus returns", c.Step, lookback/step, c.Lookback, maxPoints)
	case c.K <= 0:
		return fmt.Errorf("enrich.baseline.k: %g must be positive", c.K)
	}
	return nil
}

// ForecastConfig configures the forecast enricher: each alert's watched
// series is read over Lookback at Step (0: Lookback/720, at least 15s) and
// forecast Horizon ahead; a daily Season is modelled when the lookback
// holds two of them.
type ForecastConfig struct {
	Enabled  bool           `yaml:"enabled"`
	Horizon  model.Duration `yaml:"horizon"`
	Lookback model.Duration `yaml:"lookback"`
	Step     model.Duration `yaml:"step"`
	Season   model.Duration `yaml:"season"`
}

// UnmarshalYAML implements yaml.Unmarshaler: keys not given keep their
// defaults.
func (c *ForecastConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultEnrichConfig.Forecast
	type plain ForecastConfig
	return unmarshal((*plain)(c))
}

// DefaultEnrichConfig is the default enrich section.
var DefaultEnrichConfig = EnrichConfig{
	Deadline: model.Duration(2 * time.Second),
	Forecast: ForecastConfig{
		Enabled:  true,
		Horizon:  model.Duration(30 * time.Minute),
		Lookback: model.Duration(6 * time.Hour),
		Season:   model.Duration(24 * time.Hour),
	},
	Baseline: BaselineConfig{
		Enabled:  true,
		Lookback: model.Duration(28 * 24 * time.Hour),
		Step:     model.Duration(time.Hour),
		K:        3,
	},
	RootCause: DefaultRootCauseConfig,
	SLO:       DefaultSLOConfig,
	History:   DefaultHistoryConfig(),
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *EnrichConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultEnrichConfig
	// The nested sections are pointers here so that "forecast:" without a
	// value keeps its defaults.
	type plain EnrichConfig
	raw := struct {
		plain     `yaml:",inline"`
		Forecast  *ForecastConfig  `yaml:"forecast"`
		Baseline  *BaselineConfig  `yaml:"baseline"`
		RootCause *RootCauseConfig `yaml:"rootcause"`
		SLO       *SLOConfig       `yaml:"slo"`
		History   *HistoryConfig   `yaml:"history"`
	}{plain: plain(*c)}
	if err := unmarshal(&raw); err != nil {
		return inSection("enrich", err)
	}
	*c = EnrichConfig(raw.plain)
	c.Forecast = orDefault(raw.Forecast, DefaultEnrichConfig.Forecast)
	c.Baseline = orDefault(raw.Baseline, DefaultEnrichConfig.Baseline)
	c.RootCause = orDefault(raw.RootCause, DefaultRootCauseConfig)
	c.SLO = orDefault(raw.SLO, DefaultSLOConfig)
	c.History = orDefault(raw.History, DefaultHistoryConfig())
	f := c.Forecast
	switch {
	case c.Deadline <= 0:
		return errors.New("enrich.deadline: must be positive")
	case f.Horizon <= 0:
		return errors.New("enrich.forecast.horizon: must be positive")
	case f.Season <= 0:
		return errors.New("enrich.forecast.season: must be positive")
	}
	return checkWindow("enrich.forecast", f.Horizon, f.Lookback, f.Step)
}

// checkWindow checks the history a forecaster reads: at least the horizon
// long, and at least 10 samples.
func checkWindow(section string, horizon, lookback, step model.Duration) error {
	switch {
	case lookback < horizon:
		return fmt.Errorf("%s.lookback: %s is shorter than the horizon %s", section, lookback, horizon)
	case step > 0 && time.Duration(lookback)/time.Duration(step) < 10:
		return fmt.Errorf("%s.step: %s leaves fewer than 10 samples in the lookback %s", section, step, lookback)
	}
	return nil
}

// AlertmanagerConfig says where the watcher posts predicted alerts.
type AlertmanagerConfig struct {
	URL        *URL                       `yaml:"url"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config"`
	Timeout    model.Duration             `yaml:"timeout"`
}

// DefaultAlertmanagerConfig is the default alertmanager section.
var DefaultAlertmanagerConfig = AlertmanagerConfig{
	URL:        mustParseURL("http://localhost:9093"),
	HTTPConfig: commoncfg.DefaultHTTPClientConfig,
	Timeout:    model.Duration(10 * time.Second),
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *AlertmanagerConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultAlertmanagerConfig
	c.URL = nil
	type plain AlertmanagerConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("alertmanager", err)
	}
	if c.URL == nil {
		c.URL = DefaultAlertmanagerConfig.URL
	}
	if c.Timeout <= 0 {
		return errors.New("alertmanager.timeout: must be positive")
	}
	if err := c.HTTPConfig.Validate(); err != nil {
		return fmt.Errorf("alertmanager.http_config: %w", err)
	}
	return nil
}

// WatcherConfig configures the watcher: every Interval it reads
// Prometheus's alerting rules, forecasts the series each watches over
// Lookback at Step (0: Lookback/720, at least 15s), and raises a predicted
// alert for each series whose rule is likely (MinProbability) to fire
// within Horizon. MaxRules and MaxSeriesPerRule bound the work of one
// round. A rule opts out with the label or annotation augur_predict:
// "false".
type WatcherConfig struct {
	Enabled          bool           `yaml:"enabled"`
	Interval         model.Duration `yaml:"interval"`
	Horizon          model.Duration `yaml:"horizon"`
	Lookback         model.Duration `yaml:"lookback"`
	Step             model.Duration `yaml:"step"`
	MinProbability   float64        `yaml:"min_probability"`
	MaxRules         int            `yaml:"max_rules"`
	MaxSeriesPerRule int            `yaml:"max_series_per_rule"`
}

// DefaultWatcherConfig is the default watcher section.
var DefaultWatcherConfig = WatcherConfig{
	Interval:         model.Duration(time.Minute),
	Horizon:          model.Duration(30 * time.Minute),
	Lookback:         model.Duration(6 * time.Hour),
	MinProbability:   0.8,
	MaxRules:         1000,
	MaxSeriesPerRule: 10,
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *WatcherConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultWatcherConfig
	type plain WatcherConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("watcher", err)
	}
	switch {
	case c.Interval <= 0:
		return errors.New("watcher.interval: must be positive")
	case c.Horizon <= 0:
		return errors.New("watcher.horizon: must be positive")
	case c.MinProbability <= 0 || c.MinProbability > 1:
		return fmt.Errorf("watcher.min_probability: %v is not within (0, 1]", c.MinProbability)
	case c.MaxRules < 1:
		return fmt.Errorf("watcher.max_rules: %d must be at least 1", c.MaxRules)
	case c.MaxSeriesPerRule < 1:
		return fmt.Errorf("watcher.max_series_per_rule: %d must be at least 1", c.MaxSeriesPerRule)
	}
	return checkWindow("watcher", c.Horizon, c.Lookback, c.Step)
}

// StorageConfig configures the embedded store.
type StorageConfig struct {
	// Path is the store's directory; the --storage.path flag, when given,
	// takes precedence. It is read once at start-up.
	Path string `yaml:"path,omitempty"`
	// Retention is how long notifications are kept after they were received.
	Retention model.Duration `yaml:"retention"`
}

// DefaultStorageConfig is the default storage section.
var DefaultStorageConfig = StorageConfig{
	Retention: model.Duration(7 * 24 * time.Hour),
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *StorageConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultStorageConfig
	type plain StorageConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("storage", err)
	}
	if c.Retention <= 0 {
		return errors.New("storage.retention: must be positive")
	}
	return nil
}

// URL is a url.URL that must be absolute with an http or https scheme.
type URL struct{ *url.URL }

// UnmarshalYAML implements yaml.Unmarshaler.
func (u *URL) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	parsed, err := parseURL(s)
	if err != nil {
		return err
	}
	u.URL = parsed
	return nil
}

// MarshalYAML implements yaml.Marshaler; a password in the URL is hidden.
func (u URL) MarshalYAML() (any, error) {
	if u.URL == nil {
		return nil, nil
	}
	return u.Redacted(), nil
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid URL %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: host is missing", s)
	}
	return u, nil
}

func mustParseURL(s string) *URL {
	u, err := parseURL(s)
	if err != nil {
		panic(err)
	}
	return &URL{u}
}

// LoadFile reads and validates the config file at path. Relative paths in
// it resolve against the file's directory.
func LoadFile(path string) (*Config, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("resolve config directory: %w", err)
	}
	cfg, err := Load(content, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Load validates a config given as YAML. Relative paths resolve against dir.
func Load(content []byte, dir string) (*Config, error) {
	var doc document
	if err := yaml.UnmarshalStrict(content, &doc); err != nil {
		return nil, locate(content, err)
	}
	cfg := Config{
		ServiceLabel: cmp.Or(doc.ServiceLabel, DefaultServiceLabel),
		Prometheus:   orDefault(doc.Prometheus, DefaultPrometheusConfig),
		Intake:       orDefault(doc.Intake, DefaultIntakeConfig),
		Forward:      orDefault(doc.Forward, DefaultForwardConfig),
		Triage:       orDefault(doc.Triage, DefaultTriageConfig),
		Enrich:       orDefault(doc.Enrich, DefaultEnrichConfig),
		Alertmanager: orDefault(doc.Alertmanager, DefaultAlertmanagerConfig),
		Watcher:      orDefault(doc.Watcher, DefaultWatcherConfig),
		Storage:      orDefault(doc.Storage, DefaultStorageConfig),
		Topology:     orDefault(doc.Topology, DefaultTopologyConfig),
		Changes:      orDefault(doc.Changes, ChangesConfig{}),
		Runbooks:     orDefault(doc.Runbooks, runbook.DefaultConfig()),
	}
	cfg.Runbooks.SetDirectory(dir)
	signals, err := loadSignals(doc.Signals)
	if err != nil {
		return nil, err
	}
	cfg.Signals = signals
	if cfg.SLOs, err = loadSLOs(doc.SLOs, doc.SLOFiles, dir); err != nil {
		return nil, err
	}
	if err := cfg.resolveIntakeFiles(dir); err != nil {
		return nil, err
	}
	if err := cfg.loadAlertmanagerSections(doc, dir); err != nil {
		return nil, err
	}
	if r := cfg.Intake.DefaultReceiver; r != "" {
		if _, ok := cfg.Receiver(r); !ok {
			return nil, fmt.Errorf("intake.default_receiver: receiver %q does not exist in receivers", r)
		}
	}
	return &cfg, nil
}

func orDefault[T any](section *T, def T) T {
	if section == nil {
		return def
	}
	return *section
}

func (c *Config) resolveIntakeFiles(dir string) error {
	if f := c.Intake.BearerTokenFile; f != "" {
		b, err := readSecretFile(join(dir, f))
		if err != nil {
			return fmt.Errorf("intake.bearer_token_file: %w", err)
		}
		c.Intake.BearerToken = commoncfg.Secret(b)
	}
	if ba := c.Intake.BasicAuth; ba != nil && ba.PasswordFile != "" {
		b, err := readSecretFile(join(dir, ba.PasswordFile))
		if err != nil {
			return fmt.Errorf("intake.basic_auth.password_file: %w", err)
		}
		ba.Password = commoncfg.Secret(b)
	}
	if err := resolveHTTPConfig("prometheus.http_config", &c.Prometheus.HTTPConfig, dir); err != nil {
		return err
	}
	return resolveHTTPConfig("alertmanager.http_config", &c.Alertmanager.HTTPConfig, dir)
}

// resolveHTTPConfig makes the files of an http_config (password_file,
// ca_file, ...) relative to dir, and checks that they exist.
func resolveHTTPConfig(key string, hc *commoncfg.HTTPClientConfig, dir string) error {
	hc.SetDirectory(dir)
	out, err := yaml.Marshal(hc)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	var raw any
	if err := yaml.Unmarshal(out, &raw); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return resolveFiles(key, raw, dir)
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func join(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// loadAlertmanagerSections hands global, templates and receivers to
// Alertmanager's loader, which validates them and copies the global defaults
// into each receiver. Alertmanager insists on a route, so one to the first
// receiver is added. File paths are made absolute first (Alertmanager would
// read most of them relative to the working directory) and must exist.
func (c *Config) loadAlertmanagerSections(doc document, dir string) error {
	for i, t := range doc.Templates {
		s, ok := t.(string)
		if !ok {
			return fmt.Errorf("templates[%d]: must be a string", i)
		}
		doc.Templates[i] = join(dir, s)
	}
	if err := resolveFiles("global", doc.Global, dir); err != nil {
		return err
	}
	for i, r := range doc.Receivers {
		if _, ok := r.(map[any]any); !ok {
			return fmt.Errorf("receivers[%d]: must be a receiver (a mapping with a name), not %v", i, r)
		}
		if err := resolveFiles(fmt.Sprintf("receivers[%d]", i), r, dir); err != nil {
			return err
		}
	}
	if len(doc.Receivers) == 0 {
		// Nothing to link: validate global on its own.
		am, err := loadAlertmanager(doc.Global, doc.Templates, []any{map[string]any{"name": "none"}})
		if err != nil {
			return explain("global", doc.Global, err)
		}
		c.Global, c.Templates = am.Global, am.Templates
		return nil
	}
	am, err := loadAlertmanager(doc.Global, doc.Templates, doc.Receivers)
	if err != nil {
		return blame(doc, err)
	}
	c.Global, c.Templates, c.Receivers = am.Global, am.Templates, am.Receivers
	return nil
}

// blame finds which section an error from Alertmanager's loader is about by
// loading each on its own.
func blame(doc document, err error) error {
	if _, gerr := loadAlertmanager(doc.Global, nil, []any{map[string]any{"name": "none"}}); gerr != nil {
		return explain("global", doc.Global, gerr)
	}
	for i, r := range doc.Receivers {
		if _, rerr := loadAlertmanager(doc.Global, nil, []any{r}); rerr != nil {
			return explain(fmt.Sprintf("receivers[%d]", i), r, rerr)
		}
	}
	return explain("receivers", doc.Receivers, err)
}

func loadAlertmanager(global any, templates, receivers []any) (*amconfig.Config, error) {
	route := map[string]any{"receiver": "none"}
	if m, ok := receivers[0].(map[any]any); ok && m["name"] != nil {
		// Alertmanager takes a name like 911 as the string "911".
		route["receiver"] = fmt.Sprint(m["name"])
	}
	out, err := yaml.Marshal(map[string]any{
		"global":    global,
		"templates": templates,
		"receivers": receivers,
		"route":     route,
	})
	if err != nil {
		return nil, fmt.Errorf("encode alertmanager sections: %w", err)
	}
	return amconfig.Load(string(out))
}

// sortedKeys returns the keys of a YAML mapping in a stable order.
func sortedKeys(m map[any]any) []any {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	return keys
}

// resolveFiles makes every "*_file" value under v absolute and checks that
// the file can be read, so that a missing secret is a config error rather
// than a failed notification hours later.
func resolveFiles(path string, v any, dir string) error {
	switch v := v.(type) {
	case map[any]any:
		for _, k := range sortedKeys(v) {
			val := v[k]
			key, _ := k.(string)
			p := path + "." + key
			if s, ok := val.(string); ok && strings.HasSuffix(key, "_file") && s != "" {
				abs := join(dir, s)
				f, err := os.Open(abs)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				v[k] = abs
				continue
			}
			if err := resolveFiles(p, val, dir); err != nil {
				return err
			}
		}
	case []any:
		for i, val := range v {
			if err := resolveFiles(fmt.Sprintf("%s[%d]", path, i), val, dir); err != nil {
				return err
			}
		}
	}
	return nil
}
