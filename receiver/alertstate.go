package receiver

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/augur-sre/augur/receiver/store"
)

// stateCacheSize bounds the alert states kept in memory.
const stateCacheSize = 1 << 16

// stateCache keeps the states of alerts at receivers as stored, so that
// the common case, an alert seen before, costs no read. Processing and
// settling are the only writers of states, and keep it in step with the
// store; what it lost to its bound is read again.
type stateCache struct {
	lru *lru.Cache[stateKey, store.AlertState]
}

type stateKey struct{ receiver, fingerprint string }

func newStateCache() stateCache {
	c, err := lru.New[stateKey, store.AlertState](stateCacheSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return stateCache{lru: c}
}

// get returns the stored states of a receiver's alerts, by fingerprint;
// alerts never seen have a zero state.
func (c stateCache) get(ctx context.Context, st *store.Store, receiver string, fps []string) (map[string]store.AlertState, error) {
	out := make(map[string]store.AlertState, len(fps))
	var missing []string
	for _, fp := range fps {
		if f, ok := c.lru.Get(stateKey{receiver, fp}); ok {
			out[fp] = f
		} else {
			missing = append(missing, fp)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := st.AlertStates(ctx, receiver, missing)
	if err != nil {
		return nil, err
	}
	for _, fp := range missing {
		out[fp] = read[fp]
		c.lru.Add(stateKey{receiver, fp}, read[fp])
	}
	return out, nil
}

// stored records states that were committed to the store.
func (c stateCache) stored(receiver string, states map[string]store.AlertState) {
	for fp, st := range states {
		c.lru.Add(stateKey{receiver, fp}, st)
	}
}

// forget drops states that the store changed.
func (c stateCache) forget(receiver string, fps []string) {
	for _, fp := range fps {
		c.lru.Remove(stateKey{receiver, fp})
	}
}
