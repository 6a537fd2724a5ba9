package triage

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

type msg struct {
	groupKey string
	alerts   []model.Alert
}

func group(groupKey string, alerts ...model.Alert) msg { return msg{groupKey, alerts} }

func alert(instance, status string, startsAt time.Time) model.Alert {
	a := model.Alert{
		Labels:      model.LabelSet{"alertname": "HighErrorRate", "instance": model.LabelValue(instance)},
		Annotations: model.LabelSet{"summary": "ignored by the signature"},
		StartsAt:    startsAt,
	}
	if status == "resolved" {
		a.EndsAt = startsAt.Add(time.Hour)
	}
	return a
}

func TestSignature(t *testing.T) {
	sig := func(receiver string, m msg) Signature { return SignatureOf(receiver, m.groupKey, m.alerts) }
	base := sig("team", group("g", alert("a", "firing", t0), alert("b", "firing", t0)))
	for _, tc := range []struct {
		name     string
		receiver string
		msg      msg
		same     bool
	}{
		{name: "identical", receiver: "team", msg: group("g", alert("a", "firing", t0), alert("b", "firing", t0)), same: true},
		{name: "alerts in another order", receiver: "team", msg: group("g", alert("b", "firing", t0), alert("a", "firing", t0)), same: true},
		{name: "annotations do not count", receiver: "team", msg: func() msg {
			a := alert("a", "firing", t0)
			a.Annotations = model.LabelSet{"summary": "new text", "augur_incident": "x"}
			return group("g", a, alert("b", "firing", t0))
		}(), same: true},
		{name: "other receiver", receiver: "other", msg: group("g", alert("a", "firing", t0), alert("b", "firing", t0))},
		{name: "other group", receiver: "team", msg: group("h", alert("a", "firing", t0), alert("b", "firing", t0))},
		{name: "an alert resolved", receiver: "team", msg: group("g", alert("a", "resolved", t0), alert("b", "firing", t0))},
		{name: "an alert restarted", receiver: "team", msg: group("g", alert("a", "firing", t0.Add(time.Minute)), alert("b", "firing", t0))},
		{name: "an alert more", receiver: "team", msg: group("g", alert("a", "firing", t0), alert("b", "firing", t0), alert("c", "firing", t0))},
		{name: "an alert less", receiver: "team", msg: group("g", alert("a", "firing", t0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.same, sig(tc.receiver, tc.msg) == base)
		})
	}
}

func TestDedup(t *testing.T) {
	policy := DedupPolicy{Window: 5 * time.Minute, RepeatInterval: 4 * time.Hour}
	prev := &Previous{Signature: 42, ReceivedAt: t0}
	for _, tc := range []struct {
		name   string
		policy DedupPolicy
		prev   *Previous
		sig    Signature
		at     time.Time
		want   Decision
	}{
		{name: "first of its group", policy: policy, prev: nil, sig: 42, at: t0, want: Forward},
		{name: "something changed", policy: policy, prev: prev, sig: 43, at: t0.Add(time.Second), want: Forward},
		{name: "same within the window", policy: policy, prev: prev, sig: 42, at: t0.Add(5*time.Minute - time.Millisecond), want: Duplicate},
		{name: "same after the window", policy: policy, prev: prev, sig: 42, at: t0.Add(5 * time.Minute), want: Repeat},
		{name: "same, repeat due", policy: policy, prev: prev, sig: 42, at: t0.Add(4 * time.Hour), want: Forward},
		{name: "same, never repeat", policy: DedupPolicy{Window: 5 * time.Minute}, prev: prev, sig: 42, at: t0.Add(400 * time.Hour), want: Repeat},
		{name: "dedup off", policy: DedupPolicy{}, prev: prev, sig: 42, at: t0, want: Repeat},
		{name: "dedup and repeats off", policy: DedupPolicy{RepeatInterval: time.Nanosecond}, prev: prev, sig: 42, at: t0.Add(time.Second), want: Forward},
		{name: "out of order arrival", policy: policy, prev: prev, sig: 42, at: t0.Add(-time.Second), want: Duplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Dedup(tc.policy, tc.prev, tc.sig, tc.at))
		})
	}
}

func BenchmarkSignature100(b *testing.B) {
	var alerts []model.Alert
	for i := range 100 {
		alerts = append(alerts, alert(string(rune('a'+i%26))+string(rune('a'+i/26)), "firing", t0))
	}
	b.ReportAllocs()
	for b.Loop() {
		SignatureOf("team", `{}:{alertname="HighErrorRate"}`, alerts)
	}
}
