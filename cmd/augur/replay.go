package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/querier"
	"github.com/augur-sre/augur/receiver"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

// maxReplayLine bounds one recorded notification.
const maxReplayLine = 64 << 20

// replay runs recorded webhook payloads (JSON lines, oldest first) through
// triage and enrichment with the given config, on a throw-away store, and
// prints each decision and the incidents formed. Nothing is forwarded. A
// line may carry "received_at" (RFC 3339), when augur got it; without it a
// line counts as received one second after the one before.
func replay(file string, configFile string, configNamed bool, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(err error) int {
		fmt.Fprintf(stderr, "augur replay: %s\n", err)
		return 1
	}
	cfg, err := loadConfig(configFile, configNamed, logger)
	if err != nil {
		return fail(err)
	}
	in, err := os.Open(file)
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	dir, err := os.MkdirTemp("", "augur-replay")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(dir)
	if err != nil {
		return fail(err)
	}
	defer st.Close()

	var now time.Time
	reg := prometheus.NewRegistry()
	rcv := receiver.New(receiver.Options{Store: st, Registry: reg, Logger: logger, Now: func() time.Time { return now }})
	if _, err := applyConfig(rcv, cfg, enrich.NewMetrics(reg), querier.NewMetrics(reg), func() time.Time { return now }, logger); err != nil {
		return fail(err)
	}

	ctx := context.Background()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tRECEIVED\tRECEIVER\tGROUP\tALERTS\tDECISION\tINCIDENT")
	var (
		lines, invalid, alerts, forwarded int
		byDecision                        = map[triage.Decision]int{}
	)
	// tally counts a result's alerts by decision and describes it.
	tally := func(res receiver.Triaged) string {
		alerts += res.Alerts
		decision := string(res.Decision)
		switch res.Decision {
		case triage.Duplicate, triage.Repeat:
			byDecision[res.Decision] += res.Alerts
			return decision
		}
		held := 0
		var parts []string
		for _, d := range triage.Decisions() {
			if c := res.Held[d]; c > 0 {
				byDecision[d] += c
				held += c
				parts = append(parts, fmt.Sprintf("%d %s", c, d))
			}
		}
		byDecision[triage.Forward] += res.Alerts - held
		forwarded += res.Alerts - held
		if res.Decision == triage.Forward && held > 0 {
			decision = fmt.Sprintf("forwarded (%s)", strings.Join(parts, ", "))
		}
		return decision
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxReplayLine)
	for sc.Scan() {
		lines++
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var meta struct {
			ReceivedAt time.Time `json:"received_at"`
			Receiver   string    `json:"receiver"`
			GroupKey   string    `json:"groupKey"`
		}
		_ = json.Unmarshal(line, &meta) //nolint:errcheck // Replay reports what is wrong with the line.
		switch {
		case !meta.ReceivedAt.IsZero():
			now = meta.ReceivedAt
		case now.IsZero():
			now = time.Now()
		default:
			now = now.Add(time.Second)
		}
		settled, err := rcv.ReplayClock(ctx, now)
		if err != nil {
			return fail(err)
		}
		for _, res := range settled {
			tally(res)
			fmt.Fprintf(tw, "-\t%s\t\t\t%d\t%s (final state after flapping)\t%s\n", now.UTC().Format(time.RFC3339), res.Alerts, res.Decision, res.Incident)
		}
		res, err := rcv.Replay(ctx, line, now)
		if err != nil {
			invalid++
			fmt.Fprintf(tw, "%d\t%s\t\t\t\terror: %s\t\n", lines, now.UTC().Format(time.RFC3339), err)
			continue
		}
		decision := tally(res)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", lines, now.UTC().Format(time.RFC3339), meta.Receiver, meta.GroupKey, res.Alerts, decision, res.Incident)
	}
	if err := sc.Err(); err != nil {
		return fail(fmt.Errorf("read %s: %w", file, err))
	}
	if err := tw.Flush(); err != nil {
		return fail(err)
	}

	fmt.Fprintf(stdout, "\n%d notifications, %d invalid lines; %d alerts received, %d forwarded", lines-invalid, invalid, alerts, forwarded)
	if alerts > 0 {
		fmt.Fprintf(stdout, " (%.1f%% fewer)", 100*float64(alerts-forwarded)/float64(alerts))
	}
	fmt.Fprintln(stdout)
	for _, d := range triage.Decisions() {
		fmt.Fprintf(stdout, "  %-10s %d alerts\n", d, byDecision[d])
	}
	incidents, err := st.Incidents(ctx, store.IncidentFilter{Limit: 1 << 30})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "\n%d incidents\n", len(incidents))
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INCIDENT\tPRIORITY\tTITLE\tALERTS\tSTATE\tNOTIFICATIONS")
	for i := len(incidents) - 1; i >= 0; i-- {
		inc := incidents[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\n", inc.ID, inc.Priority, inc.Title, inc.Alerts, inc.State(), inc.Notifications)
	}
	if err := tw.Flush(); err != nil {
		return fail(err)
	}
	if invalid > 0 {
		return 1
	}
	return 0
}
