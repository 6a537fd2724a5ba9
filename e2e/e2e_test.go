package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var incidentID = regexp.MustCompile(`^inc-\d{4}-\d{2}-\d{2}-\d{4}$`)

const pagerDutyRoutingKey = "e2e0routing0key0e2e0routing0key0" // 32 characters, as PagerDuty requires.

// recorded keeps what a stand-in accepted and why it refused the rest.
type recorded[T any] struct {
	mu      sync.Mutex
	items   []T
	refused []string
}

func (r *recorded[T]) accept(item T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, item)
}

func (r *recorded[T]) refuse(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused = append(r.refused, why)
}

// first waits for the first accepted item and checks that nothing was
// refused.
func (r *recorded[T]) first(t *testing.T, what string) T {
	t.Helper()
	eventually(t, 30*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.items) > 0
	}, "%s received nothing", what)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Empty(t, r.refused, "%s refused payloads", what)
	return r.items[0]
}

// slackAPI stands in for a Slack incoming webhook: it accepts what Slack
// accepts (JSON with attachments that each have fallback text) and answers
// "ok" as Slack does.
type slackAPI struct{ recorded[slackMessage] }

type slackMessage struct {
	Channel     string `json:"channel"`
	Username    string `json:"username"`
	Attachments []struct {
		Title    string `json:"title"`
		Text     string `json:"text"`
		Fallback string `json:"fallback"`
		Color    string `json:"color"`
	} `json:"attachments"`
}

func (s *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m slackMessage
	err := json.NewDecoder(r.Body).Decode(&m)
	switch {
	case err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		s.refuse(fmt.Sprintf("invalid_payload: %v", err))
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	case len(m.Attachments) == 0 || m.Attachments[0].Fallback == "":
		s.refuse("no_text: attachments without fallback")
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	s.accept(m)
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte("ok")) //nolint:errcheck
}

// pagerDutyAPI stands in for PagerDuty's Events API v2 (/v2/enqueue): it
// checks the fields PagerDuty requires and answers 202 with a dedup_key.
type pagerDutyAPI struct{ recorded[pagerDutyEvent] }

type pagerDutyEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
}

func (p *pagerDutyAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e pagerDutyEvent
	err := json.NewDecoder(r.Body).Decode(&e)
	var problems []string
	switch {
	case r.URL.Path != "/v2/enqueue":
		problems = append(problems, "unknown path "+r.URL.Path)
	case err != nil:
		problems = append(problems, "malformed JSON: "+err.Error())
	default:
		if len(e.RoutingKey) != 32 {
			problems = append(problems, "'routing_key' must be 32 characters")
		}
		if e.EventAction != "trigger" && e.EventAction != "acknowledge" && e.EventAction != "resolve" {
			problems = append(problems, "'event_action' is invalid")
		}
		if e.EventAction == "trigger" {
			switch {
			case e.Payload == nil:
				problems = append(problems, "'payload' is missing")
			case e.Payload.Summary == "" || len(e.Payload.Summary) > 1024:
				problems = append(problems, "'payload.summary' is missing or too long")
			case e.Payload.Source == "":
				problems = append(problems, "'payload.source' is missing")
			case !map[string]bool{"critical": true, "error": true, "warning": true, "info": true}[e.Payload.Severity]:
				problems = append(problems, "'payload.severity' is invalid")
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if len(problems) > 0 {
		p.refuse(strings.Join(problems, "; "))
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems}) //nolint:errcheck
		return
	}
	p.accept(e)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": e.DedupKey}) //nolint:errcheck
}

// TestPrometheusAlertReachesReceiversEnriched runs the whole chain: a rule
// in the real Prometheus fires, the real Alertmanager routes it by webhook
// to augur, and augur forwards it through Alertmanager's webhook, Slack and
// PagerDuty integrations to stand-ins that check the payloads.
func TestPrometheusAlertReachesReceiversEnriched(t *testing.T) {
	hook := newSink(t, 0)
	slack := &slackAPI{}
	slackSrv := httptest.NewServer(slack)
	t.Cleanup(slackSrv.Close)
	pd := &pagerDutyAPI{}
	pdSrv := httptest.NewServer(pd)
	t.Cleanup(pdSrv.Close)

	a := startAugur(t, fmt.Sprintf(`
receivers:
  - name: team
    webhook_configs:
      - url: %s
    slack_configs:
      - api_url: %s
        channel: '#e2e'
    pagerduty_configs:
      - routing_key: %s
        url: %s/v2/enqueue
forward:
  initial_backoff: 100ms
  max_backoff: 1s
`, hook.srv.URL, slackSrv.URL, pagerDutyRoutingKey, pdSrv.URL))
	_, amURL := startAlertmanager(t, a.url("/api/v1/webhook/team"))

	dir := t.TempDir()
	rules := writeFile(t, dir, "rules.yml", `
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: E2EAlwaysFiring
        expr: vector(1) > 0
        labels:
          severity: page
          service: checkout
        annotations:
          summary: always firing
`)
	promPort := freePort(t)
	startPrometheus(t, dir, promPort, fmt.Sprintf(`
global:
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
`, rules, strings.TrimPrefix(amURL, "http://")))

	eventually(t, 90*time.Second, func() bool { return hook.firing()["E2EAlwaysFiring"] > 0 },
		"the webhook sink did not receive E2EAlwaysFiring")

	messages, refused, _ := hook.snapshot()
	require.Empty(t, refused)
	m := messages[0]
	require.Equal(t, "team", m.Receiver)
	require.Equal(t, `{}:{alertname="E2EAlwaysFiring"}`, m.GroupKey, "augur forwards Alertmanager's own group key")
	got := m.Alerts[0]
	require.Equal(t, map[string]string{"alertname": "E2EAlwaysFiring", "severity": "page", "service": "checkout"}, got.Labels,
		"the original labels, no more and no fewer")
	require.Equal(t, "always firing", got.Annotations["summary"])
	require.Regexp(t, incidentID, got.Annotations["augur_incident"])
	var enrichment struct {
		Version    int    `json:"version"`
		IncidentID string `json:"incident_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.Annotations["augur_enrichment"]), &enrichment))
	require.Equal(t, 1, enrichment.Version)
	require.Equal(t, got.Annotations["augur_incident"], enrichment.IncidentID)

	sm := slack.first(t, "the Slack stand-in")
	require.Equal(t, "#e2e", sm.Channel)
	require.Contains(t, sm.Attachments[0].Title, "E2EAlwaysFiring")
	require.Contains(t, sm.Attachments[0].Text, ":link: "+enrichment.IncidentID, "augur's Slack block under the title")
	require.NotContains(t, sm.Attachments[0].Text, "augur_enrichment", "the raw JSON stays out of the message")

	ev := pd.first(t, "the PagerDuty stand-in")
	require.Equal(t, "trigger", ev.EventAction)
	require.Contains(t, ev.Payload.Summary, "E2EAlwaysFiring")
	details, err := json.Marshal(ev.Payload.CustomDetails["augur"])
	require.NoError(t, err)
	var augurDetails []struct {
		Alertname  string `json:"alertname"`
		Incident   string `json:"incident"`
		Enrichment struct {
			Version    int    `json:"version"`
			IncidentID string `json:"incident_id"`
		} `json:"enrichment"`
	}
	require.NoError(t, json.Unmarshal(details, &augurDetails), "custom_details.augur: %s", details)
	require.Len(t, augurDetails, 1)
	require.Equal(t, "E2EAlwaysFiring", augurDetails[0].Alertname)
	require.Equal(t, enrichment.IncidentID, augurDetails[0].Incident)
	require.Equal(t, 1, augurDetails[0].Enrichment.Version, "the enrichment as structured JSON")
	require.Equal(t, enrichment.IncidentID, augurDetails[0].Enrichment.IncidentID)

	eventually(t, 10*time.Second, func() bool {
		return a.metric(t, `augur_notifications_forwarded_total{integration="slack",receiver="team",result="delivered"}`) >= 1
	}, "the Slack delivery is not counted")
	for _, integ := range []string{"webhook", "slack", "pagerduty"} {
		require.Equal(t, 0.0, a.metric(t, `augur_notifications_forwarded_total{integration="`+integ+`",receiver="team",result="failed"}`))
	}
}

// TestNoAlertLostWhenAugurIsKilled kills augur with SIGKILL while
// Alertmanager is sending it alerts and a slow receiver keeps an outbox
// backlog, restarts it, and checks that every alert reached the receiver.
func TestNoAlertLostWhenAugurIsKilled(t *testing.T) {
	hook := newSink(t, 20*time.Millisecond)
	a := startAugur(t, forwardingTo(hook, "max_backoff: 1s\n  concurrency: 2"))
	_, amURL := startAlertmanager(t, a.url("/api/v1/webhook/team"))

	const total = 300
	var names []string
	for i := range total {
		names = append(names, fmt.Sprintf("E2EKill%03d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		// 10 alerts every 50ms: 1.5s of traffic, with augur killed in the middle.
		for i := 0; i < total; i += 10 {
			if err := postAlerts(ctx, amURL, names[i:i+10]...); err != nil {
				sent <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		sent <- nil
	}()

	eventually(t, 30*time.Second, func() bool { return len(hook.firing()) >= 20 }, "augur forwarded fewer than 20 alerts before the kill")
	backlog := a.metric(t, "augur_outbox_depth")
	a.kill()
	forwardedAtKill := len(hook.firing())
	time.Sleep(500 * time.Millisecond)
	a.restart(t)
	require.NoError(t, <-sent)

	eventually(t, 90*time.Second, func() bool { return len(hook.firing()) == total }, "not every alert was delivered: %s", missing(hook.firing(), names))
	duplicates := 0
	for _, n := range hook.firing() {
		duplicates += n - 1
	}
	_, refused, _ := hook.snapshot()
	require.Empty(t, refused)
	t.Logf("killed with %d alerts forwarded and an outbox of %.0f; after restart all %d delivered, %d duplicates (at-least-once)",
		forwardedAtKill, backlog, total, duplicates)
}

// TestDeliveryRetriedUntilReceiverRecovers sends alerts while the receiver
// answers 503, then lets it recover: every alert arrives, and the retries
// are visible in augur's metrics.
func TestDeliveryRetriedUntilReceiverRecovers(t *testing.T) {
	hook := newSink(t, 0)
	hook.setFailing(true)
	a := startAugur(t, forwardingTo(hook, "max_backoff: 500ms"))
	_, amURL := startAlertmanager(t, a.url("/api/v1/webhook/team"))

	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("E2ERetry%02d", i))
	}
	require.NoError(t, postAlerts(context.Background(), amURL, names...))
	eventually(t, 30*time.Second, func() bool {
		_, _, failures := hook.snapshot()
		return failures >= 3*len(names)
	}, "the receiver was not retried while failing")
	require.Empty(t, hook.firing(), "nothing can have been delivered while the receiver failed")
	require.Positive(t, a.metric(t, `augur_notification_retries_total{integration="webhook",receiver="team"}`))

	hook.setFailing(false)
	eventually(t, 30*time.Second, func() bool { return len(hook.firing()) == len(names) }, "not every alert was delivered: %s", missing(hook.firing(), names))
	eventually(t, 10*time.Second, func() bool { return a.metric(t, "augur_outbox_depth") == 0 }, "the outbox did not drain")
	require.Equal(t, 0.0, a.metric(t, `augur_notifications_forwarded_total{integration="webhook",receiver="team",result="failed"}`))
}

// forwardingTo is an augur config whose receiver "team" forwards to the
// sink, retrying from 100ms on; forward holds more forward settings.
func forwardingTo(s *sink, forward string) string {
	return fmt.Sprintf("receivers:\n  - name: team\n    webhook_configs:\n      - url: %s\nforward:\n  initial_backoff: 100ms\n  %s\n", s.srv.URL, forward)
}

func missing(got map[string]int, want []string) string {
	var out []string
	for _, n := range want {
		if got[n] == 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return fmt.Sprintf("%d missing: %v", len(out), out)
}
