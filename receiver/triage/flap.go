package triage

import (
	"time"

	"github.com/prometheus/common/model"
)

// FlapPolicy says when an alert is flapping. It follows Nagios's flap
// detection: the recent history is cut into Buckets samples over Window, each
// sample that holds a state change counts, newer samples weigh more (from
// 0.8 for the oldest to 1.2 for the newest), and the weighted share of
// changed samples is the flap rate in [0,1]. An alert starts flapping when
// its rate reaches High and stops when it falls below Low: the gap between
// the two (hysteresis) keeps an alert near one threshold from toggling.
type FlapPolicy struct {
	Window  time.Duration
	Buckets int
	High    float64
	Low     float64
}

// FlapHistory is what triage remembers of an alert's states: the last seen
// status and start time, the state changes within the policy's window,
// whether it is flapping, and whether a notification said so (Announced)
// and has not yet been followed by one saying it is stable again.
type FlapHistory struct {
	Status    model.AlertStatus
	StartsAt  time.Time
	Changes   []time.Time
	Flapping  bool
	Announced bool
}

// Observe records the state of alert a as seen in a notification received
// at, and forgets changes older than the policy's window. Alertmanager
// batches changes by group_interval, so an alert may have resolved and
// fired again between two notifications: a new start time reveals it.
func (h FlapHistory) Observe(a model.Alert, at time.Time, p FlapPolicy) FlapHistory {
	status := model.AlertFiring
	if !a.EndsAt.IsZero() {
		status = model.AlertResolved
	}
	clamp := func(t time.Time) time.Time {
		if t.IsZero() || t.After(at) {
			return at
		}
		return t
	}
	restarted := h.Status != "" && !a.StartsAt.Equal(h.StartsAt)
	switch {
	case h.Status == "" && status == model.AlertFiring:
		h.Changes = append(h.Changes, clamp(a.StartsAt))
	case h.Status == "":
		h.Changes = append(h.Changes, clamp(a.EndsAt))
	case status == model.AlertFiring && (h.Status == model.AlertResolved || restarted):
		// Resolved (unseen if it was firing) and fired again.
		if h.Status == model.AlertFiring {
			h.Changes = append(h.Changes, clamp(a.StartsAt))
		}
		h.Changes = append(h.Changes, clamp(a.StartsAt))
	case status == model.AlertResolved && h.Status == model.AlertFiring:
		h.Changes = append(h.Changes, clamp(a.EndsAt))
	case status == model.AlertResolved && restarted:
		// Fired and resolved again, both unseen.
		h.Changes = append(h.Changes, clamp(a.StartsAt), clamp(a.EndsAt))
	}
	h.Status, h.StartsAt = status, a.StartsAt
	h.Changes = recent(h.Changes, at.Add(-p.Window))
	return h
}

// recent drops the changes before cutoff; changes are in time order but
// for the clamped ones, so all are checked.
func recent(changes []time.Time, cutoff time.Time) []time.Time {
	out := changes[:0]
	for _, c := range changes {
		if !c.Before(cutoff) {
			out = append(out, c)
		}
	}
	return out
}

// Evaluate computes the flap rate at now and moves Flapping across the
// thresholds. It returns the rate and whether Flapping changed.
func (h *FlapHistory) Evaluate(now time.Time, p FlapPolicy) (rate float64, changed bool) {
	rate = FlapRate(h.Changes, now, p)
	was := h.Flapping
	switch {
	case !h.Flapping && rate >= p.High:
		h.Flapping = true
	case h.Flapping && rate < p.Low:
		h.Flapping = false
	}
	return rate, h.Flapping != was
}

// FlapRate is the weighted share of the policy's samples before now that
// hold a state change.
func FlapRate(changes []time.Time, now time.Time, p FlapPolicy) float64 {
	if p.Buckets < 2 || p.Window <= 0 {
		return 0
	}
	start := now.Add(-p.Window)
	width := p.Window / time.Duration(p.Buckets)
	changed := make([]bool, p.Buckets)
	for _, c := range changes {
		if c.Before(start) || c.After(now) {
			continue
		}
		changed[min(int(c.Sub(start)/width), p.Buckets-1)] = true
	}
	var sum, total float64
	for i, ch := range changed {
		w := 0.8 + 0.4*float64(i)/float64(p.Buckets-1)
		total += w
		if ch {
			sum += w
		}
	}
	return sum / total
}
