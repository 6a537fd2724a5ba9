package receiver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/receiver/triage"
)

// An alert that fires and resolves every five minutes is forwarded until
// it is found flapping; that notification says so, the next changes are
// held, and once it is stable again its final state goes out, saying so.
func TestFlappingAlertDamped(t *testing.T) {
	sink := newWebhookSink(t)
	tr := newTestReceiver(t, sinkConfig(sink.srv.URL, ""))
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	now := t0
	tr.Receiver.now = func() time.Time { return now }

	labels := map[string]string{"alertname": "QueueBacklog", "service": "billing", "instance": "billing-1", "severity": "warning"}
	group := map[string]string{"alertname": "QueueBacklog"}
	var decisions []triage.Decision
	for min := 0; min <= 40; min += 5 {
		now = at(min)
		// Firing from each tenth minute, resolved five minutes later.
		a := amAlert(labels, at(min-min%10), time.Time{})
		if min%10 == 5 {
			a = amAlert(labels, at(min-5), at(min))
		}
		res, err := tr.Replay(ctx, amNotification(t, "team", group, a), now)
		require.NoError(t, err)
		decisions = append(decisions, res.Decision)
	}
	f, h := triage.Forward, triage.Flapping
	// Changes at 0..25 fill six of the twenty weighted samples: 0.337, at
	// or above the high threshold 0.3, from minute 25 (0.285 at minute 20).
	require.Equal(t, []triage.Decision{f, f, f, f, f, f, h, h, h}, decisions)
	require.Equal(t, 3.0, testutil.ToFloat64(tr.metrics.triage.WithLabelValues("flapping")))

	// Quiet from minute 40, still firing. At minute 85 the changes at 25,
	// 30, 35 and 40 weigh 0.169, at or above the low threshold 0.15; at 86
	// the one at 25 has left the window: 0.128, stable.
	settledAt := -1
	for min := 41; min <= 120 && settledAt < 0; min++ {
		now = at(min)
		settled, err := tr.ReplayClock(ctx, now)
		require.NoError(t, err)
		if len(settled) > 0 {
			require.Len(t, settled, 1)
			require.Equal(t, triage.Forward, settled[0].Decision)
			settledAt = min
		}
	}
	require.Equal(t, 86, settledAt)

	tr.run(t)
	waitFor(t, func() bool { return len(sink.messages()) == 7 }, "six notifications before the flapping damped, and the final state")
	got := sink.messages()
	flapping := got[5].Alerts[0]
	require.Equal(t, "resolved", flapping.Status)
	require.True(t, strings.HasPrefix(flapping.Annotations[AnnotationFlapping], "flapping: changed state in 34% of the last 1h;"), flapping.Annotations[AnnotationFlapping])
	require.Contains(t, flapping.Annotations[AnnotationEnrichment], `"flapping":{"state":"flapping","rate":0.33`)
	require.Contains(t, flapping.Annotations[AnnotationEnrichment], `"score_parts":{"agreement":0,"flapping":0.33`)
	final := got[6].Alerts[0]
	require.Equal(t, "firing", final.Status, "its final state")
	require.Equal(t, at(40), final.StartsAt.UTC())
	require.Equal(t, "stable again after flapping; this is its state now", final.Annotations[AnnotationFlapping])
	for _, m := range got[:5] {
		require.NotContains(t, m.Alerts[0].Annotations, AnnotationFlapping)
	}
}

// With flap damping disabled every change goes out, and alerts found
// flapping before are settled by the next sweep.
func TestFlapDampingDisabled(t *testing.T) {
	tr := newTestReceiver(t, sinkConfig("http://127.0.0.1:1/", "")+"triage: {flapping: {enabled: false}}\n")
	ctx := context.Background()
	labels := map[string]string{"alertname": "QueueBacklog", "instance": "billing-1"}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for min := 0; min <= 60; min += 5 {
		at := t0.Add(time.Duration(min) * time.Minute)
		a := amAlert(labels, at, time.Time{})
		if min%10 == 5 {
			a = amAlert(labels, at.Add(-5*time.Minute), at)
		}
		res, err := tr.Replay(ctx, amNotification(t, "team", labels, a), at)
		require.NoError(t, err)
		require.Equal(t, triage.Forward, res.Decision, "minute %d", min)
	}
}
