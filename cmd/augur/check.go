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
	fmt.Fprintf(stdout, "  enrich:     deadline %s\n", cfg.Enrich.Deadline)
	fmt.Fprintf(stdout, "  storage:    retention %s\n", time.Duration(cfg.Storage.Retention))
	return 0
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
