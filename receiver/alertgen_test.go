package receiver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// amAlert is an alert as Alertmanager's webhook carries it: firing while
// endsAt is zero.
func amAlert(labels map[string]string, startsAt, endsAt time.Time) template.Alert {
	a := template.Alert{
		Status:      string(model.AlertFiring),
		Labels:      template.KV(labels),
		Annotations: template.KV{"summary": labels["alertname"] + " on " + labels["instance"]},
		StartsAt:    startsAt,
		Fingerprint: labelSet(template.KV(labels)).Fingerprint().String(),
	}
	if !endsAt.IsZero() {
		a.Status, a.EndsAt = string(model.AlertResolved), endsAt
	}
	return a
}

// amNotification is the webhook payload of a notification of the alert
// group with the given group labels, as Alertmanager sends it.
func amNotification(t testing.TB, receiver string, groupLabels map[string]string, alerts ...template.Alert) []byte {
	t.Helper()
	var pairs []string
	for k, v := range groupLabels {
		pairs = append(pairs, fmt.Sprintf("%s=%q", k, v))
	}
	slices.Sort(pairs)
	msg := webhook.Message{
		Version:  "4",
		GroupKey: "{}:{" + strings.Join(pairs, ", ") + "}",
		Data: &template.Data{
			Receiver:          receiver,
			Status:            string(model.AlertResolved),
			Alerts:            alerts,
			GroupLabels:       template.KV(groupLabels),
			CommonLabels:      template.KV{},
			CommonAnnotations: template.KV{},
			ExternalURL:       "http://alertmanager.example.org:9093",
		},
	}
	for _, a := range alerts {
		if a.Status == string(model.AlertFiring) {
			msg.Status = string(model.AlertFiring)
		}
	}
	b, err := json.Marshal(msg)
	require.NoError(t, err)
	return b
}
