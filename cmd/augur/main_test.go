package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCLI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{
			name: "check a good config",
			args: []string{"check", "config", "../../examples/augur.yml"},
			code: 0,
			stdout: []string{"SUCCESS: ../../examples/augur.yml is valid augur config", "- demo: webhook×1", "enrich:     deadline 2s; forecast 30m ahead from 6h of history; baseline from 4w at 1h",
				"rootcause:  7 signals, 6 causes, 0 services in the static topology, 0 change source(s), from 1h at 30s", "slos:       none",
				"history:    similar incidents from 0.60, top 5, time of day in UTC", "runbooks:   0 alert name(s), 0 cause(s), 0 allowed host(s)", "watcher:    off"},
		},
		{
			name: "check the team example",
			args: []string{"check", "config", "../../examples/augur-team.yml"},
			code: 0,
			stdout: []string{"- team-default: pagerduty×1, slack×1", "intake:     auth bearer token",
				"watcher:    every 1m, 30m ahead, p ≥ 0.8, predicted alerts to http://localhost:9093",
				"triage:     dedup 5m, 1 suppress rule(s), min score 0.2, flapping 0.3/0.15 over 1h, incidents by service within 15m or by dependency, grace 10m"},
		},
		{
			name:   "check a bad config",
			args:   []string{"check", "config", "testdata/bad.yml"},
			code:   1,
			stderr: []string{"FAILED: testdata/bad.yml:", "line 6: forward.timout: unknown field"},
		},
		{
			name:   "check a missing file",
			args:   []string{"check", "config", "testdata/nope.yml"},
			code:   1,
			stderr: []string{"FAILED: read config: open testdata/nope.yml: no such file or directory"},
		},
		{
			name: "replay a recorded storm",
			args: []string{"replay", "--config.file=testdata/replay.yml", "testdata/replay.jsonl"},
			code: 1, // for the invalid last line
			stdout: []string{
				"1     2026-11-28T14:00:00Z  team      {}:{alertname=\"HighErrorRate\"}  2       forwarded ",
				"2     2026-11-28T14:00:01Z  team      {}:{alertname=\"HighErrorRate\"}  2       duplicate ",
				"5     2026-11-28T14:10:00Z  team      {}:{alertname=\"HighErrorRate\"}  2       repeat ",
				"7     2026-11-28T14:21:00Z  team      {}:{alertname=\"Canary\"}         2       suppressed ",
				`error: missing field "alerts"`,
				"7 notifications, 1 invalid lines; 13 alerts received, 5 forwarded (61.5% fewer)",
				"  flapping   0 alerts",
				// Resolved by the clock at the last line, 14:30, once the
				// grace period (10m) after its resolution at 14:20 ended.
				"inc-2026-11-28-0001  P3        checkout: HighErrorRate  2       resolved  5",
				"inc-2026-11-28-0002  P3        db: DiskFull             1       open      1",
			},
		},
		{
			name:   "replay a missing file",
			args:   []string{"replay", "--config.file=testdata/replay.yml", "testdata/nope.jsonl"},
			code:   1,
			stderr: []string{"augur replay: open testdata/nope.jsonl: no such file or directory"},
		},
		{
			name:   "version",
			args:   []string{"version"},
			code:   0,
			stdout: []string{"augur, version", "go version:"},
		},
		{
			name:   "unknown flag",
			args:   []string{"--no.such-flag"},
			code:   2,
			stderr: []string{"unknown long flag '--no.such-flag'"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli(tc.args, &stdout, &stderr)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", &stdout, &stderr)
			for _, s := range tc.stdout {
				require.Contains(t, stdout.String(), s)
			}
			for _, s := range tc.stderr {
				require.Contains(t, stderr.String(), s)
			}
		})
	}
}
