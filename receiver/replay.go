package receiver

import (
	"context"
	"errors"
	"time"

	"github.com/augur-sre/augur/receiver/store"
)

// Replay runs a recorded notification through intake's checks, triage and
// enrichment as if it had been received at, and returns what triage made of
// it. Its deliveries are queued but sent only by a running receiver: augur
// replay never runs one, so nothing reaches the downstream receivers.
func (r *Receiver) Replay(ctx context.Context, payload []byte, at time.Time) (Triaged, error) {
	st := r.state.Load()
	if st == nil {
		return Triaged{}, errors.New("no config applied")
	}
	msg, err := Decode(payload)
	if err != nil {
		return Triaged{}, err
	}
	name, _, err := receiverFor(st.cfg, "", msg.Receiver)
	if err != nil {
		return Triaged{}, err
	}
	n := store.Notification{Receiver: name, GroupKey: msg.GroupKey, ReceivedAt: at, Alerts: len(msg.Alerts), Payload: payload}
	if n.ID, err = r.store.AddNotification(ctx, n); err != nil {
		return Triaged{}, err
	}
	return r.process(ctx, n)
}

// ReplayClock does what is due at the replay's time at: it resolves the
// incidents whose grace period ended and processes the notifications that
// carry the final state of alerts that stopped flapping, and returns what
// triage made of those.
func (r *Receiver) ReplayClock(ctx context.Context, at time.Time) ([]Triaged, error) {
	if r.state.Load() == nil {
		return nil, errors.New("no config applied")
	}
	if err := r.sweep(ctx, at); err != nil {
		return nil, err
	}
	pending, err := r.store.Unprocessed(ctx, 0, 1<<20)
	if err != nil {
		return nil, err
	}
	var out []Triaged
	for _, n := range pending {
		n.ReceivedAt = at
		res, err := r.process(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}
