package receiver

import (
	"context"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

// flapCacheSize bounds the flap histories kept in memory.
const flapCacheSize = 1 << 16

// flapCache keeps flap histories as stored, so that the common case, an
// alert seen before, costs no read. Processing and settling are the only
// writers of histories, and keep it in step with the store; what it lost
// to its bound is read again.
type flapCache struct {
	lru *lru.Cache[flapKey, store.Flap]
}

type flapKey struct{ receiver, fingerprint string }

func newFlapCache() flapCache {
	c, err := lru.New[flapKey, store.Flap](flapCacheSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return flapCache{lru: c}
}

// get returns the stored histories of a receiver's alerts, by fingerprint;
// alerts never seen have a zero history.
func (c flapCache) get(ctx context.Context, st *store.Store, receiver string, fps []string) (map[string]store.Flap, error) {
	out := make(map[string]store.Flap, len(fps))
	var missing []string
	for _, fp := range fps {
		if f, ok := c.lru.Get(flapKey{receiver, fp}); ok {
			out[fp] = f
		} else {
			missing = append(missing, fp)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := st.Flaps(ctx, receiver, missing)
	if err != nil {
		return nil, err
	}
	for _, fp := range missing {
		out[fp] = read[fp]
		c.lru.Add(flapKey{receiver, fp}, read[fp])
	}
	return out, nil
}

// stored records histories that were committed to the store.
func (c flapCache) stored(receiver string, flaps map[string]store.Flap) {
	for fp, f := range flaps {
		c.lru.Add(flapKey{receiver, fp}, f)
	}
}

// forget drops histories that the store changed.
func (c flapCache) forget(receiver string, fps []string) {
	for _, fp := range fps {
		c.lru.Remove(flapKey{receiver, fp})
	}
}

// flapOutcome is what flap damping made of one alert of a notification.
type flapOutcome struct {
	// before is its history as stored, save as it is to be stored;
	// announced, whether a notification had said it flaps before this one.
	before, save store.Flap
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

func history(f store.Flap) triage.FlapHistory {
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

func stored(h triage.FlapHistory) store.Flap {
	f := store.Flap{Status: string(h.Status), StartsAt: h.StartsAt, Flapping: h.Flapping, Announced: h.Announced}
	for _, c := range h.Changes {
		f.Changes = append(f.Changes, c.UnixMilli())
	}
	return f
}

// flaps observes each alert's state in the notification and decides, by
// its flap history, whether the alert is flapping: the first notification
// that finds it flapping goes out and says so; its changes after that are
// held until its rate falls below the low threshold, and the notification
// that finds it stable again goes out and says so.
func (r *Receiver) flaps(ctx context.Context, st *state, n store.Notification, group []model.Alert, fps []string) ([]flapOutcome, error) {
	out := make([]flapOutcome, len(group))
	c := st.cfg.Triage.Flapping
	if !c.Enabled {
		return out, nil
	}
	policy := flapPolicy(&c)
	known, err := r.flapCache.get(ctx, r.store, n.Receiver, fps)
	if err != nil {
		return nil, err
	}
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
		o.save = stored(h)
		out[i] = o
	}
	return out, nil
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
		h := history(a.Flap)
		if _, changed := h.Evaluate(now, policy); changed || !c.Enabled {
			k := groupKey{a.Receiver, a.GroupKey}
			settled[k] = append(settled[k], a.Fingerprint)
		}
	}
	for k, fps := range settled {
		if err := r.store.Settle(ctx, k.receiver, k.group, fps, now); err != nil {
			return err
		}
		r.flapCache.forget(k.receiver, fps)
	}
	if len(settled) > 0 {
		wake(r.wakeProcess)
	}
	return nil
}
