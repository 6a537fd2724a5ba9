package enrich

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// fakeEnricher behaves as told, per alert (by alertname).
type fakeEnricher struct {
	name string
	do   func(ctx context.Context, in Input) (Apply, error)
}

func (f fakeEnricher) Name() string { return f.name }
func (f fakeEnricher) Enrich(ctx context.Context, in Input) (Apply, error) {
	return f.do(ctx, in)
}

// setsIncident writes its name into the incident id, to see that its part
// was applied to the right alert.
func setsIncident(name string) fakeEnricher {
	return fakeEnricher{name: name, do: func(_ context.Context, in Input) (Apply, error) {
		suffix := string(in.Alert.Labels["alertname"])
		return func(e *Enrichment) { e.IncidentID += "/" + name + ":" + suffix }, nil
	}}
}

func alerts(names ...string) []model.Alert {
	out := make([]model.Alert, len(names))
	for i, n := range names {
		out[i] = model.Alert{Labels: model.LabelSet{"alertname": model.LabelValue(n)}}
	}
	return out
}

func TestOrchestratorFailsOpen(t *testing.T) {
	blocking := fakeEnricher{name: "blocking", do: func(ctx context.Context, _ Input) (Apply, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	ignoresDeadline := fakeEnricher{name: "stubborn", do: func(ctx context.Context, _ Input) (Apply, error) {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		return func(e *Enrichment) { e.IncidentID = "overwritten late" }, nil
	}}
	failing := fakeEnricher{name: "failing", do: func(context.Context, Input) (Apply, error) {
		return nil, errors.New("prometheus unreachable")
	}}
	panicking := fakeEnricher{name: "panicking", do: func(context.Context, Input) (Apply, error) {
		panic("index out of range")
	}}

	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	o := NewOrchestrator([]Enricher{setsIncident("good"), blocking, ignoresDeadline, failing, panicking},
		20*time.Millisecond, m, slog.New(slog.DiscardHandler))
	got := o.Enrich(context.Background(), Input{Incident: "inc-1"}, alerts("A", "B"))

	require.Len(t, got, 2)
	for i, name := range []string{"A", "B"} {
		require.Equal(t, 1, got[i].Version)
		require.Equal(t, "inc-1/good:"+name, got[i].IncidentID, "each alert gets its own parts, in order, and late parts are dropped")
		require.Equal(t, map[string]string{
			"blocking":  "not done within the 20ms deadline",
			"stubborn":  "not done within the 20ms deadline",
			"failing":   "prometheus unreachable",
			"panicking": "panic: index out of range",
		}, got[i].Skipped)
	}
	require.Equal(t, 2.0, testutil.ToFloat64(m.skipped.WithLabelValues("blocking", "deadline")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.skipped.WithLabelValues("stubborn", "deadline")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.skipped.WithLabelValues("failing", "error")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.skipped.WithLabelValues("panicking", "error")))
	require.Equal(t, 0.0, testutil.ToFloat64(m.skipped.WithLabelValues("good", "error")))
	require.Equal(t, 5, testutil.CollectAndCount(m.duration), "one duration series per enricher")
}

func TestOrchestratorWithoutEnrichers(t *testing.T) {
	o := NewOrchestrator(nil, time.Second, NewMetrics(nil), slog.New(slog.DiscardHandler))
	got := o.Enrich(context.Background(), Input{Incident: "inc-7"}, alerts("A"))
	require.Equal(t, []Enrichment{{Version: SchemaVersion, IncidentID: "inc-7"}}, got)
}

func TestOrchestratorPassesInput(t *testing.T) {
	var seen []Input
	rec := fakeEnricher{name: "rec", do: func(_ context.Context, in Input) (Apply, error) {
		seen = append(seen, in)
		return nil, nil
	}}
	o := NewOrchestrator([]Enricher{rec}, time.Second, NewMetrics(nil), slog.New(slog.DiscardHandler))
	group := alerts("A")
	o.Enrich(context.Background(), Input{Receiver: "team", GroupKey: "{}:{}", Incident: "inc-1"}, group)
	require.Len(t, seen, 1)
	require.Equal(t, "team", seen[0].Receiver)
	require.Equal(t, "{}:{}", seen[0].GroupKey)
	require.Equal(t, group[0], seen[0].Alert)
	require.Equal(t, group, seen[0].Group)
}

// follower is a fakeEnricher that runs after the others.
type follower struct{ fakeEnricher }

func (follower) FollowsOthers() {}

func TestFollowersSeeTheOthersParts(t *testing.T) {
	cause := fakeEnricher{name: "rootcause", do: func(_ context.Context, in Input) (Apply, error) {
		c := "cause of " + string(in.Alert.Labels["alertname"])
		return func(e *Enrichment) { e.RootCauses = []RootCause{{Cause: c}} }, nil
	}}
	failing := fakeEnricher{name: "failing", do: func(context.Context, Input) (Apply, error) { return nil, errors.New("no") }}
	var seen []string
	reads := follower{fakeEnricher{name: "runbook", do: func(_ context.Context, in Input) (Apply, error) {
		require.NotNil(t, in.Prior)
		require.Len(t, in.Prior.RootCauses, 1)
		c := in.Prior.RootCauses[0].Cause
		return func(e *Enrichment) { seen = append(seen, c) }, nil
	}}}
	o := NewOrchestrator([]Enricher{reads, cause, failing}, time.Second, NewMetrics(nil), slog.New(slog.DiscardHandler))
	out := o.Enrich(context.Background(), Input{Incident: "inc-1"}, alerts("A", "B"))
	require.ElementsMatch(t, []string{"cause of A", "cause of B"}, seen)
	require.Equal(t, "cause of A", out[0].RootCauses[0].Cause)
	require.Equal(t, map[string]string{"failing": "no"}, out[0].Skipped)

	// A first stage cut off by the deadline leaves no time for the
	// followers: they are skipped, and the alert goes out on time.
	slow := fakeEnricher{name: "slow", do: func(ctx context.Context, _ Input) (Apply, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	o = NewOrchestrator([]Enricher{reads, slow}, 20*time.Millisecond, NewMetrics(nil), slog.New(slog.DiscardHandler))
	out = o.Enrich(context.Background(), Input{}, alerts("A"))
	require.Contains(t, out[0].Skipped["slow"], "deadline")
	require.Contains(t, out[0].Skipped["runbook"], "deadline")
}
