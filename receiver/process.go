package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

// Annotations augur adds to every forwarded alert.
const (
	AnnotationIncident    = "augur_incident"
	AnnotationIncidentURL = "augur_incident_url"
	AnnotationEnrichment  = "augur_enrichment"
	// AnnotationSuppressed marks, in the incident's record, an alert that a
	// suppression kept from being forwarded; its value names the suppression.
	AnnotationSuppressed = "augur_suppressed"
	// AnnotationLowScore marks, in the incident's record, an alert held
	// back for scoring below triage.min_score.
	AnnotationLowScore = "augur_low_score"
	// AnnotationFlapHeld marks, in the incident's record, a change of a
	// flapping alert held until it is stable.
	AnnotationFlapHeld = "augur_flapping_held"
	// AnnotationFlapping says that an alert is flapping, or stable again.
	AnnotationFlapping = "augur_flapping"
	// AnnotationSummary is the one line a person reads first.
	AnnotationSummary = "augur_summary"
)

// processLoop hands stored notifications to workers, partitioned by alert
// group so that one group's notifications are processed in arrival order
// while different groups are enriched in parallel.
func (r *Receiver) processLoop(ctx context.Context) {
	queues := make([]chan store.Notification, r.workers)
	done := make(chan struct{}, r.workers)
	for i := range queues {
		queues[i] = make(chan store.Notification, 64)
		go func() {
			defer func() { done <- struct{}{} }()
			for n := range queues[i] {
				r.processOne(ctx, n)
			}
		}()
	}
	defer func() {
		for _, q := range queues {
			close(q)
		}
		for range queues {
			<-done
		}
	}()

	// Ids grow with every insert and SQLite has one writer, so once an id is
	// visible every smaller one is too: a high-water mark is enough to never
	// hand out a notification twice.
	var last int64
	for {
		batch, err := r.store.Unprocessed(ctx, last, 256)
		if err != nil && ctx.Err() == nil {
			r.logger.Error("read stored notifications", "err", err)
		}
		for _, n := range batch {
			last = n.ID
			select {
			case queues[partition(n, len(queues))] <- n:
			case <-ctx.Done():
				return
			}
		}
		if len(batch) == 256 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wakeProcess:
		case <-time.After(time.Second):
		}
	}
}

func partition(n store.Notification, parts int) int {
	h := fnv.New32a()
	h.Write([]byte(n.Receiver)) //nolint:errcheck // hash writes never fail.
	h.Write([]byte{0})          //nolint:errcheck
	h.Write([]byte(n.GroupKey)) //nolint:errcheck
	return int(h.Sum32() % uint32(parts))
}

// processOne processes a notification, retrying until it succeeds: its
// partition waits meanwhile, so that a later notification of the same group
// never overtakes it. Only store errors can fail processing.
func (r *Receiver) processOne(ctx context.Context, n store.Notification) {
	r.store.YieldToIntake(ctx)
	for attempt := 0; ; attempt++ {
		_, err := r.process(ctx, n)
		if err == nil || ctx.Err() != nil {
			break
		}
		wait := min(time.Second<<min(attempt, 5), 30*time.Second)
		r.logger.Error("process notification, will retry", "id", n.ID, "receiver", n.Receiver, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	wake(r.wakeDeliver)
}

// Triaged is what triage made of a notification.
type Triaged struct {
	Decision triage.Decision
	Incident string
	// Alerts counts the notification's alerts; Held, those of them held
	// back, by decision (suppressed, low_score, flapping).
	Alerts int
	Held   map[triage.Decision]int
}

// process runs triage and enrichment on one stored notification and queues
// its deliveries.
func (r *Receiver) process(ctx context.Context, n store.Notification) (Triaged, error) {
	st := r.state.Load()
	msg, err := Decode(n.Payload)
	if err != nil {
		// Intake validated it; a payload that no longer decodes means the
		// validation changed. Queue nothing rather than guess.
		r.logger.Error("stored notification no longer valid, not forwarding it", "id", n.ID, "err", err)
		return Triaged{}, r.store.Processed(ctx, n.ID, store.Outcome{Enriched: n.Payload}, nil, r.now())
	}
	group := modelAlerts(msg.Alerts)
	fps := make([]string, len(group))
	for i, a := range group {
		fps[i] = a.Labels.Fingerprint().String()
	}

	sig := triage.SignatureOf(n.Receiver, n.GroupKey, group)
	last, found, err := r.store.LastDecided(ctx, n.Receiver, n.GroupKey, string(triage.Duplicate), string(triage.Repeat))
	if err != nil {
		return Triaged{}, err
	}
	var prev *triage.Previous
	if found {
		prev = &triage.Previous{Signature: triage.Signature(last.Signature), ReceivedAt: last.ReceivedAt}
	}
	policy := triage.DedupPolicy{
		Window:         time.Duration(st.cfg.Triage.DedupWindow),
		RepeatInterval: time.Duration(st.cfg.Triage.RepeatInterval),
	}
	// A settled notification is augur's own, made to forward a final state.
	dedup := triage.Forward
	if n.Kind != store.KindSettled {
		dedup = triage.Dedup(policy, prev, sig, n.ReceivedAt)
	}
	if dedup == triage.Duplicate {
		return r.dropped(ctx, n, triage.Duplicate, last.Incident, sig, len(group))
	}

	states, err := r.alertStates.get(ctx, r.store, n.Receiver, fps)
	if err != nil {
		return Triaged{}, err
	}
	flaps := flaps(st, n, group, fps, states)
	scores, err := r.score(ctx, st, group, fps, flaps)
	if err != nil {
		return Triaged{}, err
	}
	held, err := r.heldBack(ctx, st, n, group, scores, flaps)
	if err != nil {
		return Triaged{}, err
	}
	decision := triage.Forward
	if len(held) == len(group) {
		decision = held[0].decision
		for _, h := range held {
			if h.decision == triage.Suppressed || (h.decision == triage.Flapping && decision == triage.LowScore) {
				decision = h.decision
			}
		}
		if dedup == triage.Repeat {
			return r.dropped(ctx, n, triage.Repeat, last.Incident, sig, len(group))
		}
	}
	for i, f := range flaps {
		if h, ok := held[i]; ok && h.decision != triage.Flapping {
			// Not forwarded: what a notification would have said of its
			// flapping is still to be said.
			flaps[i].save.Announced = f.announced
		}
	}

	joined, err := r.joinIncident(ctx, st, n, group, fps, scores)
	if err != nil {
		return Triaged{}, err
	}
	if joined.Opened {
		r.metrics.incidents.Inc()
	}
	out := store.Outcome{Incident: joined.ID, Decision: string(decision), Signature: uint64(sig), States: map[string]store.AlertState{}}
	var names []string
	if decision == triage.Forward {
		results := st.orchestrator.Enrich(ctx, enrich.Input{
			Receiver:    n.Receiver,
			GroupKey:    n.GroupKey,
			Incident:    joined.ID,
			Services:    joined.Services,
			Alertnames:  joined.Names,
			Priority:    joined.Priority,
			OpenedAt:    joined.OpenedAt,
			Fingerprint: joined.Fingerprint,
			Querier:     st.querier,
		}, group)
		if err := r.saveFingerprint(ctx, joined.ID, results); err != nil {
			return Triaged{}, err
		}
		material := make([]string, len(group))
		for i := range msg.Alerts {
			scores[i] = rescore(st, group[i], scores[i], results[i])
			results[i].Score, results[i].Priority, results[i].ScoreParts = &scores[i].Value, scores[i].Priority, scores[i].Parts
			results[i].Incident = incidentPart(joined, fps[i])
			results[i].Flapping = flaps[i].part
			material[i] = fps[i] + "=" + results[i].Material()
			if err := r.annotate(&msg.Alerts[i], results[i], flaps[i], st.cfg.ServiceLabel); err != nil {
				return Triaged{}, err
			}
		}
		slices.Sort(material)
		out.Material = strings.Join(material, ",")
		if dedup == triage.Repeat && out.Material == last.Material {
			// Nothing new, not even in its enrichment.
			return r.dropped(ctx, n, triage.Repeat, joined.ID, sig, len(group))
		}
		names = st.integrations.names(n.Receiver)
		if names == nil {
			r.logger.Error("receiver no longer configured, notification not forwarded", "id", n.ID, "receiver", n.Receiver)
		}
	}
	res := Triaged{Decision: decision, Incident: joined.ID, Alerts: len(group), Held: map[triage.Decision]int{}}
	for i, a := range group {
		switch h, ok := held[i]; {
		case ok:
			// Kept on the incident, left out of deliveries.
			if msg.Alerts[i].Annotations == nil {
				msg.Alerts[i].Annotations = template.KV{}
			}
			msg.Alerts[i].Annotations[h.annotation] = h.why
			res.Held[h.decision]++
		default:
			flaps[i].save.Sent = a.EndsAt.IsZero()
		}
		if f := flaps[i]; !f.save.Equal(f.before) {
			out.States[fps[i]] = f.save
		}
	}
	if out.Enriched, err = json.Marshal(msg); err != nil {
		return Triaged{}, fmt.Errorf("encode enriched notification: %w", err)
	}
	if err := r.store.Processed(ctx, n.ID, out, names, r.now()); err != nil {
		return Triaged{}, err
	}
	r.alertStates.stored(n.Receiver, out.States)
	r.metrics.triage.WithLabelValues(string(triage.Forward)).Add(float64(len(group) - len(held)))
	for d, count := range res.Held {
		r.metrics.triage.WithLabelValues(string(d)).Add(float64(count))
	}
	return res, nil
}

// dropped records a notification that carries nothing new (decision
// duplicate or repeat) on the incident of the one it repeats.
func (r *Receiver) dropped(ctx context.Context, n store.Notification, d triage.Decision, incident string, sig triage.Signature, alerts int) (Triaged, error) {
	err := r.store.Processed(ctx, n.ID, store.Outcome{
		Incident: incident, Decision: string(d), Signature: uint64(sig), Enriched: n.Payload,
	}, nil, r.now())
	if err != nil {
		return Triaged{}, err
	}
	r.metrics.triage.WithLabelValues(string(d)).Add(float64(alerts))
	return Triaged{Decision: d, Incident: incident, Alerts: alerts}, nil
}

// score scores each alert of a notification. Other firing alerts on the
// same service agree with it: those in the notification, and those of open
// incidents.
func (r *Receiver) score(ctx context.Context, st *state, group []model.Alert, fps []string, flaps []flapOutcome) ([]triage.Score, error) {
	label := model.LabelName(st.cfg.ServiceLabel)
	firing := map[model.LabelValue]int{}
	for _, a := range group {
		if a.EndsAt.IsZero() {
			firing[a.Labels[label]]++
		}
	}
	// Where the notification itself has enough agreeing alerts, more
	// elsewhere would not count: those services are not looked up.
	var services []string
	for svc, n := range firing {
		if svc != "" && n <= triage.AgreementFull {
			services = append(services, string(svc))
		}
	}
	elsewhere, err := r.store.FiringOnServices(ctx, services, fps, triage.AgreementFull)
	if err != nil {
		return nil, err
	}
	scores := make([]triage.Score, len(group))
	for i, a := range group {
		var e triage.Evidence
		if svc := a.Labels[label]; svc != "" {
			e.Agreeing = firing[svc] + elsewhere[string(svc)]
			if a.EndsAt.IsZero() {
				e.Agreeing-- // not itself
			}
		}
		if flaps[i].save.Flapping {
			e.FlapRate = flaps[i].rate
		}
		scores[i] = triage.ScoreAlert(scorePolicy(st), a, e)
	}
	return scores, nil
}

func scorePolicy(st *state) triage.ScorePolicy {
	return triage.ScorePolicy{
		SeverityScores:  st.cfg.Triage.SeverityScores,
		UnknownSeverity: st.cfg.Triage.UnknownSeverityScore,
	}
}

// rescore scores an alert again with what its enrichment knows: how far
// past its threshold the forecast finds it, and how unusual the baseline
// finds its value.
func rescore(st *state, a model.Alert, s triage.Score, e enrich.Enrichment) triage.Score {
	if e.Forecast == nil && e.Baseline == nil && len(e.SLO) == 0 {
		return s
	}
	ev := s.Evidence
	if f := e.Forecast; f != nil {
		x := triage.Exceedance(f.Comparator, f.Current, f.Threshold)
		ev.Exceedance = &x
	}
	if b := e.Baseline; b != nil {
		u := triage.Unusual(b.Deviation)
		ev.Unusual = &u
	}
	for _, slo := range e.SLO {
		if i := triage.SLOImpact(slo.Severity); ev.SLOImpact == nil || i > *ev.SLOImpact {
			ev.SLOImpact = &i
		}
	}
	return triage.ScoreAlert(scorePolicy(st), a, ev)
}

// hold says why an alert is held back from delivery: the decision, and the
// annotation that records it on the incident.
type hold struct {
	decision   triage.Decision
	annotation string
	why        string
}

// heldBack returns, by index in group, the alerts that are not forwarded:
// those a suppression (from the config or the API) applies to, those
// scored below triage.min_score, and changes of flapping alerts after the
// notification that said they flap. A resolved alert whose firing was
// forwarded is never suppressed or held for its score: whoever was told it
// fired is told it resolved (a flapping one, once it is stable).
func (r *Receiver) heldBack(ctx context.Context, st *state, n store.Notification, group []model.Alert, scores []triage.Score, flaps []flapOutcome) (map[int]hold, error) {
	api, err := r.store.Suppressions(ctx, n.ReceivedAt)
	if err != nil {
		return nil, err
	}
	sups := slices.Clone(st.suppressions)
	for _, s := range api {
		ms, err := r.apiMatchers(s)
		if err != nil {
			r.logger.Error("stored suppression has invalid matchers, ignoring it", "suppression", s.ID, "err", err)
			continue
		}
		sups = append(sups, triage.Suppression{Name: apiSuppressionName(s), Matchers: ms, ExpiresAt: s.ExpiresAt})
	}
	suppressor := triage.NewSuppressor(sups, st.timeIntervals)
	out := map[int]hold{}
	for i, a := range group {
		switch name := suppressor.Suppressed(a.Labels, n.ReceivedAt); {
		case !a.EndsAt.IsZero() && flaps[i].before.Sent && !flaps[i].held:
			// Its firing was forwarded: its resolution goes too.
		case name != "":
			out[i] = hold{decision: triage.Suppressed, annotation: AnnotationSuppressed, why: name}
		case flaps[i].held:
			out[i] = hold{decision: triage.Flapping, annotation: AnnotationFlapHeld,
				why: fmt.Sprintf("flapping (rate %.2f), held until stable", flaps[i].rate)}
		case scores[i].Value < st.cfg.Triage.MinScore:
			out[i] = hold{decision: triage.LowScore, annotation: AnnotationLowScore,
				why: fmt.Sprintf("score %.2f below triage.min_score %.2f", scores[i].Value, st.cfg.Triage.MinScore)}
		}
	}
	return out, nil
}

// commonValue returns the value that all alerts have for a label, or "".
func commonValue(group []model.Alert, name model.LabelName) string {
	v := group[0].Labels[name]
	for _, a := range group[1:] {
		if a.Labels[name] != v {
			return ""
		}
	}
	return string(v)
}

func (r *Receiver) annotate(a *template.Alert, e enrich.Enrichment, f flapOutcome, serviceLabel string) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode enrichment: %w", err)
	}
	if a.Annotations == nil {
		a.Annotations = template.KV{}
	}
	if f.note != "" {
		a.Annotations[AnnotationFlapping] = f.note
	}
	if s := summary(e, a.Labels[serviceLabel]); s != "" {
		a.Annotations[AnnotationSummary] = s
	}
	for name, text := range e.Lines {
		a.Annotations[name] = text
	}
	a.Annotations[AnnotationIncident] = e.IncidentID
	if r.externalURL != nil {
		a.Annotations[AnnotationIncidentURL] = r.externalURL.JoinPath("api/v1/incidents", e.IncidentID).String()
	}
	a.Annotations[AnnotationEnrichment] = string(b)
	return nil
}

// modelAlerts converts webhook alerts to Prometheus's alert model. Firing
// alerts get a zero end time, so that they still read as firing when a
// delivery is retried after the end time Alertmanager predicted.
func modelAlerts(in template.Alerts) []model.Alert {
	out := make([]model.Alert, len(in))
	for i, a := range in {
		out[i] = model.Alert{
			Labels:       labelSet(a.Labels),
			Annotations:  labelSet(a.Annotations),
			StartsAt:     a.StartsAt,
			GeneratorURL: a.GeneratorURL,
		}
		if a.Status == string(model.AlertResolved) {
			out[i].EndsAt = a.EndsAt
		}
	}
	return out
}

func labelSet(kv template.KV) model.LabelSet {
	ls := make(model.LabelSet, len(kv))
	for k, v := range kv {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// enrichedMessage decodes what process stored for delivery.
func enrichedMessage(b []byte) (*webhook.Message, error) {
	var msg webhook.Message
	if err := json.Unmarshal(b, &msg); err != nil {
		return nil, fmt.Errorf("decode stored notification: %w", err)
	}
	if msg.Data == nil {
		return nil, fmt.Errorf("decode stored notification: no alerts")
	}
	return &msg, nil
}
