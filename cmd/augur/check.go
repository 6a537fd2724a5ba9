package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/receiver"
)

// checkConfig validates a config file as serve would load it and prints a
// short summary, or the error and exit code 1.
func checkConfig(path string, stdout, stderr io.Writer) int {
	cfg, err := config.LoadFile(path)
	var integrations map[string][]string
	if err == nil {
		integrations, err = receiver.Validate(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "FAILED: %s\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "SUCCESS: %s is valid augur config\n", path)
	fmt.Fprintf(stdout, "  receivers:  %d\n", len(cfg.Receivers))
	for _, r := range cfg.Receivers {
		fmt.Fprintf(stdout, "    - %s: %s\n", r.Name, integrationSummary(integrations[r.Name]))
	}
	fmt.Fprintf(stdout, "  templates:  %d glob(s)\n", len(cfg.Templates))
	fmt.Fprintf(stdout, "  prometheus: %s (timeout %s)\n", cfg.Prometheus.URL.Redacted(), cfg.Prometheus.Timeout)
	fmt.Fprintf(stdout, "  intake:     auth %s, max body %d bytes\n", intakeAuth(cfg.Intake), cfg.Intake.MaxBodyBytes)
	fmt.Fprintf(stdout, "  forward:    timeout %s, backoff %s..%s, concurrency %d\n",
		cfg.Forward.Timeout, cfg.Forward.InitialBackoff, cfg.Forward.MaxBackoff, cfg.Forward.Concurrency)
	fmt.Fprintf(stdout, "  triage:     %s\n", triageSummary(cfg.Triage))
	fmt.Fprintf(stdout, "  enrich:     deadline %s%s%s\n", cfg.Enrich.Deadline, forecastSummary(cfg.Enrich.Forecast), baselineSummary(cfg.Enrich.Baseline))
	fmt.Fprintf(stdout, "  rootcause:  %s\n", rootCauseSummary(cfg))
	fmt.Fprintf(stdout, "  slos:       %s\n", sloSummary(cfg))
	fmt.Fprintf(stdout, "  history:    %s\n", historySummary(cfg.Enrich.History))
	fmt.Fprintf(stdout, "  runbooks:   %d alert name(s), %d cause(s), %d allowed host(s)\n",
		len(cfg.Runbooks.ByAlertname), len(cfg.Runbooks.ByCause), len(cfg.Runbooks.AllowedHosts))
	fmt.Fprintf(stdout, "  watcher:    %s\n", watcherSummary(cfg))
	fmt.Fprintf(stdout, "  storage:    retention %s\n", time.Duration(cfg.Storage.Retention))
	return 0
}

// triageSummary reads "dedup 5m, 2 suppress rule(s), min score 0,
// flapping 0.3/0.15 over 1h, incidents by service within 15m, grace 10m".
func triageSummary(c config.TriageConfig) string {
	s := fmt.Sprintf("dedup %s, %d suppress rule(s), min score %g", c.DedupWindow, len(c.Suppress), c.MinScore)
	if c.Flapping.Enabled {
		s += fmt.Sprintf(", flapping %g/%g over %s", c.Flapping.HighThreshold, c.Flapping.LowThreshold, c.Flapping.Window)
	} else {
		s += ", flap damping off"
	}
	s += fmt.Sprintf(", incidents by service within %s", c.Aggregation.Window)
	if len(c.Aggregation.By) > 0 {
		s += " or by " + strings.Join(c.Aggregation.By, ",")
	}
	return s + fmt.Sprintf(", grace %s", c.Aggregation.GracePeriod)
}

func forecastSummary(c config.ForecastConfig) string {
	if !c.Enabled {
		return "; forecast off"
	}
	return fmt.Sprintf("; forecast %s ahead from %s of history", c.Horizon, c.Lookback)
}

func baselineSummary(c config.BaselineConfig) string {
	if !c.Enabled {
		return "; baseline off"
	}
	return fmt.Sprintf("; baseline from %s at %s", c.Lookback, c.Step)
}

// rootCauseSummary reads "7 signals, 6 causes, 4 services in the static
// topology, graph from metrics, 1 change source(s), from 1h at 30s".
func rootCauseSummary(cfg *config.Config) string {
	c := cfg.Enrich.RootCause
	if !c.Enabled {
		return "off"
	}
	causes, err := c.CauseSignatures()
	if err != nil {
		return err.Error()
	}
	s := fmt.Sprintf("%d signals, %d causes, %d services in the static topology", len(cfg.Signals), len(causes), len(cfg.Topology.Static))
	if cfg.Topology.FromMetrics != nil {
		s += ", graph from metrics"
	}
	return s + fmt.Sprintf(", %d change source(s), from %s at %s", len(cfg.Changes.Prometheus), c.Lookback, c.Step)
}

// sloSummary reads "2 (checkout-availability, checkout-latency), burn
// from the sloth recording rules when present".
func sloSummary(cfg *config.Config) string {
	if len(cfg.SLOs) == 0 {
		return "none"
	}
	names := make([]string, len(cfg.SLOs))
	for i, s := range cfg.SLOs {
		names[i] = s.Name
	}
	s := fmt.Sprintf("%d (%s)", len(names), strings.Join(names, ", "))
	switch {
	case !cfg.Enrich.SLO.Enabled:
		return s + ", enricher off"
	case cfg.Enrich.SLO.RecordingRules:
		return s + fmt.Sprintf(", burn from the %s recording rules when present", cfg.Enrich.SLO.Naming)
	}
	return s + ", burn from the SLOs' queries"
}

func historySummary(c config.HistoryConfig) string {
	if !c.Enabled {
		return "off"
	}
	return fmt.Sprintf("similar incidents from %.2f, top %d, time of day in %s", c.Options.Threshold, c.Options.K, c.Location)
}

func watcherSummary(cfg *config.Config) string {
	w := cfg.Watcher
	if !w.Enabled {
		return "off"
	}
	return fmt.Sprintf("every %s, %s ahead, p ≥ %g, predicted alerts to %s", w.Interval, w.Horizon, w.MinProbability, cfg.Alertmanager.URL.Redacted())
}

func intakeAuth(c config.IntakeConfig) string {
	switch {
	case c.BearerToken != "":
		return "bearer token"
	case c.BasicAuth != nil:
		return "basic auth"
	default:
		return "none"
	}
}

// integrationSummary reads "slack×2, webhook×1", or "no integrations".
func integrationSummary(names []string) string {
	counts := map[string]int{}
	for _, n := range names {
		if i := strings.LastIndexByte(n, '['); i >= 0 {
			n = n[:i]
		}
		counts[n]++
	}
	parts := make([]string, 0, len(counts))
	for name, n := range counts {
		parts = append(parts, fmt.Sprintf("%s×%d", name, n))
	}
	if len(parts) == 0 {
		return "no integrations"
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
