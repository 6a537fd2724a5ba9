package runbook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
)

// AnnotationDiagnostics is the text annotation the enricher adds.
const AnnotationDiagnostics = "augur_diagnostics"

// Diagnostic is a step's result as the diagnostics part of the
// augur_enrichment JSON carries it.
type Diagnostic = enrich.Diagnostic

// Diagnostics turns results into their JSON form.
func Diagnostics(res []Result) []Diagnostic {
	d := make([]Diagnostic, len(res))
	for i, r := range res {
		d[i] = Diagnostic{Step: r.Step, OK: r.OK, Output: r.Output, Error: r.Error}
	}
	return d
}

// Line is the augur_diagnostics text for the finished steps and the number
// still running: "3 of 4 checks ok; checkout-health: status 503, want 2xx".
func Line(d []Diagnostic, running int) string {
	ok := 0
	var failed []Diagnostic
	for _, x := range d {
		if x.OK {
			ok++
		} else {
			failed = append(failed, x)
		}
	}
	parts := []string{fmt.Sprintf("%d of %d checks ok", ok, len(d)+running)}
	if len(failed) > 0 {
		parts = append(parts, fmt.Sprintf("%s: %s", failed[0].Step, shorten(failed[0].Error, 120)))
	}
	if len(failed) > 1 {
		parts = append(parts, fmt.Sprintf("%d more failed", len(failed)-1))
	}
	if running > 0 {
		parts = append(parts, fmt.Sprintf("%d still running", running))
	}
	return strings.Join(parts, "; ")
}

// Options are the enricher's hooks; all are optional.
type Options struct {
	// CauseOf returns the root cause (a by_cause key) to run steps for,
	// or "" when none is known (nil: TopCause, the rootcause enricher's
	// top hypothesis for the alert).
	CauseOf func(enrich.Input) string
	// Followup receives the complete diagnostics of a run whose steps had
	// not all finished when the enricher answered, once they have, from a
	// goroutine of its own; the caller posts them to the incident. With a
	// Followup, steps are not cut off by the enrichment deadline (only by
	// their own timeouts); without one, they are.
	Followup func(in enrich.Input, d []Diagnostic)
	// Now is the clock of prometheus_query and log_query (nil: time.Now).
	Now func() time.Time
}

// Enricher is the runbook enricher.
type Enricher struct {
	runner      *Runner
	byCause     map[string][]Step
	byAlertname map[string][]Step
	opts        Options
}

// New returns a runbook enricher for the runbooks section.
func New(cfg Config, o Options) (*Enricher, error) {
	r, err := NewRunner(cfg, o.Now)
	if err != nil {
		return nil, err
	}
	return &Enricher{runner: r, byCause: cfg.ByCause, byAlertname: cfg.ByAlertname, opts: o}, nil
}

// Name implements enrich.Enricher.
func (e *Enricher) Name() string { return "runbook" }

// Steps returns the steps for the input's alert: those of its alertname,
// then those of its cause whose names are not already taken.
func (e *Enricher) Steps(in enrich.Input) []Step {
	steps := e.byAlertname[string(in.Alert.Labels[model.AlertNameLabel])]
	causeOf := e.opts.CauseOf
	if causeOf == nil {
		causeOf = TopCause
	}
	byCause := e.byCause[causeOf(in)]
	if len(byCause) == 0 {
		return steps
	}
	out := append([]Step(nil), steps...)
	for _, s := range byCause {
		taken := false
		for _, t := range steps {
			taken = taken || t.Name == s.Name
		}
		if !taken {
			out = append(out, s)
		}
	}
	return out
}

// Diagnose runs the steps for the input's alert under ctx and returns all
// their results; nil when no runbook applies.
func (e *Enricher) Diagnose(ctx context.Context, in enrich.Input) ([]Diagnostic, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run diagnostics: %w", err)
	}
	steps := e.Steps(in)
	if len(steps) == 0 {
		return nil, nil
	}
	return Diagnostics(e.runner.Run(ctx, steps, in.Alert, in.Querier)), nil
}

// Enrich implements enrich.Enricher. It answers shortly before ctx's
// deadline at the latest, with the steps finished by then; the rest go to
// Options.Followup.
//
// The Apply sets only the augur_diagnostics line: the Enrichment has no
// field for the diagnostics JSON yet (Diagnose returns it).
func (e *Enricher) Enrich(ctx context.Context, in enrich.Input) (enrich.Apply, error) {
	steps := e.Steps(in)
	if len(steps) == 0 {
		return nil, nil
	}
	runCtx := ctx
	if e.opts.Followup != nil {
		runCtx = context.WithoutCancel(ctx)
	}
	p := e.runner.Start(runCtx, steps, in.Alert, in.Querier)
	var answer <-chan time.Time
	if deadline, ok := ctx.Deadline(); ok {
		t := time.NewTimer(time.Until(deadline) - answerMargin(time.Until(deadline)))
		defer t.Stop()
		answer = t.C
	}
	select {
	case <-p.Done():
	case <-answer:
	case <-ctx.Done():
	}
	res, complete := p.Results()
	if !complete && e.opts.Followup != nil {
		go func() {
			<-p.Done()
			all, _ := p.Results()
			e.opts.Followup(in, Diagnostics(all))
		}()
	}
	d := Diagnostics(res)
	line := Line(d, len(steps)-len(res))
	return func(out *enrich.Enrichment) {
		out.Diagnostics = d
		out.SetLine(AnnotationDiagnostics, line)
	}, nil
}

// FollowsOthers implements enrich.Follower: the steps of a cause can be
// chosen once the rootcause enricher has named it.
func (e *Enricher) FollowsOthers() {}

// TopCause is the cause of the top root-cause hypothesis the other
// enrichers made of the input's alert, or "".
func TopCause(in enrich.Input) string {
	if in.Prior == nil || len(in.Prior.RootCauses) == 0 {
		return ""
	}
	return in.Prior.RootCauses[0].Cause
}

// answerMargin is how long before the deadline the enricher answers, so
// that its answer reaches the orchestrator in time: a tenth of the time
// left, at most 100ms.
func answerMargin(left time.Duration) time.Duration {
	return min(100*time.Millisecond, left/10)
}
