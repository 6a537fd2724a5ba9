package receiver

import (
	"context"
	"time"

	"github.com/augur-sre/augur/enrich"
	enrichhistory "github.com/augur-sre/augur/enrich/history"
	"github.com/augur-sre/augur/receiver/store"
)

// saveFingerprint records on the incident the fingerprint the history
// enricher made of it, the one of the first alert that has one.
func (r *Receiver) saveFingerprint(ctx context.Context, incident string, results []enrich.Enrichment) error {
	for _, e := range results {
		if len(e.Fingerprint) > 0 {
			return r.store.SetFingerprint(ctx, incident, e.Fingerprint)
		}
	}
	return nil
}

// ResolvedSince returns the past incidents for the history enricher
// (history.Source in package enrich/history): those with a fingerprint that resolved, or whose
// resolution was recorded, at or after since.
func (r *Receiver) ResolvedSince(ctx context.Context, since time.Time) ([]enrichhistory.Past, error) {
	recs, err := r.store.ResolvedSince(ctx, since)
	if err != nil {
		return nil, err
	}
	out := make([]enrichhistory.Past, len(recs))
	for i, p := range recs {
		out[i] = enrichhistory.Past{ID: p.ID, Fingerprint: p.Fingerprint, OpenedAt: p.OpenedAt, ResolvedAt: p.ResolvedAt,
			ResolutionType: p.Resolution.Type, EffectiveActions: p.Resolution.EffectiveActions,
			IneffectiveActions: p.Resolution.IneffectiveActions, Changed: p.Changed}
	}
	return out, nil
}

// RecordDiagnostics records on the input's incident the results of
// diagnostic steps that finished after its notification went out (the
// runbook enricher's follow-up).
func (r *Receiver) RecordDiagnostics(in enrich.Input, ds []enrich.Diagnostic) {
	now := r.now()
	recs := make([]store.Diagnostic, len(ds))
	for i, d := range ds {
		recs[i] = store.Diagnostic{Step: d.Step, OK: d.OK, Output: d.Output, Error: d.Error, At: now}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.store.AddDiagnostics(ctx, in.Incident, recs); err != nil {
		r.logger.Error("record diagnostics", "incident", in.Incident, "err", err)
	}
}
