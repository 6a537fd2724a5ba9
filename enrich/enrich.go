// Package enrich adds to each alert what an on-call engineer would otherwise
// look up by hand. Each enricher (forecast, baseline, rootcause, ...) lives in
// a sub-package behind the small Enricher interface; the Orchestrator runs
// them all in parallel under one deadline and fails open: an enricher that is
// slow, fails or panics is recorded under Skipped and the alert goes out on
// time without its part.
package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich/expr"
)

// SchemaVersion is the version of the augur_enrichment JSON.
const SchemaVersion = 1

// Enrichment is the augur_enrichment annotation of one alert (schema
// version 1). Parts that no enricher produced are omitted.
type Enrichment struct {
	Version    int    `json:"version"`
	IncidentID string `json:"incident_id"`
	// Score in [0,1] and Priority (P1–P4) come from triage; ScoreParts
	// shows what the score was made of.
	Score      *float64           `json:"score,omitempty"`
	Priority   string             `json:"priority,omitempty"`
	ScoreParts map[string]float64 `json:"score_parts,omitempty"`
	// Incident is the incident the alert belongs to, as of this
	// notification; Flapping is set for an alert that is or was just
	// flapping. Both come from triage.
	Incident *Incident `json:"incident,omitempty"`
	Flapping *Flapping `json:"flapping,omitempty"`
	// Forecast is the forecast enricher's part; Baseline, the baseline
	// enricher's.
	Forecast *Forecast `json:"forecast,omitempty"`
	Baseline *Baseline `json:"baseline,omitempty"`
	// RootCauses, Signature and Topology are the rootcause enricher's
	// parts: the ranked cause hypotheses, what each golden signal of the
	// alert's service did, and where in the dependency graph the
	// incident started.
	RootCauses []RootCause       `json:"root_causes,omitempty"`
	Signature  map[string]string `json:"signature,omitempty"`
	Topology   *Topology         `json:"topology,omitempty"`
	// SLO is the slo enricher's part: the burn of each SLO covering
	// the alert.
	SLO []SLO `json:"slo,omitempty"`
	// SimilarIncidents and SuggestedActions are the history enricher's
	// part: past incidents like this one, with what resolved them, and
	// the actions that worked in them, best first.
	SimilarIncidents []SimilarIncident `json:"similar_incidents,omitempty"`
	SuggestedActions []string          `json:"suggested_actions,omitempty"`
	// EstimatedTimeToResolveSeconds is the similarity-weighted median
	// time the similar incidents took to resolve.
	EstimatedTimeToResolveSeconds *float64 `json:"estimated_time_to_resolve_seconds,omitempty"`
	// Diagnostics are the runbook enricher's part: the results of the
	// read-only diagnostic steps done in time.
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	// Fingerprint is the incident's fingerprint as of this alert, which
	// the history enricher computed (JSON), for the store.
	Fingerprint []byte `json:"-"`
	// Skipped maps an enricher's name to why its part is missing.
	Skipped map[string]string `json:"skipped,omitempty"`
	// Lines are the text annotations enrichers add, by annotation name
	// (augur_forecast, ...): one or two lines a person can act on.
	Lines map[string]string `json:"-"`
}

// Forecast says where the alert's watched series is heading: whether and
// when Query Comparator Threshold holds within HorizonSeconds.
type Forecast struct {
	Query      string  `json:"query"`
	Threshold  float64 `json:"threshold"`
	Comparator string  `json:"comparator"`
	Current    float64 `json:"current"`
	// Predicted is the value at the horizon, Interval its prediction
	// interval.
	Predicted      float64    `json:"predicted"`
	HorizonSeconds float64    `json:"horizon_seconds"`
	Interval       [2]float64 `json:"interval"`
	// TimeToBreachSeconds is when the condition first holds (0 if it holds
	// now), absent if not within the horizon; ProbabilityOfBreach, that it
	// holds by the horizon.
	TimeToBreachSeconds *float64 `json:"time_to_breach_seconds,omitempty"`
	ProbabilityOfBreach float64  `json:"probability_of_breach"`
	// Trend is increasing, decreasing or stable; Acceleration, the change
	// of the slope per second².
	Trend        string  `json:"trend"`
	Acceleration float64 `json:"acceleration"`
	Model        string  `json:"model"`
}

// Baseline says whether the alert's value is usual for the time: the
// median of its season's slot (Expected), the usual range, and how many
// spreads the value is from the median.
type Baseline struct {
	Expected  float64 `json:"expected"`
	Lower     float64 `json:"lower"`
	Upper     float64 `json:"upper"`
	Deviation float64 `json:"deviation"`
	// Season is hour_of_week or hour_of_day.
	Season string `json:"season"`
}

// RootCause is a cause hypothesis: a cause of the configured set, the
// service it is about, a Confidence in [0,1] that behaves like a
// probability, the Evidence lines that support it, with numbers, the
// Investigation steps of its cause, and the changes that point to it.
type RootCause struct {
	Cause         string   `json:"cause"`
	Confidence    float64  `json:"confidence"`
	Service       string   `json:"service"`
	Description   string   `json:"description,omitempty"`
	Evidence      []string `json:"evidence,omitempty"`
	Investigation []string `json:"investigation,omitempty"`
	Changes       []Change `json:"changes,omitempty"`
	// Onset is when the service's signals began to change.
	Onset time.Time `json:"onset,omitzero"`
}

// Change is a change event correlated with an anomaly: Correlation in
// [0,1] is higher the closer before the onset it was, and for the service
// itself rather than a dependency.
type Change struct {
	Service     string    `json:"service"`
	Type        string    `json:"type"`
	Timestamp   time.Time `json:"timestamp"`
	Description string    `json:"description,omitempty"`
	Correlation float64   `json:"correlation"`
}

// Topology is where in the dependency graph an incident started: the
// Origin service, the Path from it to the alert's service, the Affected
// services (the origin and the services depending on it, transitively,
// that were not seen healthy), their count as BlastRadius, and UserImpact
// (none, partial, major, complete) by how many entry services are
// affected.
type Topology struct {
	Origin      string   `json:"origin"`
	Path        []string `json:"path"`
	Affected    []string `json:"affected"`
	BlastRadius int      `json:"blast_radius"`
	UserImpact  string   `json:"user_impact"`
}

// SLO is the burn of an SLO: the burn rate (error ratio over error
// budget) by window ("5m", "1h", ..., the period), the share of the
// period's budget left, how long that lasts at the current 1h burn rate,
// and the severity its multi-window policy gives (critical, high, medium,
// low).
type SLO struct {
	Name                    string             `json:"name"`
	BurnRates               map[string]float64 `json:"burn_rates"`
	BudgetRemaining         *float64           `json:"budget_remaining,omitempty"`
	TimeToExhaustionSeconds *float64           `json:"time_to_exhaustion_seconds,omitempty"`
	Severity                string             `json:"severity"`
}

// SimilarIncident is a past incident like the alert's, and what
// resolved it.
type SimilarIncident struct {
	ID                   string   `json:"id"`
	Similarity           float64  `json:"similarity"`
	ResolutionType       string   `json:"resolution_type,omitempty"`
	EffectiveActions     []string `json:"effective_actions,omitempty"`
	IneffectiveActions   []string `json:"ineffective_actions,omitempty"`
	TimeToResolveSeconds float64  `json:"time_to_resolve_seconds"`
}

// Diagnostic is the result of one read-only diagnostic step.
type Diagnostic struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Output string `json:"output"`
	Error  string `json:"error"`
}

// Grid lays samples on a grid of step from the first one, missing ones
// NaN, and returns the time of the first and the values.
func Grid(samples []model.SamplePair, step time.Duration) (time.Time, []float64) {
	if len(samples) == 0 {
		return time.Time{}, nil
	}
	start := samples[0].Timestamp.Time()
	n := int(samples[len(samples)-1].Timestamp.Time().Sub(start)/step) + 1
	values := make([]float64, n)
	for i := range values {
		values[i] = math.NaN()
	}
	for _, p := range samples {
		i := int((p.Timestamp.Time().Sub(start) + step/2) / step)
		if i >= 0 && i < n {
			values[i] = float64(p.Value)
		}
	}
	return start, values
}

// Approx rounds a duration for people: seconds under two minutes,
// minutes under ten hours, else hours.
func Approx(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return model.Duration(d.Round(time.Second)).String()
	case d < 10*time.Hour:
		return model.Duration(d.Round(time.Minute)).String()
	}
	return model.Duration(d.Round(time.Hour)).String()
}

// Number prints a value for a text line: three significant digits.
func Number(v float64) string {
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// SetLine sets the text annotation name.
func (e *Enrichment) SetLine(name, text string) {
	if e.Lines == nil {
		e.Lines = map[string]string{}
	}
	e.Lines[name] = text
}

// Incident is what a notification says of the incident an alert is part of.
type Incident struct {
	Title    string    `json:"title"`
	Priority string    `json:"priority,omitempty"`
	Services []string  `json:"services,omitempty"`
	Alerts   int       `json:"alerts"`
	Firing   int       `json:"firing"`
	OpenedAt time.Time `json:"opened_at"`
	// NewAlert is true when the alert joined the incident with this
	// notification, and the incident was already open before it.
	NewAlert bool `json:"new_alert,omitempty"`
}

// Flapping is an alert's flap state: "flapping" (its further changes are
// held until it is stable) or "stable" (it was flapping; this is its state
// now), and its flap rate in [0,1].
type Flapping struct {
	State string  `json:"state"`
	Rate  float64 `json:"rate"`
}

// Material is what of an enrichment, when it changes, makes a repeat
// notification worth forwarding: the priority, the flap state and whether
// the forecast breaches within its horizon.
func (e Enrichment) Material() string {
	m := e.Priority
	if e.Flapping != nil {
		m += "|" + e.Flapping.State
	}
	if e.Forecast != nil && e.Forecast.TimeToBreachSeconds != nil {
		m += "|breach"
	}
	return m
}

// Querier runs PromQL against Prometheus. It is shared by all enrichers so
// that their queries are cached, coalesced and limited in one place.
type Querier interface {
	Query(ctx context.Context, query string, ts time.Time) (model.Value, error)
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Value, error)
}

// Input is what an enricher gets for one alert.
type Input struct {
	// Receiver and GroupKey identify the notification the alert came in.
	Receiver string
	GroupKey string
	// Alert is the alert to enrich; Group is every alert of its notification.
	Alert model.Alert
	Group []model.Alert
	// Incident is the id of the incident the alert belongs to, and
	// Services the services it spans.
	Incident string
	Services []string
	// Alertnames, Priority and OpenedAt are the incident's alert names
	// so far, its priority and when it opened.
	Alertnames []string
	Priority   string
	OpenedAt   time.Time
	// Fingerprint is the incident's fingerprint as the history enricher
	// last made it (JSON), nil before any.
	Fingerprint []byte
	Querier     Querier
	// Prior is, for a Follower, what the other enrichers made of the
	// alert; nil for the others.
	Prior *Enrichment
}

// RuleSource is what a Querier may also do: find the expression of the
// alerting rule an alert came from.
type RuleSource interface {
	RuleExpr(ctx context.Context, alert model.Alert) (string, error)
}

// Condition returns what the input's alert watches (expr.OfAlert), for
// enrichers that query it. When the alert says nothing of it — no
// generatorURL, no augur_query — and the querier can read Prometheus's
// rules, it is the expression of the rule the alert came from.
func (in Input) Condition(ctx context.Context) (expr.Condition, error) {
	if in.Querier == nil {
		return expr.Condition{}, errors.New("no Prometheus to query")
	}
	c, err := expr.OfAlert(in.Alert)
	if err == nil || in.Alert.GeneratorURL != "" || in.Alert.Annotations[expr.AnnotationQuery] != "" {
		return c, err
	}
	rs, ok := in.Querier.(RuleSource)
	if !ok {
		return c, err
	}
	e, rerr := rs.RuleExpr(ctx, in.Alert)
	if rerr != nil {
		return c, fmt.Errorf("%w; its rule: %w", err, rerr)
	}
	return expr.SplitOrdered(e)
}

// Apply writes an enricher's part into an Enrichment. Enrichers return one
// instead of writing directly so that parts that arrive after the deadline
// are dropped rather than racing with the forwarded result.
type Apply func(*Enrichment)

// Enricher computes one part of an alert's enrichment.
type Enricher interface {
	// Name is the enricher's key in Skipped and in metrics.
	Name() string
	// Enrich computes its part. It must return promptly once ctx is done.
	Enrich(ctx context.Context, in Input) (Apply, error)
}

// Follower is an Enricher that works from the parts the other enrichers
// made for the same alert, in Input.Prior: the orchestrator runs it once
// they are all done, under the same deadline.
type Follower interface {
	Enricher
	// FollowsOthers marks the enricher as a follower.
	FollowsOthers()
}

// Orchestrator runs enrichers under a deadline: first all but the
// followers, in parallel, then the followers, in parallel.
type Orchestrator struct {
	enrichers []Enricher
	followers []Enricher
	deadline  time.Duration
	logger    *slog.Logger
	metrics   *Metrics
}

// Metrics are the orchestrator's metrics; create them once per registry and
// share them between the orchestrators that successive configs build.
type Metrics struct {
	duration *prometheus.HistogramVec
	skipped  *prometheus.CounterVec
}

// NewMetrics registers the enrichment metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		duration: promauto.With(reg).NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "augur",
			Name:      "enrichment_duration_seconds",
			Help:      "Time an enricher took for one alert, including runs cut off by the deadline.",
			Buckets:   []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}, []string{"enricher"}),
		skipped: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "enrichment_skipped_total",
			Help:      "Enrichment parts left out of a forwarded alert, by enricher and reason (deadline, error).",
		}, []string{"enricher", "reason"}),
	}
}

// NewOrchestrator returns an orchestrator that runs the given enrichers.
func NewOrchestrator(enrichers []Enricher, deadline time.Duration, m *Metrics, logger *slog.Logger) *Orchestrator {
	for _, e := range enrichers {
		m.duration.WithLabelValues(e.Name())
		for _, r := range []string{"deadline", "error"} {
			m.skipped.WithLabelValues(e.Name(), r)
		}
	}
	var first, followers []Enricher
	for _, e := range enrichers {
		if _, ok := e.(Follower); ok {
			followers = append(followers, e)
		} else {
			first = append(first, e)
		}
	}
	return &Orchestrator{
		enrichers: first,
		followers: followers,
		deadline:  deadline,
		logger:    logger,
		metrics:   m,
	}
}

type outcome struct {
	enricher string
	apply    Apply
	err      error
	late     bool
}

// Enrich enriches each alert of a notification. It returns, in the order of
// group, one Enrichment per alert, within the deadline whatever the enrichers
// do.
func (o *Orchestrator) Enrich(ctx context.Context, base Input, group []model.Alert) []Enrichment {
	out := make([]Enrichment, len(group))
	for i := range out {
		out[i] = Enrichment{Version: SchemaVersion, IncidentID: base.Incident}
	}
	if len(o.enrichers)+len(o.followers) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()

	// Enrichers still running at the deadline append to results later;
	// nothing reads it by then.
	results := make([][]outcome, len(group))
	var mu sync.Mutex
	record := func(i int, r outcome) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = append(results[i], r)
	}
	var wg sync.WaitGroup
	for i, a := range group {
		in := base
		in.Alert, in.Group = a, group
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := o.stage(ctx, o.enrichers, in, func(r outcome) { record(i, r) })
			if len(o.followers) == 0 || ctx.Err() != nil {
				return
			}
			prior := Enrichment{Version: SchemaVersion, IncidentID: base.Incident}
			for _, r := range first {
				if r.err == nil && r.apply != nil {
					r.apply(&prior)
				}
			}
			in.Prior = &prior
			o.stage(ctx, o.followers, in, func(r outcome) { record(i, r) })
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}

	mu.Lock()
	defer mu.Unlock()
	for i := range group {
		finished := map[string]bool{}
		for _, r := range results[i] {
			if r.late {
				continue
			}
			finished[r.enricher] = true
			if r.err != nil {
				o.skip(&out[i], r.enricher, "error", r.err.Error())
				continue
			}
			if r.apply != nil {
				r.apply(&out[i])
			}
		}
		for _, e := range slices.Concat(o.enrichers, o.followers) {
			if !finished[e.Name()] {
				o.skip(&out[i], e.Name(), "deadline", fmt.Sprintf("not done within the %s deadline", o.deadline))
			}
		}
	}
	return out
}

// stage runs enrichers in parallel on one input, records each outcome
// as it comes, and returns them all once every one has returned.
func (o *Orchestrator) stage(ctx context.Context, es []Enricher, in Input, record func(outcome)) []outcome {
	outs := make([]outcome, len(es))
	var wg sync.WaitGroup
	for j, e := range es {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[j] = o.run(ctx, e, in)
			record(outs[j])
		}()
	}
	wg.Wait()
	return outs
}

func (o *Orchestrator) run(ctx context.Context, e Enricher, in Input) (res outcome) {
	start := time.Now()
	res.enricher = e.Name()
	defer func() {
		o.metrics.duration.WithLabelValues(e.Name()).Observe(time.Since(start).Seconds())
		if r := recover(); r != nil {
			o.logger.Error("enricher panicked", "enricher", e.Name(), "panic", r)
			res.apply, res.err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	res.apply, res.err = e.Enrich(ctx, in)
	if res.err != nil && ctx.Err() != nil {
		// Cut off by the deadline: the same as not returning in time.
		res.late = true
	}
	return res
}

func (o *Orchestrator) skip(e *Enrichment, name, reason, msg string) {
	if e.Skipped == nil {
		e.Skipped = map[string]string{}
	}
	e.Skipped[name] = msg
	o.metrics.skipped.WithLabelValues(name, reason).Inc()
}
