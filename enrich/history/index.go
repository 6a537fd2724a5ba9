package history

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
)

// Options configure an Index.
type Options struct {
	Weights Weights `yaml:"weights" json:"weights"`
	// Threshold is the least similarity of a similar incident.
	Threshold float64 `yaml:"threshold" json:"threshold"`
	// K is how many similar incidents a search returns at most.
	K int `yaml:"top_k" json:"top_k"`
}

// maxK bounds Options.K: a person reads a handful of similar incidents.
const maxK = 100

// DefaultOptions returns the default options: the default weights, a
// threshold of 0.6 and the top 5. With the default weights, a past
// incident that shares the top cause and a generic alert with a new one
// but not its services reaches about 0.5, one of the same kind with
// signals missing, extra services and another time of day 0.7 or more
// (see TestEvaluation).
func DefaultOptions() Options {
	return Options{Weights: DefaultWeights(), Threshold: 0.6, K: 5}
}

// Validate checks the weights, that K is within 1–100, and that the
// threshold is at most 1 and above the highest similarity two
// fingerprints can have without sharing a service, alert name, cause word
// or changed signal (the context parts' share of the weights): the Index
// never looks at those, so a lower threshold would miss some.
func (o Options) Validate() error {
	if err := o.Weights.Validate(); err != nil {
		return err
	}
	if o.K < 1 || o.K > maxK {
		return fmt.Errorf("top_k: %d is not within 1–%d", o.K, maxK)
	}
	if u := o.Weights.unshared(); math.IsNaN(o.Threshold) || o.Threshold <= u || o.Threshold > 1 {
		return fmt.Errorf("threshold: %g is not within (%.3f, 1]: with these weights, incidents that share nothing but the time, duration, severity and resolution reach %.3f", o.Threshold, u, u)
	}
	return nil
}

// Resolution is what resolved an incident, as the resolution API records
// it.
type Resolution struct {
	// Type is the resolution type: rollback, manual_fix, scaling,
	// AutoResolved when it resolved by itself, ...
	Type string `json:"resolution_type"`
	// EffectiveActions are what worked, IneffectiveActions what was tried
	// and did not help.
	EffectiveActions   []string `json:"effective_actions,omitempty"`
	IneffectiveActions []string `json:"ineffective_actions,omitempty"`
	// TimeToResolveSeconds is how long the incident took to resolve.
	TimeToResolveSeconds float64 `json:"time_to_resolve_seconds"`
}

// Incident is an incident of the history: its id, its fingerprint, and
// its resolution once recorded.
type Incident struct {
	ID          string      `json:"id"`
	Fingerprint Fingerprint `json:"fingerprint"`
	Resolution  *Resolution `json:"resolution,omitempty"`
}

// Match is a similar incident and what resolved it.
type Match struct {
	ID         string  `json:"id"`
	Similarity float64 `json:"similarity"`
	Resolution
}

// Index finds the incidents most similar to a fingerprint among many.
//
// It is an inverted index from what a fingerprint is made of (each
// service, alert name, word of the top cause, and changed signal with its
// direction) to the incidents that have it. A search looks only at the
// incidents that share at least one of these with the query (only a
// service or an alert name, when the threshold is above what the cause,
// signature and context parts can reach on their own, as it is by
// default), and scores fully only those whose upper bound (the set parts
// exact, every other part taken at its best) can still make the top k.
// Options.Validate makes sure that the incidents never looked at could
// not have reached the threshold.
//
// Incidents are added, replaced and removed by id, and are found once
// they have a Resolution: an open incident is kept up to date but is no
// match for another. Names (of services, alerts, signals, ...) stay
// interned after the incidents that had them are gone. An Index is safe
// for concurrent use.
type Index struct {
	opts Options

	mu    sync.RWMutex
	words *interner
	// postings holds, for each posted token id, the slots that have it.
	postings [][]int32
	slots    []slot
	meta     []meta
	free     []int32
	byID     map[string]int32

	scratch sync.Pool
}

// slot is an incident of the index.
type slot struct {
	inc Incident
	fp  compiled
	// tokens are the ids the slot is posted under, none while unresolved;
	// pos[k] is its place in the posting list of tokens[k].
	tokens []uint32
	pos    []int32
}

// meta is what Similar's upper bound needs of a slot, kept apart from the
// slots so that the bound reads memory in few cache lines.
type meta struct {
	services, alertnames uint16
	signature            bool
	cause                uint32
}

// scratch is a search's counters per slot, reset after use.
type scratch struct {
	services, alertnames []uint16
	seen                 []bool
	touched              []int32
}

// NewIndex returns an empty index. It fails when the options are not
// valid.
func NewIndex(opts Options) (*Index, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("history index: %w", err)
	}
	return &Index{
		opts:    opts,
		words:   newInterner(),
		byID:    map[string]int32{},
		scratch: sync.Pool{New: func() any { return &scratch{} }},
	}, nil
}

// Len returns the number of incidents in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byID)
}

// Put adds an incident, or replaces the one of the same id. The index
// keeps a copy. It fails on an empty id or a fingerprint of another
// version.
func (ix *Index) Put(inc Incident) error {
	if inc.ID == "" {
		return errors.New("put incident: the id is empty")
	}
	if inc.Fingerprint.Version != FingerprintVersion {
		return fmt.Errorf("put incident %s: fingerprint version %d, want %d", inc.ID, inc.Fingerprint.Version, FingerprintVersion)
	}
	inc = cloneIncident(inc)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	i, ok := ix.byID[inc.ID]
	if ok {
		ix.unpost(i)
	} else if n := len(ix.free); n > 0 {
		i, ix.free = ix.free[n-1], ix.free[:n-1]
	} else {
		i = int32(len(ix.slots))
		ix.slots = append(ix.slots, slot{})
		ix.meta = append(ix.meta, meta{})
	}
	ix.byID[inc.ID] = i
	fp := inc.Fingerprint
	if fp.Resolution == "" && inc.Resolution != nil {
		fp.Resolution = inc.Resolution.Type
	}
	s := slot{inc: inc, fp: compile(fp, ix.words.id)}
	if inc.Resolution != nil {
		s.tokens = postedTokens(&s.fp, fp, ix.words.id)
		s.pos = make([]int32, len(s.tokens))
		for k, t := range s.tokens {
			if int(t) >= len(ix.postings) {
				ix.postings = append(ix.postings, make([][]int32, int(t)+1-len(ix.postings))...)
			}
			s.pos[k] = int32(len(ix.postings[t]))
			ix.postings[t] = append(ix.postings[t], i)
		}
	}
	ix.slots[i] = s
	ix.meta[i] = meta{
		services:   uint16(min(len(s.fp.services), math.MaxUint16)),
		alertnames: uint16(min(len(s.fp.alertnames), math.MaxUint16)),
		signature:  len(s.fp.signature) > 0,
		cause:      s.fp.cause,
	}
	return nil
}

// Remove removes the incident of an id, and reports whether there was
// one.
func (ix *Index) Remove(id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	i, ok := ix.byID[id]
	if !ok {
		return false
	}
	ix.unpost(i)
	ix.slots[i], ix.meta[i] = slot{}, meta{}
	delete(ix.byID, id)
	ix.free = append(ix.free, i)
	return true
}

// unpost removes slot i from its posting lists: the last slot of each
// list takes its place.
func (ix *Index) unpost(i int32) {
	s := &ix.slots[i]
	for k, t := range s.tokens {
		p := ix.postings[t]
		at, last := s.pos[k], p[len(p)-1]
		p[at] = last
		ls := &ix.slots[last]
		ls.pos[slices.Index(ls.tokens, t)] = at
		ix.postings[t] = p[:len(p)-1]
	}
	s.tokens, s.pos = nil, nil
}

// Similar returns the resolved incidents most similar to fp, at most K
// of them with a similarity of at least the threshold, most similar
// first (ties by id). None means no similar incident.
func (ix *Index) Similar(fp Fingerprint) []Match {
	ix.mu.RLock()
	defer ix.mu.RUnlock()

	// Names the index has not seen get ids past its own, so that they
	// match nothing in it but still count, and differ from each other.
	unseen := map[string]uint32{}
	lookup := func(name string) uint32 {
		if v, ok := ix.words.ids[name]; ok {
			return v
		}
		v, ok := unseen[name]
		if !ok {
			v = uint32(len(ix.words.ids) + len(unseen) + 1)
			unseen[name] = v
		}
		return v
	}
	q := compile(fp, lookup)
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	sc.grow(len(ix.slots))
	visit := func(ids []uint32, count []uint16) {
		for _, t := range ids {
			if int(t) >= len(ix.postings) {
				continue
			}
			for _, i := range ix.postings[t] {
				if !sc.seen[i] {
					sc.seen[i] = true
					sc.touched = append(sc.touched, i)
				}
				if count != nil {
					count[i]++
				}
			}
		}
	}
	w := ix.opts.Weights
	visit(q.services, sc.services)
	visit(q.alertnames, sc.alertnames)
	if ix.opts.Threshold <= w.setless() {
		visit(postedTokens(&q, fp, lookup)[len(q.services)+len(q.alertnames):], nil)
	}

	var top []Match
	bar := ix.opts.Threshold
	for _, i := range sc.touched {
		services, alertnames := int(sc.services[i]), int(sc.alertnames[i])
		if w.bound(&q, ix.meta[i], services, alertnames) < bar {
			continue
		}
		s := &ix.slots[i]
		sim := w.score(&q, &s.fp, services, alertnames)
		if sim < bar {
			continue
		}
		m := Match{ID: s.inc.ID, Similarity: sim, Resolution: *s.inc.Resolution}
		at, _ := slices.BinarySearchFunc(top, m, byRank)
		if at >= ix.opts.K {
			continue
		}
		top = slices.Insert(top, at, m)
		if len(top) > ix.opts.K {
			top = top[:ix.opts.K]
		}
		if len(top) == ix.opts.K {
			bar = top[len(top)-1].Similarity
		}
	}
	sc.reset()
	for i := range top {
		top[i].Resolution = cloneResolution(top[i].Resolution)
	}
	return top
}

// byRank orders matches most similar first, then by id.
func byRank(a, b Match) int {
	if c := cmp.Compare(b.Similarity, a.Similarity); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// bound returns an upper bound of the similarity of q and an incident of
// meta m that share services services and alertnames alert names: the
// set parts exact, the cause part 1 for the same cause and at most ½ for
// another, the signature (when both have one) and the context parts
// taken as agreeing fully, which can only raise a weighted mean.
func (w Weights) bound(q *compiled, m meta, services, alertnames int) float64 {
	num := w.Services*jaccard(services, len(q.services), int(m.services)) +
		w.Alertnames*jaccard(alertnames, len(q.alertnames), int(m.alertnames))
	den := w.Services + w.Alertnames
	if q.cause != 0 && m.cause != 0 {
		den += w.Cause
		if q.cause == m.cause {
			num += w.Cause
		} else {
			num += w.Cause / 2
		}
	}
	if len(q.signature) > 0 && m.signature {
		num += w.Signature
		den += w.Signature
	}
	c := w.context()
	return (num + c) / (den + c)
}

// postedTokens returns the ids an incident is posted under: its services
// and alert names first (as in c), then its cause words and changed
// signals.
func postedTokens(c *compiled, fp Fingerprint, id func(string) uint32) []uint32 {
	out := make([]uint32, 0, len(c.services)+len(c.alertnames)+len(c.causeWords)+len(fp.Signature))
	out = append(out, c.services...)
	out = append(out, c.alertnames...)
	out = append(out, c.causeWords...)
	for _, name := range slices.Sorted(maps.Keys(fp.Signature)) {
		if t, ok := changeToken(fp, name); ok {
			out = append(out, id(t))
		}
	}
	return out
}

// grow makes room for n slots.
func (sc *scratch) grow(n int) {
	if len(sc.seen) < n {
		sc.services = make([]uint16, n)
		sc.alertnames = make([]uint16, n)
		sc.seen = make([]bool, n)
	}
}

// reset clears the counters of the touched slots.
func (sc *scratch) reset() {
	for _, i := range sc.touched {
		sc.services[i], sc.alertnames[i], sc.seen[i] = 0, 0, false
	}
	sc.touched = sc.touched[:0]
}

// cloneIncident returns a copy of inc that shares nothing with it.
func cloneIncident(inc Incident) Incident {
	fp := &inc.Fingerprint
	fp.Signature = maps.Clone(fp.Signature)
	fp.Services = slices.Clone(fp.Services)
	fp.Alertnames = slices.Clone(fp.Alertnames)
	fp.Severity = slices.Clone(fp.Severity)
	if inc.Resolution != nil {
		r := cloneResolution(*inc.Resolution)
		inc.Resolution = &r
	}
	return inc
}

// cloneResolution returns a copy of r that shares nothing with it.
func cloneResolution(r Resolution) Resolution {
	r.EffectiveActions = slices.Clone(r.EffectiveActions)
	r.IneffectiveActions = slices.Clone(r.IneffectiveActions)
	return r
}
