package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"text/template"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich/expr"
	"github.com/augur-sre/augur/enrich/history"
	"github.com/augur-sre/augur/enrich/rootcause/cause"
	"github.com/augur-sre/augur/rules/slo"
)

// DefaultSignals are the golden-signal queries augur ships, by signal
// name: PromQL templates over the alert's labels, {{ .service }} being
// the service (the label named by service_label).
func DefaultSignals() map[string]string {
	return map[string]string{
		"request_rate":       `sum(rate(http_requests_total{service="{{ .service }}"}[5m]))`,
		"error_rate":         `sum(rate(http_requests_total{service="{{ .service }}",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="{{ .service }}"}[5m]))`,
		"latency":            `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{ .service }}"}[5m])))`,
		"cpu":                `sum(rate(process_cpu_seconds_total{service="{{ .service }}"}[5m]))`,
		"memory":             `sum(process_resident_memory_bytes{service="{{ .service }}"})`,
		"database_latency":   `histogram_quantile(0.95, sum by (le) (rate(db_query_duration_seconds_bucket{service="{{ .service }}"}[5m])))`,
		"dependency_latency": `histogram_quantile(0.95, sum by (le) (rate(http_client_request_duration_seconds_bucket{service="{{ .service }}"}[5m])))`,
	}
}

// Signals are the golden-signal query templates, by name: the defaults
// with the file's entries laid over them (an empty template removes a
// default).
type Signals map[string]*template.Template

// Render fills the template of a signal with labels.
func (s Signals) Render(name string, labels map[string]string) (string, error) {
	var b bytes.Buffer
	if err := s[name].Execute(&b, labels); err != nil {
		return "", fmt.Errorf("signal %s: %w", name, err)
	}
	return b.String(), nil
}

// Names returns the signal names, sorted.
func (s Signals) Names() []string {
	return slices.Sorted(maps.Keys(s))
}

// loadSignals lays the file's templates over the defaults and checks
// that each parses as a template and, filled in for a service, as PromQL.
func loadSignals(file map[string]string) (Signals, error) {
	merged := DefaultSignals()
	for name, text := range file {
		if text == "" {
			delete(merged, name)
			continue
		}
		merged[name] = text
	}
	out := Signals{}
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		t, err := template.New(name).Option("missingkey=zero").Parse(merged[name])
		if err != nil {
			return nil, fmt.Errorf("signals.%s: %w", name, err)
		}
		out[name] = t
		q, err := out.Render(name, map[string]string{"service": "example"})
		if err != nil {
			return nil, fmt.Errorf("signals.%s: %w", name, err)
		}
		if err := expr.Check(q); err != nil {
			return nil, fmt.Errorf("signals.%s: not PromQL once filled in (%q): %w", name, q, err)
		}
	}
	return out, nil
}

// TopologyConfig is the service dependency graph: Static edges from
// caller to callees, and edges read from service-graph metrics
// (FromMetrics) every Refresh. EntryServices are where users come in; by
// default, the services nothing else calls.
type TopologyConfig struct {
	Static        map[string][]string `yaml:"static,omitempty"`
	FromMetrics   *FromMetricsConfig  `yaml:"from_metrics,omitempty"`
	Refresh       model.Duration      `yaml:"refresh"`
	EntryServices []string            `yaml:"entry_services,omitempty"`
}

// FromMetricsConfig reads graph edges from an instant query whose series
// name the caller in ClientLabel and the callee in ServerLabel, such as
// sum by (client, server) (rate(traces_service_graph_request_total[10m])).
type FromMetricsConfig struct {
	Query       string `yaml:"query"`
	ClientLabel string `yaml:"client_label"`
	ServerLabel string `yaml:"server_label"`
}

// DefaultTopologyConfig is the default topology section: no graph.
var DefaultTopologyConfig = TopologyConfig{Refresh: model.Duration(5 * time.Minute)}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *TopologyConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultTopologyConfig
	type plain TopologyConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("topology", err)
	}
	if c.Refresh <= 0 {
		return errors.New("topology.refresh: must be positive")
	}
	for svc, deps := range c.Static {
		if svc == "" || slices.Contains(deps, "") {
			return fmt.Errorf("topology.static: empty service name (under %q)", svc)
		}
	}
	if m := c.FromMetrics; m != nil {
		if m.ClientLabel == "" {
			m.ClientLabel = "client"
		}
		if m.ServerLabel == "" {
			m.ServerLabel = "server"
		}
		if err := expr.Check(m.Query); err != nil {
			return fmt.Errorf("topology.from_metrics.query: %w", err)
		}
	}
	return nil
}

// ChangesConfig lists the Prometheus queries that reveal changes, beside
// those posted to /api/v1/changes.
type ChangesConfig struct {
	Prometheus []ChangeSource `yaml:"prometheus,omitempty"`
}

// ChangeSource is a query whose series are positive at the steps where
// something changed, e.g.
// changes(kube_deployment_status_observed_generation[5m]) > 0. The
// service is the series' label ServiceLabel (default: service_label);
// Type is the change type (default: deployment).
type ChangeSource struct {
	Name         string `yaml:"name"`
	Query        string `yaml:"query"`
	Type         string `yaml:"type"`
	ServiceLabel string `yaml:"service_label"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *ChangesConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain ChangesConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return inSection("changes", err)
	}
	names := map[string]bool{}
	for i := range c.Prometheus {
		s := &c.Prometheus[i]
		switch {
		case s.Name == "":
			return fmt.Errorf("changes.prometheus[%d]: missing name", i)
		case names[s.Name]:
			return fmt.Errorf("changes.prometheus (%s): name used twice", s.Name)
		}
		names[s.Name] = true
		if err := expr.Check(s.Query); err != nil {
			return fmt.Errorf("changes.prometheus (%s).query: %w", s.Name, err)
		}
		if s.Type == "" {
			s.Type = "deployment"
		}
	}
	return nil
}

// RootCauseConfig configures the rootcause enricher: each involved
// service's signals are read over Lookback at Step, their signatures
// matched against the cause signatures (the defaults, with Causes laid
// over them by name), and hypotheses below MinConfidence left out. At
// most MaxServices services are analysed per alert: the alert's, the
// incident's, and their neighbours in the topology.
type RootCauseConfig struct {
	Enabled       bool              `yaml:"enabled"`
	Lookback      model.Duration    `yaml:"lookback"`
	Step          model.Duration    `yaml:"step"`
	MinConfidence float64           `yaml:"min_confidence"`
	MaxServices   int               `yaml:"max_services"`
	Causes        []cause.Signature `yaml:"causes,omitempty"`
}

// DefaultRootCauseConfig is the default enrich.rootcause section.
var DefaultRootCauseConfig = RootCauseConfig{
	Enabled:       true,
	Lookback:      model.Duration(time.Hour),
	Step:          model.Duration(30 * time.Second),
	MinConfidence: 0.5,
	MaxServices:   10,
}

// UnmarshalYAML implements yaml.Unmarshaler: keys not given keep their
// defaults; causes are validated and laid over the defaults.
func (c *RootCauseConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultRootCauseConfig
	type plain RootCauseConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	switch {
	case c.Lookback <= 0 || c.Step <= 0:
		return errors.New("enrich.rootcause: lookback and step must be positive")
	case time.Duration(c.Lookback)/time.Duration(c.Step) < 20:
		return fmt.Errorf("enrich.rootcause.step: %s leaves fewer than 20 samples in the lookback %s", c.Step, c.Lookback)
	case time.Duration(c.Lookback)/time.Duration(c.Step) > maxPoints:
		return fmt.Errorf("enrich.rootcause.step: %s gives more than %d points over %s", c.Step, maxPoints, c.Lookback)
	case c.MinConfidence < 0 || c.MinConfidence >= 1:
		return fmt.Errorf("enrich.rootcause.min_confidence: %g is not within [0, 1)", c.MinConfidence)
	case c.MaxServices < 1:
		return fmt.Errorf("enrich.rootcause.max_services: %d must be at least 1", c.MaxServices)
	}
	for i := range c.Causes {
		if err := c.Causes[i].Validate(); err != nil {
			return fmt.Errorf("enrich.rootcause.causes: %w", err)
		}
	}
	return nil
}

// CauseSignatures returns the default cause signatures with the
// configured ones laid over them by name.
func (c RootCauseConfig) CauseSignatures() ([]cause.Signature, error) {
	defaults, err := cause.Defaults()
	if err != nil {
		return nil, err
	}
	return cause.Merge(defaults, c.Causes), nil
}

// SLOConfig configures the slo enricher: for alerts covered by an SLO it
// reads the error ratio from the recording rules of `augur rules
// generate` (named by Naming) when RecordingRules is set and Prometheus
// has them, else from the SLO's own queries.
type SLOConfig struct {
	Enabled        bool       `yaml:"enabled"`
	RecordingRules bool       `yaml:"recording_rules"`
	Naming         slo.Naming `yaml:"naming"`
}

// DefaultSLOConfig is the default enrich.slo section.
var DefaultSLOConfig = SLOConfig{Enabled: true, RecordingRules: true, Naming: slo.NamingSloth}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *SLOConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultSLOConfig
	type plain SLOConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if err := c.Naming.Validate(); err != nil {
		return fmt.Errorf("enrich.slo.%w", err)
	}
	return nil
}

// loadSLOs returns the SLOs of slos: and of the files matching the globs
// of slo_files: (relative to dir), refusing two of one name and service.
func loadSLOs(inline []slo.SLO, globs []string, dir string) ([]slo.SLO, error) {
	out := slices.Clone(inline)
	for i, g := range globs {
		files, err := filepath.Glob(join(dir, g))
		if err != nil {
			return nil, fmt.Errorf("slo_files[%d]: %w", i, err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("slo_files[%d]: %q matches no file", i, g)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("slo_files[%d]: %w", i, err)
			}
			slos, err := slo.Parse(f, data)
			if err != nil {
				return nil, fmt.Errorf("slo_files[%d]: %w", i, err)
			}
			out = append(out, slos...)
		}
	}
	seen := map[string]bool{}
	for _, s := range out {
		id := s.ID()
		if seen[id] {
			return nil, fmt.Errorf("slos: %q is defined twice", id)
		}
		seen[id] = true
	}
	return out, nil
}

// HistoryConfig configures the history enricher: similar past incidents
// (at least Threshold similar, at most TopK, by Weights) and the actions
// that worked in them. TimeZone (an IANA name, default UTC) is where the
// time-of-day classes of a fingerprint (business hours, evening, night,
// weekend) are read.
type HistoryConfig struct {
	Enabled  bool            `yaml:"enabled"`
	Options  history.Options `yaml:",inline"`
	TimeZone string          `yaml:"time_zone,omitempty"`
	// Location is TimeZone loaded.
	Location *time.Location `yaml:"-"`
}

// DefaultHistoryConfig returns the default enrich.history section.
func DefaultHistoryConfig() HistoryConfig {
	return HistoryConfig{Enabled: true, Options: history.DefaultOptions(), Location: time.UTC}
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *HistoryConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultHistoryConfig()
	type plain HistoryConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("enrich.history: %w", err)
	}
	if c.TimeZone != "" {
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			return fmt.Errorf("enrich.history.time_zone: %w", err)
		}
		c.Location = loc
	}
	return nil
}
