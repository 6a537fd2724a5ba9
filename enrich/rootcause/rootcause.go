// Package rootcause is the rootcause enricher: it reads the golden
// signals (config signals) of the services an alert involves, finds how
// each changed (package signature), gathers the changes made shortly
// before (POST /api/v1/changes and Prometheus change sources), ranks the
// causes they fit (package cause), and places the incident in the
// dependency graph (package topology): "likely deployment_regression
// (0.86): deploy checkout v2.14 4m before onset", "origin postgres →
// payment → checkout".
//
// The services analysed are the alert's (its service_label), those of
// its incident, and their dependencies in the graph, breadth first, at
// most max_services. Every query goes through the shared querier, so the
// alerts of one incident read each signal once.
package rootcause

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/rootcause/cause"
	"github.com/augur-sre/augur/enrich/rootcause/signature"
	"github.com/augur-sre/augur/enrich/topology"
)

// Text annotations the enricher adds.
const (
	AnnotationRootCause = "augur_root_cause"
	AnnotationTopology  = "augur_topology"
)

// ChangeSource finds the recorded changes of some services in a time
// range (the store behind POST /api/v1/changes).
type ChangeSource interface {
	Changes(ctx context.Context, services []string, from, to time.Time) ([]cause.Change, error)
}

// Enricher is the rootcause enricher.
type Enricher struct {
	cfg          config.RootCauseConfig
	causes       []cause.Signature
	signals      config.Signals
	serviceLabel model.LabelName
	sources      []config.ChangeSource
	changes      ChangeSource
	graph        *graphSource
	now          func() time.Time
}

// New returns a rootcause enricher for the config; changes may be nil
// (no recorded changes), now is its clock (nil: time.Now).
func New(cfg *config.Config, changes ChangeSource, now func() time.Time) (*Enricher, error) {
	causes, err := cfg.Enrich.RootCause.CauseSignatures()
	if err != nil {
		return nil, fmt.Errorf("cause signatures: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Enricher{
		cfg:          cfg.Enrich.RootCause,
		causes:       causes,
		signals:      cfg.Signals,
		serviceLabel: model.LabelName(cfg.ServiceLabel),
		sources:      cfg.Changes.Prometheus,
		changes:      changes,
		graph:        newGraphSource(cfg.Topology),
		now:          now,
	}, nil
}

// Name implements enrich.Enricher.
func (e *Enricher) Name() string { return "rootcause" }

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ctx context.Context, in enrich.Input) (enrich.Apply, error) {
	a, err := e.analyse(ctx, in, e.cfg.MinConfidence)
	if err != nil {
		return nil, err
	}
	parts := rootCauses(a.hypotheses)
	return func(out *enrich.Enrichment) {
		out.Signature = a.signature
		out.RootCauses = parts
		if len(parts) > 0 {
			out.SetLine(AnnotationRootCause, causeLine(parts))
		}
		if a.topology != nil {
			out.Topology = a.topology
			out.SetLine(AnnotationTopology, a.topologyLine)
		}
	}, nil
}

// analysis is what the enricher found for one alert.
type analysis struct {
	// hypotheses are the causes at or above the floor, best first.
	hypotheses []cause.Hypothesis
	// topology is where the incident started, and its line; nil when no
	// service is anomalous.
	topology     *enrich.Topology
	topologyLine string
	// signature is the pattern of each signal of the alert's service.
	signature map[string]string
}

// analyse reads the signals and changes of the services the alert
// involves and ranks the causes, keeping those of confidence ≥ floor.
func (e *Enricher) analyse(ctx context.Context, in enrich.Input, floor float64) (analysis, error) {
	if in.Querier == nil {
		return analysis{}, errors.New("no Prometheus to query")
	}
	service := string(in.Alert.Labels[e.serviceLabel])
	if service == "" {
		return analysis{}, fmt.Errorf("the alert has no %s label to name its service", e.serviceLabel)
	}
	now := e.now()
	g, err := e.graph.get(ctx, in.Querier, now)
	if err != nil {
		return analysis{}, err
	}
	services := e.involved(g, service, in.Services)
	obs, err := e.observe(ctx, in, services, now)
	if err != nil {
		return analysis{}, err
	}
	if len(obs[service]) == 0 {
		return analysis{}, fmt.Errorf("no signal of %s returned data (signals: %s)", service, strings.Join(e.signals.Names(), ", "))
	}
	lookback := time.Duration(e.cfg.Lookback)
	changes, err := e.recentChanges(ctx, in, services, now.Add(-lookback-time.Duration(cause.DefaultWithin)), now)
	if err != nil {
		return analysis{}, err
	}
	a := analysis{signature: map[string]string{}}
	a.topology, a.topologyLine = locate(g, obs, service, e.graph.cfg.EntryServices)
	rank := cause.Input{Observations: observations(obs), Changes: changes, Dependencies: dependencies(g, services)}
	if a.topology != nil {
		rank.Origin = a.topology.Origin
	}
	a.hypotheses = cause.Rank(e.causes, rank, cause.DefaultCalibration(), floor)
	for name, s := range obs[service] {
		a.signature[name] = s.Pattern
	}
	return a, nil
}

// Adjacent returns the services next to service in the dependency graph
// as last read (the static one before the first read): those it calls
// and those that call it. Triage joins alerts on them into one incident.
func (e *Enricher) Adjacent(service string) []string {
	return adjacent(e.graph.last(), service)
}

// involved returns the alert's service, its incident's, and their
// dependencies, breadth first, at most max_services of them.
func (e *Enricher) involved(g *topology.Graph, service string, incident []string) []string {
	out := []string{service}
	seen := map[string]bool{service: true}
	queue := append([]string{service}, incident...)
	for len(queue) > 0 && len(out) < e.cfg.MaxServices {
		s := queue[0]
		queue = queue[1:]
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		for _, d := range g.Dependencies(s) {
			if !seen[d] {
				queue = append(queue, d)
			}
		}
	}
	return out[:min(len(out), e.cfg.MaxServices)]
}

// observe reads every signal of every service over the lookback and
// finds its signature; signals without data are left out.
func (e *Enricher) observe(ctx context.Context, in enrich.Input, services []string, now time.Time) (map[string]map[string]signature.Signature, error) {
	lookback, step := time.Duration(e.cfg.Lookback), time.Duration(e.cfg.Step)
	type job struct{ service, signal string }
	var jobs []job
	for _, s := range services {
		for _, name := range e.signals.Names() {
			jobs = append(jobs, job{s, name})
		}
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		out      = map[string]map[string]signature.Signature{}
		firstErr error
	)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sig, ok, err := e.signal(ctx, in, j.service, j.signal, now.Add(-lookback), now, step)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				firstErr = cmp.Or(firstErr, err)
			case ok:
				if out[j.service] == nil {
					out[j.service] = map[string]signature.Signature{}
				}
				out[j.service][j.signal] = sig
			}
		}()
	}
	wg.Wait()
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// signal reads one signal of one service and finds its signature; false
// when the query returned no series.
func (e *Enricher) signal(ctx context.Context, in enrich.Input, service, name string, from, to time.Time, step time.Duration) (signature.Signature, bool, error) {
	labels := map[string]string{}
	for k, v := range in.Alert.Labels {
		labels[string(k)] = string(v)
	}
	labels["service"] = service
	q, err := e.signals.Render(name, labels)
	if err != nil {
		return signature.Signature{}, false, err
	}
	v, err := in.Querier.QueryRange(ctx, q, from, to, step)
	if err != nil {
		return signature.Signature{}, false, fmt.Errorf("signal %s of %s: %w", name, service, err)
	}
	m, ok := v.(model.Matrix)
	if !ok || len(m) == 0 || len(m[0].Values) < 2 {
		return signature.Signature{}, false, nil
	}
	if len(m) > 1 {
		return signature.Signature{}, false, fmt.Errorf("signal %s of %s: %d series, want one: aggregate the template (sum, histogram_quantile by le)", name, service, len(m))
	}
	start, values := enrich.Grid(m[0].Values, step)
	sig, err := signature.Detect(signature.Series{Start: start, Step: step, Values: values}, nil, signature.Options{})
	if err != nil {
		return signature.Signature{}, false, fmt.Errorf("signal %s of %s: %w", name, service, err)
	}
	if sig.Pattern != signature.Stable && !significant(sig) {
		sig = signature.Signature{Pattern: signature.Stable, Before: sig.Before, After: sig.Before, Noise: sig.Noise, Sigmas: sig.Sigmas}
	}
	return sig, true, nil
}

// A change counts for root-cause analysis when it is at least minSigmas
// noise units and minRelative of the level before: smaller ones are
// real, but too small to explain an incident.
const (
	minSigmas   = 3
	minRelative = 0.1
)

// significant reports whether a signal's change is large enough to count.
func significant(s signature.Signature) bool {
	return s.Sigmas >= minSigmas && (s.Before == 0 || math.Abs(s.Relative) >= minRelative)
}

// recentChanges returns the recorded changes of the services and those
// the Prometheus change sources show between from and to.
func (e *Enricher) recentChanges(ctx context.Context, in enrich.Input, services []string, from, to time.Time) ([]cause.Change, error) {
	var out []cause.Change
	if e.changes != nil {
		c, err := e.changes.Changes(ctx, services, from, to)
		if err != nil {
			return nil, fmt.Errorf("recorded changes: %w", err)
		}
		out = append(out, c...)
	}
	step := time.Duration(e.cfg.Step)
	for _, src := range e.sources {
		v, err := in.Querier.QueryRange(ctx, src.Query, from, to, step)
		if err != nil {
			return nil, fmt.Errorf("change source %s: %w", src.Name, err)
		}
		label := model.LabelName(cmp.Or(src.ServiceLabel, string(e.serviceLabel)))
		out = append(out, changesFromMatrix(v, step, src, label, services)...)
	}
	return out, nil
}

// changesFromMatrix turns the positive samples of a change source's
// series, read at step, into changes: one per run of consecutive positive
// steps, at its first, for the series of the services given. A run ends
// at a sample that is not positive or at a missing step, as a query like
// changes(x[5m]) > 0 leaves them.
func changesFromMatrix(v model.Value, step time.Duration, src config.ChangeSource, label model.LabelName, services []string) []cause.Change {
	m, ok := v.(model.Matrix)
	if !ok {
		return nil
	}
	var out []cause.Change
	for _, s := range m {
		service := string(s.Metric[label])
		if !slices.Contains(services, service) {
			continue
		}
		on := false
		var last model.Time
		for _, p := range s.Values {
			positive := p.Value > 0
			if positive && (!on || p.Timestamp.Sub(last) > step) {
				out = append(out, cause.Change{Service: service, Type: src.Type, At: p.Timestamp.Time(), Description: fmt.Sprintf("%s: %s", src.Name, s.Metric)})
			}
			on, last = positive, p.Timestamp
		}
	}
	return out
}

// observations turns signatures into what cause matching reads.
func observations(obs map[string]map[string]signature.Signature) map[string]map[string]cause.Observation {
	out := map[string]map[string]cause.Observation{}
	for svc, sigs := range obs {
		out[svc] = map[string]cause.Observation{}
		for name, s := range sigs {
			out[svc][name] = cause.Observation{Pattern: s.Pattern, Direction: s.Direction, Onset: s.Onset, Strength: s.Sigmas,
				Line: svc + " " + s.Line(name, enrich.Number)}
		}
	}
	return out
}

// rootCauses turns hypotheses into the enrichment's part.
func rootCauses(hs []cause.Hypothesis) []enrich.RootCause {
	out := make([]enrich.RootCause, 0, len(hs))
	for _, h := range hs {
		rc := enrich.RootCause{Cause: h.Cause, Confidence: round(h.Confidence), Service: h.Service, Description: h.Description,
			Investigation: h.Investigation, Onset: h.Onset.UTC()}
		for _, ev := range h.Evidence {
			if ev.For {
				rc.Evidence = append(rc.Evidence, ev.Line)
			}
		}
		for _, c := range h.Changes {
			rc.Changes = append(rc.Changes, enrich.Change{Service: c.Service, Type: c.Type, Timestamp: c.At.UTC(), Description: c.Description, Correlation: round(c.Correlation)})
		}
		out = append(out, rc)
	}
	return out
}

// round keeps two decimals.
func round(v float64) float64 {
	return float64(int(v*100+0.5)) / 100
}

// causeLine is the augur_root_cause line: up to three causes with their
// confidence, and the top cause's change.
func causeLine(rcs []enrich.RootCause) string {
	var parts []string
	for _, rc := range rcs[:min(3, len(rcs))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", rc.Cause, rc.Confidence))
	}
	line := strings.Join(parts, " · ")
	if top := rcs[0]; len(top.Changes) > 0 {
		c := top.Changes[0]
		line += fmt.Sprintf(" (%s of %s: %s)", c.Type, c.Service, cmp.Or(c.Description, c.Timestamp.Format(time.RFC3339)))
	}
	return line
}
