package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/slo"
	"github.com/augur-sre/augur/querier"
)

// sloStatusOptions are the flags of `augur slo status`.
type sloStatusOptions struct {
	configFile  string
	configNamed bool
	output      string
}

// sloStatusWindows are the windows the table shows.
var sloStatusWindows = []time.Duration{5 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}

// sloStatus prints, for every SLO of the config, its burn rate per
// window, the budget left, the time to exhaustion and the alert tiers
// that would fire, read from Prometheus now.
func sloStatus(o sloStatusOptions, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(err error) int {
		fmt.Fprintf(stderr, "augur slo status: %s\n", err)
		return 1
	}
	if o.output != "table" && o.output != "json" {
		fmt.Fprintf(stderr, "augur slo status: --output %q: want table or json\n", o.output)
		return 2
	}
	cfg, err := loadConfig(o.configFile, o.configNamed, logger)
	if err != nil {
		return fail(err)
	}
	if len(cfg.SLOs) == 0 {
		return fail(errors.New("no SLOs in the config: add them under slos or slo_files"))
	}
	q, err := querier.New(cfg.Prometheus, querier.NewMetrics(prometheus.NewRegistry()), logger)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	now := time.Now()
	type row struct {
		enrich.SLO
		Service   string   `json:"service,omitempty"`
		Objective float64  `json:"objective"`
		Firing    []string `json:"firing"`
	}
	var rows []row
	for i := range cfg.SLOs {
		s := &cfg.SLOs[i]
		st, err := slo.Evaluate(ctx, q, s, cfg.Enrich.SLO.Naming, cfg.Enrich.SLO.RecordingRules, now)
		if err != nil {
			return fail(err)
		}
		r := row{SLO: st.Part(), Service: s.Service, Objective: s.Objective, Firing: []string{}}
		for _, w := range st.Firing {
			r.Firing = append(r.Firing, fmt.Sprintf("%s %sx (%s & %s)", w.Severity, enrich.Number(w.Factor), model.Duration(w.Short), model.Duration(w.Long)))
		}
		rows = append(rows, r)
	}
	if o.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return fail(err)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	header := []string{"SLO", "SERVICE", "OBJECTIVE"}
	for _, w := range sloStatusWindows {
		header = append(header, "BURN "+model.Duration(w).String())
	}
	fmt.Fprintln(tw, strings.Join(append(header, "BUDGET LEFT", "EXHAUSTED IN", "SEVERITY", "WOULD FIRE"), "\t"))
	for _, r := range rows {
		cells := []string{r.Name, r.Service, enrich.Number(r.Objective) + "%"}
		for _, w := range sloStatusWindows {
			cell := "-"
			if b, ok := r.BurnRates[model.Duration(w).String()]; ok {
				cell = enrich.Number(b) + "x"
			}
			cells = append(cells, cell)
		}
		left, exhausted := "-", "-"
		if r.BudgetRemaining != nil {
			left = fmt.Sprintf("%.1f%%", 100**r.BudgetRemaining)
		}
		if r.TimeToExhaustionSeconds != nil {
			exhausted = enrich.Approx(time.Duration(*r.TimeToExhaustionSeconds * float64(time.Second)))
		}
		firing := strings.Join(r.Firing, ", ")
		if firing == "" {
			firing = "none"
		}
		fmt.Fprintln(tw, strings.Join(append(cells, left, exhausted, r.Severity, firing), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fail(err)
	}
	return 0
}
