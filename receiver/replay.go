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
