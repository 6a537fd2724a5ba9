package history

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scan returns what Similar should: every resolved incident scored with
// Similarity, the top k at or above the threshold.
func scan(incidents []Incident, q Fingerprint, o Options) []Match {
	var out []Match
	for _, inc := range incidents {
		if inc.Resolution == nil {
			continue
		}
		fp := inc.Fingerprint
		if fp.Resolution == "" {
			fp.Resolution = inc.Resolution.Type
		}
		if sim := Similarity(q, fp, o.Weights); sim >= o.Threshold {
			out = append(out, Match{ID: inc.ID, Similarity: sim, Resolution: *inc.Resolution})
		}
	}
	slices.SortFunc(out, byRank)
	return out[:min(len(out), o.K)]
}

func TestIndexSimilarMatchesScan(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold float64
		k         int
	}{
		{name: "default", threshold: 0.6, k: 5},
		{name: "low threshold visits causes and signatures", threshold: 0.32, k: 10},
		{name: "high threshold", threshold: 0.85, k: 3},
		{name: "top 1", threshold: 0.5, k: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGenerator(t, 11)
			o := DefaultOptions()
			o.Threshold, o.K = tc.threshold, tc.k
			ix, err := NewIndex(o)
			require.NoError(t, err)
			var incidents []Incident
			for _, l := range g.history(1000, 0.2) {
				incidents = append(incidents, l.inc)
				require.NoError(t, ix.Put(l.inc))
			}
			// Remove some, leave some open, replace some.
			for i := 0; i < len(incidents); i += 7 {
				require.True(t, ix.Remove(incidents[i].ID))
			}
			var kept []Incident
			for i, inc := range incidents {
				switch {
				case i%7 == 0:
					continue
				case i%11 == 0:
					inc.Resolution = nil
					require.NoError(t, ix.Put(inc))
				case i%13 == 0:
					inc.Fingerprint = g.past(&g.kinds[i%len(g.kinds)]).inc.Fingerprint
					require.NoError(t, ix.Put(inc))
				}
				kept = append(kept, inc)
			}
			require.Equal(t, len(kept), ix.Len())
			for i := range 90 {
				var q Fingerprint
				switch i % 3 {
				case 0:
					q = g.fresh(nil).inc.Fingerprint
				case 1:
					q = g.fresh(&g.kinds[i%len(g.kinds)]).inc.Fingerprint
				default:
					q = g.past(&g.kinds[i%len(g.kinds)]).inc.Fingerprint
				}
				require.Equal(t, scan(kept, q, o), ix.Similar(q), "query %d", i)
			}
		})
	}
}

func TestIndexPutRemove(t *testing.T) {
	opened := time.Date(2026, 10, 2, 14, 0, 0, 0, time.UTC)
	fp := func(services ...string) Fingerprint {
		var alertnames []string
		for _, s := range services {
			alertnames = append(alertnames, s+"Down")
		}
		f, err := New(Input{Services: services, Alertnames: alertnames, OpenedAt: opened, ResolvedAt: opened.Add(14 * time.Minute)})
		require.NoError(t, err)
		return f
	}
	rollback := &Resolution{Type: "rollback", EffectiveActions: []string{"rollback"}, TimeToResolveSeconds: 840}
	ix, err := NewIndex(DefaultOptions())
	require.NoError(t, err)
	require.NoError(t, ix.Put(Incident{ID: "a", Fingerprint: fp("checkout"), Resolution: rollback}))
	require.NoError(t, ix.Put(Incident{ID: "b", Fingerprint: fp("checkout", "payment"), Resolution: rollback}))
	require.NoError(t, ix.Put(Incident{ID: "open", Fingerprint: fp("checkout")}))
	require.Equal(t, 3, ix.Len())

	ids := func(ms []Match) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	require.Equal(t, []string{"a", "b"}, ids(ix.Similar(fp("checkout"))), "the open incident is no match")

	// An incident evolves: b loses checkout; the open one resolves.
	require.NoError(t, ix.Put(Incident{ID: "b", Fingerprint: fp("payment"), Resolution: rollback}))
	require.NoError(t, ix.Put(Incident{ID: "open", Fingerprint: fp("checkout"), Resolution: rollback}))
	require.Equal(t, []string{"a", "open"}, ids(ix.Similar(fp("checkout"))))
	require.Equal(t, 3, ix.Len())

	require.True(t, ix.Remove("a"))
	require.False(t, ix.Remove("a"))
	require.Equal(t, []string{"open"}, ids(ix.Similar(fp("checkout"))))
	require.NoError(t, ix.Put(Incident{ID: "c", Fingerprint: fp("checkout"), Resolution: rollback}), "reuses a's slot")
	require.Equal(t, []string{"c", "open"}, ids(ix.Similar(fp("checkout"))))

	m := ix.Similar(fp("checkout"))
	m[0].EffectiveActions[0] = "changed"
	require.Equal(t, "rollback", ix.Similar(fp("checkout"))[0].EffectiveActions[0], "matches share nothing with the index")
	require.Equal(t, "rollback", rollback.EffectiveActions[0])
}

func TestIndexPutErrors(t *testing.T) {
	ix, err := NewIndex(DefaultOptions())
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		inc  Incident
		want string
	}{
		{name: "no id", inc: Incident{Fingerprint: Fingerprint{Version: FingerprintVersion}}, want: "put incident: the id is empty"},
		{name: "old version", inc: Incident{ID: "x", Fingerprint: Fingerprint{Version: 0}}, want: "put incident x: fingerprint version 0, want 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.EqualError(t, ix.Put(tc.inc), tc.want)
		})
	}
}

func TestIndexConcurrent(t *testing.T) {
	g := newGenerator(t, 3)
	ix, err := NewIndex(DefaultOptions())
	require.NoError(t, err)
	history := g.history(500, 0.1)
	queries := make([]Fingerprint, 50)
	for i := range queries {
		queries[i] = g.fresh(&g.kinds[i%len(g.kinds)]).inc.Fingerprint
	}
	var wg sync.WaitGroup
	var errs [4]error
	for w := range errs {
		wg.Go(func() {
			for i, l := range history {
				if i%len(errs) == w && errs[w] == nil {
					errs[w] = ix.Put(l.inc)
				}
				ix.Similar(queries[i%len(queries)])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, len(history), ix.Len())
	var incidents []Incident
	for _, l := range history {
		incidents = append(incidents, l.inc)
	}
	for _, q := range queries {
		require.Equal(t, scan(incidents, q, DefaultOptions()), ix.Similar(q))
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{name: "default", change: func(*Options) {}},
		{name: "k zero", change: func(o *Options) { o.K = 0 }, want: "top_k: 0 is not within 1–100"},
		{name: "k too large", change: func(o *Options) { o.K = 101 }, want: "top_k: 101 is not within 1–100"},
		{name: "threshold above 1", change: func(o *Options) { o.Threshold = 1.2 }, want: "threshold: 1.2 is not within (0.308, 1]: with these weights, incidents that share nothing but the time, duration, severity and resolution reach 0.308"},
		{name: "threshold too low", change: func(o *Options) { o.Threshold = 0.3 }, want: "threshold: 0.3 is not within (0.308, 1]: with these weights, incidents that share nothing but the time, duration, severity and resolution reach 0.308"},
		{name: "bad weight", change: func(o *Options) { o.Weights.Cause = -1 }, want: "weights.cause: -1 is not a finite number of at least 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.change(&o)
			err := o.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.want)
			_, err = NewIndex(o)
			require.EqualError(t, err, "history index: "+tc.want)
		})
	}
}

func ExampleIndex() {
	opened := time.Date(2026, 10, 2, 14, 3, 0, 0, time.UTC)
	past, _ := New(Input{
		Services:   []string{"checkout"},
		Alertnames: []string{"CheckoutHighErrorRate"},
		Signature:  map[string]string{"error_rate": "sudden_increase", "latency": "sudden_increase", "request_rate": "stable"},
		Cause:      "deployment_regression",
		OpenedAt:   opened,
		ResolvedAt: opened.Add(14 * time.Minute),
		Priorities: []string{"P2", "P1"},
	})
	ix, _ := NewIndex(DefaultOptions())
	_ = ix.Put(Incident{ID: "inc-2026-10-02-0007", Fingerprint: past, Resolution: &Resolution{
		Type: "rollback", EffectiveActions: []string{"rollback"}, IneffectiveActions: []string{"restart pods"}, TimeToResolveSeconds: 840,
	}})

	opened = time.Date(2026, 11, 28, 10, 12, 0, 0, time.UTC)
	now, _ := New(Input{
		Services:   []string{"checkout"},
		Alertnames: []string{"CheckoutHighErrorRate"},
		Signature:  map[string]string{"error_rate": "step_change", "latency": "sudden_increase", "request_rate": "stable"},
		OpenedAt:   opened,
		Now:        opened.Add(3 * time.Minute),
		Priorities: []string{"P2"},
	})
	s := Suggest(ix.Similar(now))
	fmt.Println(s.Line())
	fmt.Println(s.Texts())
	fmt.Println(s.TimeToResolve())
	// Output:
	// inc-2026-10-02-0007 (0.79): rollback worked, restart pods did not help, resolved in 14m
	// [rollback — worked in 1 of 1 similar incident]
	// 14m0s
}
