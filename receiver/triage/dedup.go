// Package triage decides what of a notification augur forwards: it drops
// what carries nothing new (duplicates from Alertmanager HA peers and
// retries, unchanged repeats), applies suppressions, damps flapping alerts
// and scores the rest. It is pure: callers bring what the store knows about
// the alert group and act on the decisions.
package triage

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"time"

	"github.com/prometheus/common/model"
)

// Decision is what triage decided for a notification.
type Decision string

// Decisions.
const (
	// Forward: the notification goes on to enrichment and delivery.
	Forward Decision = "forwarded"
	// Duplicate: the same notification was forwarded within the dedup
	// window (an Alertmanager HA peer or a retry sent it again).
	Duplicate Decision = "duplicate"
	// Repeat: the same alerts in the same states as the last forwarded
	// notification, later than the dedup window (Alertmanager's
	// repeat_interval), and the repeat policy says not yet.
	Repeat Decision = "repeat"
	// Suppressed: a suppression applies (for a notification: to all its
	// alerts).
	Suppressed Decision = "suppressed"
	// LowScore: scored below triage.min_score (for a notification: all its
	// alerts held back, none by a suppression).
	LowScore Decision = "low_score"
	// Flapping: the alert keeps firing and resolving; after the
	// notification that says so, its changes are held until it is stable
	// (for a notification: all its alerts held, none by a suppression or
	// for their score).
	Flapping Decision = "flapping"
)

// Decisions lists every decision, for pre-initialising metrics.
func Decisions() []Decision {
	return []Decision{Forward, Duplicate, Repeat, Suppressed, LowScore, Flapping}
}

// Signature identifies what a notification says: its receiver, group key,
// and each alert's fingerprint, status and start time. Two notifications
// with the same signature carry nothing new for each other.
type Signature uint64

// SignatureOf returns the signature of a notification of group groupKey to
// receiver. An alert with an end time counts as resolved.
func SignatureOf(receiver, groupKey string, alerts []model.Alert) Signature {
	parts := make([]string, len(alerts))
	for i, a := range alerts {
		status := model.AlertFiring
		if !a.EndsAt.IsZero() {
			status = model.AlertResolved
		}
		parts[i] = a.Labels.Fingerprint().String() + "\xff" + string(status) + "\xff" + a.StartsAt.UTC().Format(time.RFC3339Nano)
	}
	slices.Sort(parts)
	h := fnv.New64a()
	for _, s := range append([]string{receiver, groupKey}, parts...) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])      //nolint:errcheck // hash writes never fail.
		h.Write([]byte(s)) //nolint:errcheck
	}
	return Signature(h.Sum64())
}

// DedupPolicy says when a notification that says nothing new is dropped.
type DedupPolicy struct {
	// Window: within it, the same notification again is a duplicate.
	Window time.Duration
	// RepeatInterval: an unchanged notification later than Window is
	// forwarded again once the last forward is at least this old; zero
	// means never.
	RepeatInterval time.Duration
}

// Previous is the last forwarded notification of an alert group.
type Previous struct {
	Signature  Signature
	ReceivedAt time.Time
}

// Dedup decides on a notification with signature sig received at, given the
// previous forwarded notification of its group (nil if there is none).
func Dedup(p DedupPolicy, prev *Previous, sig Signature, at time.Time) Decision {
	if prev == nil || prev.Signature != sig {
		return Forward
	}
	age := at.Sub(prev.ReceivedAt)
	switch {
	case age < p.Window:
		return Duplicate
	case p.RepeatInterval > 0 && age >= p.RepeatInterval:
		return Forward
	default:
		return Repeat
	}
}
