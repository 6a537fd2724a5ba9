package receiver

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

// flapOutcome is what flap damping made of one alert of a notification.
type flapOutcome struct {
	// before is its state as stored, save as it is to be stored;
	// announced, whether a notification had said it flaps before this one.
	before, save store.AlertState
	announced    bool
	rate         float64
	// held: its change is held, a notification having said it flaps.
	held bool
	// note is the augur_flapping annotation and part its enrichment, when
	// this notification is the one that says it flaps or is stable again.
	note string
	part *enrich.Flapping
}

func flapPolicy(c *config.FlappingConfig) triage.FlapPolicy {
	return triage.FlapPolicy{
		Window:  time.Duration(c.Window),
		Buckets: c.Buckets,
		High:    c.HighThreshold,
		Low:     c.LowThreshold,
	}
}

func history(f store.AlertState) triage.FlapHistory {
	h := triage.FlapHistory{
		Status:    model.AlertStatus(f.Status),
		Flapping:  f.Flapping,
		Announced: f.Announced,
	}
	if f.Status != "" {
		h.StartsAt = f.StartsAt
	}
	for _, ms := range f.Changes {
		h.Changes = append(h.Changes, time.UnixMilli(ms))
	}
	return h
}

// withHistory returns st with the flap history h.
func withHistory(st store.AlertState, h triage.FlapHistory) store.AlertState {
	st.Status, st.StartsAt, st.Flapping, st.Announced = string(h.Status), h.StartsAt, h.Flapping, h.Announced
	st.Changes = st.Changes[:0:0]
	for _, c := range h.Changes {
		st.Changes = append(st.Changes, c.UnixMilli())
	}
	return st
}

// flaps observes each alert's state in the notification and decides, by
// its flap history, whether the alert is flapping: the first notification
// that finds it flapping goes out and says so; its changes after that are
// held until its rate falls below the low threshold, and the notification
// that finds it stable again goes out and says so.
func flaps(st *state, n store.Notification, group []model.Alert, fps []string, known map[string]store.AlertState) []flapOutcome {
	out := make([]flapOutcome, len(group))
	for i := range out {
		out[i].before, out[i].save = known[fps[i]], known[fps[i]]
	}
	c := st.cfg.Triage.Flapping
	if !c.Enabled {
		return out
	}
	policy := flapPolicy(&c)
	for i, a := range group {
		before := known[fps[i]]
		h := history(before)
		if n.Kind != store.KindSettled {
			h = h.Observe(a, n.ReceivedAt, policy)
		}
		rate, _ := h.Evaluate(n.ReceivedAt, policy)
		o := flapOutcome{before: before, rate: rate, announced: h.Announced}
		switch {
		case h.Flapping && !h.Announced:
			h.Announced = true
			o.note = fmt.Sprintf("flapping: changed state in %.0f%% of the last %s; further changes held until it is stable",
				100*rate, model.Duration(policy.Window))
			o.part = &enrich.Flapping{State: "flapping", Rate: rate}
		case h.Flapping:
			o.held = true
		case h.Announced:
			h.Announced = false
			o.note = "stable again after flapping; this is its state now"
			o.part = &enrich.Flapping{State: "stable", Rate: rate}
		}
		o.save = withHistory(before, h)
		out[i] = o
	}
	return out
}

// settleFlapping finds the flapping alerts whose rate at now fell below
// the low threshold (all of them once flap damping is disabled) and, per
// alert group, queues the group's latest
// notification again so that their final state is forwarded.
func (r *Receiver) settleFlapping(ctx context.Context, now time.Time) error {
	c := r.state.Load().cfg.Triage.Flapping
	flapping, err := r.store.Flapping(ctx)
	if err != nil {
		return err
	}
	policy := flapPolicy(&c)
	type groupKey struct{ receiver, group string }
	settled := map[groupKey][]string{}
	for _, a := range flapping {
		h := history(a.AlertState)
		if _, changed := h.Evaluate(now, policy); changed || !c.Enabled {
			k := groupKey{a.Receiver, a.GroupKey}
			settled[k] = append(settled[k], a.Fingerprint)
		}
	}
	for k, fps := range settled {
		if err := r.store.Settle(ctx, k.receiver, k.group, fps, now); err != nil {
			return err
		}
		r.alertStates.forget(k.receiver, fps)
	}
	if len(settled) > 0 {
		wake(r.wakeProcess)
	}
	return nil
}
