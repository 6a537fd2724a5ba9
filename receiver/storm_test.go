package receiver

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/receiver/store"
)

// The alert-storm evaluation. An Alertmanager pair is simulated over four
// hours with known ground truth: five real problems, each a burst of alerts
// over services and instances (one of them an alert that flaps), plus noise
// that should never reach anyone: an info-level stream and alerts from a
// service in its maintenance window. Both Alertmanager peers send every
// notification (HA duplicates), and groups repeat hourly.

// stormAlert is one alert of the storm: its labels and when it fires.
type stormAlert struct {
	labels    map[string]string
	intervals [][2]time.Duration // from the storm's start
}

// stormProblem is a real problem, or noise when notify is false.
type stormProblem struct {
	name   string
	notify bool
	alerts []stormAlert
}

func burst(alertname, service, severity string, instances int, start, stagger, end time.Duration) []stormAlert {
	var out []stormAlert
	for i := range instances {
		out = append(out, stormAlert{
			labels: map[string]string{"alertname": alertname, "service": service, "severity": severity,
				"instance": fmt.Sprintf("%s-%d:8080", service, i)},
			intervals: [][2]time.Duration{{start + time.Duration(i)*stagger, end - time.Duration(i)*stagger/2}},
		})
	}
	return out
}

func stormProblems() []stormProblem {
	m := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	flap := stormAlert{labels: map[string]string{"alertname": "ReplicaLag", "service": "cache", "severity": "warning", "instance": "cache-0:6379"}}
	for start := m(0); start < m(90); start += m(10) {
		flap.intervals = append(flap.intervals, [2]time.Duration{start, start + m(5)})
	}
	var info []stormAlert
	for start, i := m(3), 0; start < m(230); start, i = start+m(10), i+1 {
		info = append(info, stormAlert{
			labels:    map[string]string{"alertname": "ConfigReloaded", "service": "batch", "severity": "info", "instance": fmt.Sprintf("batch-%d:9100", i)},
			intervals: [][2]time.Duration{{start, start + m(5)}},
		})
	}
	return []stormProblem{
		{name: "checkout outage", notify: true, alerts: slices.Concat(
			burst("HighErrorRate", "checkout", "critical", 8, m(10), m(1), m(70)),
			burst("HighLatency", "checkout", "warning", 8, m(11), m(1), m(70)),
			burst("PodRestarts", "checkout", "warning", 4, m(12), m(2), m(60)))},
		{name: "payment database saturated", notify: true, alerts: slices.Concat(
			burst("DBConnectionsHigh", "payment-db", "critical", 3, m(30), m(2), m(120)),
			burst("HighLatency", "payment", "warning", 6, m(32), m(1), m(118)),
			burst("QueueBacklog", "payment", "warning", 4, m(35), m(3), m(115)))},
		{name: "logging disks filling", notify: true, alerts: burst("DiskWillFill", "logging", "warning", 12, m(90), m(4), m(210))},
		{name: "frontend 5xx", notify: true, alerts: burst("HighErrorRate", "frontend", "critical", 10, m(180), m(1), m(220))},
		{name: "cache replica flapping", notify: true, alerts: []stormAlert{flap}},
		{name: "search reindex in its maintenance window", alerts: burst("SearchIndexLag", "search", "critical", 5, m(130), m(2), m(170))},
		{name: "info stream", alerts: info},
	}
}

// stormNotification is one webhook notification from one peer.
type stormNotification struct {
	at      time.Time
	payload []byte
	alerts  int
}

// simulateAlertmanager turns the alerts' intervals into the notifications
// of an Alertmanager pair grouping by alertname and service with
// group_wait 30s, group_interval 5m and repeat_interval 1h, each peer
// sending each notification (the second two seconds later).
func simulateAlertmanager(t *testing.T, start time.Time, problems []stormProblem, end time.Duration) []stormNotification {
	type groupState struct {
		labels   map[string]string
		alerts   []stormAlert
		first    time.Duration // when it first had a firing alert
		lastSent time.Duration
		sent     bool
		lastSig  string
		// notified: what the last notification said of each alert.
		notified map[string]template.Alert
	}
	groups := map[string]*groupState{}
	for _, p := range problems {
		for _, a := range p.alerts {
			key := a.labels["alertname"] + "/" + a.labels["service"]
			g, ok := groups[key]
			if !ok {
				g = &groupState{labels: map[string]string{"alertname": a.labels["alertname"], "service": a.labels["service"]}, first: -1, notified: map[string]template.Alert{}}
				groups[key] = g
			}
			g.alerts = append(g.alerts, a)
		}
	}
	const (
		groupWait      = 30 * time.Second
		groupInterval  = 5 * time.Minute
		repeatInterval = time.Hour
	)
	var out []stormNotification
	for now := time.Duration(0); now <= end; now += 30 * time.Second {
		for _, key := range slices.Sorted(maps.Keys(groups)) {
			g := groups[key]
			var alerts []template.Alert
			var sig []string
			for _, a := range g.alerts {
				fp := labelSet(template.KV(a.labels)).Fingerprint().String()
				var cur *template.Alert
				for _, iv := range a.intervals {
					switch {
					case now >= iv[0] && now < iv[1]:
						al := amAlert(a.labels, start.Add(iv[0]), time.Time{})
						cur = &al
					case now >= iv[1]:
						al := amAlert(a.labels, start.Add(iv[0]), start.Add(iv[1]))
						cur = &al
					}
				}
				if cur == nil {
					continue
				}
				// A resolved alert is in the group until one notification
				// said it resolved.
				if prev, ok := g.notified[fp]; cur.Status == "resolved" && (!ok || (prev.Status == "resolved" && prev.StartsAt.Equal(cur.StartsAt))) {
					continue
				}
				alerts = append(alerts, *cur)
				sig = append(sig, fp+cur.Status+cur.StartsAt.String())
			}
			if len(alerts) == 0 {
				continue
			}
			if g.first < 0 {
				g.first = now
			}
			s := strings.Join(sig, ",")
			due := false
			switch {
			case !g.sent:
				due = now >= g.first+groupWait
			case now-g.lastSent >= groupInterval && s != g.lastSig:
				due = true
			case now-g.lastSent >= repeatInterval:
				due = true
			}
			if !due {
				continue
			}
			payload := amNotification(t, "team", g.labels, alerts...)
			for peer := range 2 {
				out = append(out, stormNotification{at: start.Add(now + time.Duration(peer)*2*time.Second), payload: payload, alerts: len(alerts)})
			}
			g.sent, g.lastSent, g.lastSig = true, now, s
			for _, a := range alerts {
				g.notified[a.Fingerprint] = a
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

func TestAlertStorm(t *testing.T) {
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	const end = 4 * time.Hour
	problems := stormProblems()
	notifications := simulateAlertmanager(t, start, problems, end)

	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, "")+`
triage:
  dedup_window: 5m
  min_score: 0.3
  time_intervals:
    - name: search-maintenance
      time_intervals:
        - times: [{start_time: "02:00", end_time: "03:00"}]
  suppress:
    - name: search-maintenance
      matchers: ['service="search"']
      time_intervals: [search-maintenance]
`)
	ctx := context.Background()
	now := start
	tr.Receiver.now = func() time.Time { return now }
	received := 0
	for _, n := range notifications {
		now = n.at
		_, err := tr.ReplayClock(ctx, now)
		require.NoError(t, err)
		_, err = tr.Replay(ctx, n.payload, now)
		require.NoError(t, err)
		received += n.alerts
	}
	// Two more hours for flapping alerts to settle and incidents to resolve.
	for now.Before(start.Add(end + 2*time.Hour)) {
		now = now.Add(time.Minute)
		_, err := tr.ReplayClock(ctx, now)
		require.NoError(t, err)
	}
	tr.run(t)
	queued := 0
	rows, err := tr.store.Incidents(ctx, store.IncidentFilter{Limit: 1 << 20})
	require.NoError(t, err)
	for _, inc := range rows {
		rec, err := tr.store.IncidentByID(ctx, inc.ID)
		require.NoError(t, err)
		for _, n := range rec.Notifications {
			queued += len(n.Deliveries)
		}
	}
	waitFor(t, func() bool { return len(sink.messages()) == queued }, "every queued notification delivered")
	delivered := sink.messages()

	// Which problem each alert belongs to, by fingerprint.
	problemOf := map[string]int{}
	for i, p := range problems {
		for _, a := range p.alerts {
			problemOf[labelSet(template.KV(a.labels)).Fingerprint().String()] = i
		}
	}
	perProblem := make([]int, len(problems))
	firingSent := map[string]bool{}
	resolvedSent := map[string]bool{}
	for _, m := range delivered {
		seen := map[int]bool{}
		for _, a := range m.Alerts {
			fp := labelSet(a.Labels).Fingerprint().String()
			seen[problemOf[fp]] = true
			if a.Status == "firing" {
				firingSent[fp], resolvedSent[fp] = true, false
			} else {
				resolvedSent[fp] = true
			}
		}
		for p := range seen {
			perProblem[p]++
		}
	}
	incidents := make([]map[string]bool, len(problems))
	for _, inc := range rows {
		rec, err := tr.store.IncidentByID(ctx, inc.ID)
		require.NoError(t, err)
		for _, a := range rec.AlertList {
			p := problemOf[a.Fingerprint]
			if incidents[p] == nil {
				incidents[p] = map[string]bool{}
			}
			incidents[p][inc.ID] = true
		}
		require.Equal(t, "resolved", inc.State(), "incident %s: %s", inc.ID, inc.Title)
	}

	real := 0
	for i, p := range problems {
		t.Logf("%-42s notify=%-5v alerts=%-3d notifications=%-3d incidents=%d", p.name, p.notify, len(p.alerts), perProblem[i], len(incidents[i]))
		if !p.notify {
			require.Zero(t, perProblem[i], "%s reached someone", p.name)
			continue
		}
		real++
		require.NotZero(t, perProblem[i], "%s was never notified", p.name)
		for _, a := range p.alerts {
			fp := labelSet(template.KV(a.labels)).Fingerprint().String()
			if firingSent[fp] {
				require.True(t, resolvedSent[fp], "%s: %v was forwarded firing, its resolution never", p.name, a.labels)
			}
		}
	}
	reduction := 1 - float64(len(delivered))/float64(received)
	t.Logf("%d notifications from the Alertmanager pair carrying %d alerts; %d forwarded for %d real problems (%.1f per problem); reduction %.1f%%",
		len(notifications), received, len(delivered), real, float64(len(delivered))/float64(real), 100*reduction)
	t.Logf("triage decisions (alerts): forwarded %.0f, duplicate %.0f, repeat %.0f, suppressed %.0f, low_score %.0f, flapping %.0f",
		decided(tr, "forwarded"), decided(tr, "duplicate"), decided(tr, "repeat"), decided(tr, "suppressed"), decided(tr, "low_score"), decided(tr, "flapping"))
	require.GreaterOrEqual(t, reduction, 0.9)
	require.NotZero(t, decided(tr, "flapping"), "the flapping alert was damped")
	require.NotZero(t, decided(tr, "suppressed"), "the maintenance window suppressed")
	require.NotZero(t, decided(tr, "low_score"), "the info stream held back")
}

func decided(tr *testReceiver, decision string) float64 {
	return testutil.ToFloat64(tr.metrics.triage.WithLabelValues(decision))
}
