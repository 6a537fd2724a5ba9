package receiver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecodeAcceptsAlertmanagerPayloads(t *testing.T) {
	for _, tc := range []struct {
		name, body string
	}{
		{name: "v0.28 (no notification_reason, no routeLabels)", body: validPayload(t)},
		{name: "v0.35 (with notification_reason and routeLabels)", body: strings.Replace(validPayload(t), `"receiver": "team",`,
			`"receiver": "team", "notification_reason": "first notification", "routeLabels": {"team": "checkout"},`, 1)},
		{name: "unknown fields from a future version", body: strings.Replace(validPayload(t), `"receiver": "team",`, `"receiver": "team", "newField": {"x": 1},`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := Decode([]byte(tc.body))
			require.NoError(t, err)
			require.Equal(t, "team", msg.Receiver)
			require.Len(t, msg.Alerts, 2)
			require.Equal(t, "checkout-1:8080", msg.Alerts[0].Labels["instance"])
		})
	}
	msg, err := Decode([]byte(strings.Replace(validPayload(t), `"receiver": "team",`,
		`"receiver": "team", "notification_reason": "new alerts added",`, 1)))
	require.NoError(t, err)
	require.Equal(t, "new alerts added", parseReason(msg.NotificationReason).String())
	require.Equal(t, "unknown", parseReason("").String())
}

func FuzzDecode(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"resolved","alerts":[{"status":"resolved","labels":{"a":"b"},"startsAt":"2026-11-28T14:02:00Z","endsAt":"2026-11-28T14:03:00Z"}]}`))
	f.Add([]byte(`{"version":"4"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := Decode(body)
		if err != nil {
			require.Nil(t, msg)
			return
		}
		// What Decode accepts is a valid v4 notification, and stays one
		// through the encoding augur stores for delivery.
		require.Equal(t, "4", msg.Version)
		require.NotEmpty(t, msg.GroupKey)
		require.NotEmpty(t, msg.Alerts)
		for _, a := range msg.Alerts {
			require.NotEmpty(t, a.Labels)
			require.False(t, a.StartsAt.IsZero())
		}
		b, err := json.Marshal(msg)
		require.NoError(t, err)
		again, err := Decode(b)
		require.NoError(t, err)
		require.Len(t, again.Alerts, len(msg.Alerts))
		for i := range again.Alerts {
			require.Equal(t, labelSet(msg.Alerts[i].Labels), labelSet(again.Alerts[i].Labels))
		}
	})
}

// payload returns a webhook body for alert group g with n alerts, about
// 550 bytes each.
func payload(g, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"version":"4","groupKey":"{}:{alertname=\"Load%d\"}","status":"firing","receiver":"team",`+
		`"groupLabels":{"alertname":"Load"},"commonLabels":{"alertname":"Load"},"commonAnnotations":{},`+
		`"externalURL":"http://alertmanager:9093","truncatedAlerts":0,"alerts":[`, g)
	start := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC).Format(time.RFC3339)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"Load","service":"svc-%d","instance":"10.0.%d.%d:9100","job":"node","severity":"warning"},`+
			`"annotations":{"summary":"load test alert %d","description":"a description of the kind alerts carry, a sentence or two long"},`+
			`"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=up+%%3D%%3D+0","fingerprint":"%016x"}`,
			i%20, i/250, i%250, i, start, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkDecode100(b *testing.B) {
	body := payload(0, 100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
