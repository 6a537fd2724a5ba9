package history

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/augur-sre/augur/enrich"
)

// AnnotationSimilar is the text annotation the enricher adds.
const AnnotationSimilar = "augur_similar"

// Past is a resolved incident as the store keeps it: its fingerprint
// (JSON, as the enricher made it while the incident was open), when it
// opened and resolved, what resolved it, and when that last changed.
type Past struct {
	ID                 string
	Fingerprint        []byte
	OpenedAt           time.Time
	ResolvedAt         time.Time
	ResolutionType     string
	EffectiveActions   []string
	IneffectiveActions []string
	Changed            time.Time
}

// Source gives the past incidents resolved, or whose resolution was
// recorded, at or after a time, oldest change first.
type Source interface {
	ResolvedSince(ctx context.Context, since time.Time) ([]Past, error)
}

// Enricher is the history enricher: it fingerprints the alert's incident
// from what the other enrichers found (it is an enrich.Follower), finds
// the similar past incidents in an Index it keeps in step with the
// Source, and suggests the actions that worked in them.
type Enricher struct {
	src Source
	now func() time.Time
	loc *time.Location

	mu     sync.Mutex
	idx    *Index
	synced time.Time
}

// NewEnricher returns a history enricher searching with opts; loc is the
// time zone of the time-of-day classes (nil: UTC), now its clock (nil:
// time.Now).
func NewEnricher(opts Options, src Source, loc *time.Location, now func() time.Time) (*Enricher, error) {
	idx, err := NewIndex(opts)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Enricher{src: src, now: now, loc: loc, idx: idx}, nil
}

// Name implements enrich.Enricher.
func (e *Enricher) Name() string { return "history" }

// FollowsOthers implements enrich.Follower: the fingerprint holds the
// signature and the top cause the rootcause enricher found.
func (e *Enricher) FollowsOthers() {}

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ctx context.Context, in enrich.Input) (enrich.Apply, error) {
	fp, err := New(inputOf(in, e.now(), e.loc))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(fp)
	if err != nil {
		return nil, fmt.Errorf("encode fingerprint: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.sync(ctx); err != nil {
		return nil, err
	}
	var similar []Match
	for _, m := range e.idx.Similar(fp) {
		if m.ID != in.Incident {
			similar = append(similar, m)
		}
	}
	s := Suggest(similar)
	parts := make([]enrich.SimilarIncident, len(s.Similar))
	for i, m := range s.Similar {
		parts[i] = enrich.SimilarIncident{ID: m.ID, Similarity: m.Similarity, ResolutionType: m.Type,
			EffectiveActions: m.EffectiveActions, IneffectiveActions: m.IneffectiveActions, TimeToResolveSeconds: m.TimeToResolveSeconds}
	}
	actions, line := s.Texts(), s.Line()
	var ttr *float64
	if s.TimeToResolveSeconds > 0 {
		ttr = &s.TimeToResolveSeconds
	}
	return func(out *enrich.Enrichment) {
		out.Fingerprint = data
		out.SimilarIncidents = parts
		out.EstimatedTimeToResolveSeconds = ttr
		if len(actions) > 0 {
			out.SuggestedActions = actions
		}
		out.SetLine(AnnotationSimilar, line)
	}, nil
}

// inputOf is the fingerprint input of an alert's incident as of now.
func inputOf(in enrich.Input, now time.Time, loc *time.Location) Input {
	fi := Input{Services: in.Services, Alertnames: in.Alertnames, OpenedAt: in.OpenedAt, Now: now, Location: loc}
	// The severity progression so far, then the priority now.
	if prev, err := Decode(in.Fingerprint); err == nil {
		fi.Priorities = prev.Severity
	}
	if in.Priority != "" {
		fi.Priorities = append(fi.Priorities, in.Priority)
	}
	if p := in.Prior; p != nil {
		fi.Signature = p.Signature
		if len(p.RootCauses) > 0 {
			fi.Cause = p.RootCauses[0].Cause
		}
	}
	return fi
}

// syncTimeout bounds one sync with the store. A sync is not cut off by
// the enrichment deadline: the first one reads the whole history, which
// may take longer, and must still finish for the alerts after.
const syncTimeout = 5 * time.Minute

// sync puts into the index the incidents that resolved, or whose
// resolution was recorded, since the last sync: all of them the first
// time. e.mu is held.
func (e *Enricher) sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), syncTimeout)
	defer cancel()
	past, err := e.src.ResolvedSince(ctx, e.synced)
	if err != nil {
		return fmt.Errorf("past incidents: %w", err)
	}
	for _, p := range past {
		fp, err := Decode(p.Fingerprint)
		if err != nil {
			// A fingerprint of another version is left out, not fatal.
			continue
		}
		fp.Open, fp.DurationSeconds, fp.Resolution = false, p.ResolvedAt.Sub(p.OpenedAt).Seconds(), p.ResolutionType
		res := &Resolution{Type: p.ResolutionType, EffectiveActions: p.EffectiveActions, IneffectiveActions: p.IneffectiveActions,
			TimeToResolveSeconds: p.ResolvedAt.Sub(p.OpenedAt).Seconds()}
		if err := e.idx.Put(Incident{ID: p.ID, Fingerprint: fp, Resolution: res}); err != nil {
			return fmt.Errorf("index %s: %w", p.ID, err)
		}
		e.synced = p.Changed
	}
	return nil
}
