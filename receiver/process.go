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
	// back, by decision (suppressed, low_score).
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

	sig := triage.SignatureOf(n.Receiver, n.GroupKey, group)
	last, found, err := r.store.LastDecided(ctx, n.Receiver, n.GroupKey, string(triage.Forward))
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
	if d := triage.Dedup(policy, prev, sig, n.ReceivedAt); d != triage.Forward {
		// Recorded on the incident of the notification it repeats.
		err := r.store.Processed(ctx, n.ID, store.Outcome{
			Incident: last.Incident, Decision: string(d), Signature: uint64(sig), Enriched: n.Payload,
		}, nil, r.now())
		if err != nil {
			return Triaged{}, err
		}
		r.metrics.triage.WithLabelValues(string(d)).Add(float64(len(group)))
		return Triaged{Decision: d, Incident: last.Incident, Alerts: len(group)}, nil
	}

	scores, err := r.score(ctx, st, n, group)
	if err != nil {
		return Triaged{}, err
	}
	held, err := r.heldBack(ctx, st, n, group, scores)
	if err != nil {
		return Triaged{}, err
	}
	decision := triage.Forward
	if len(held) == len(group) {
		decision = triage.LowScore
		for _, h := range held {
			if h.decision == triage.Suppressed {
				decision = triage.Suppressed
			}
		}
	}

	incident, opened, err := r.store.Incident(ctx, store.IncidentKey{
		Receiver: n.Receiver,
		GroupKey: n.GroupKey,
		Service:  commonValue(group, model.LabelName(st.cfg.ServiceLabel)),
		Title:    title(group),
	}, msg.Status == string(model.AlertResolved), r.now())
	if err != nil {
		return Triaged{}, err
	}
	if opened {
		r.metrics.incidents.Inc()
	}
	out := store.Outcome{Incident: incident, Decision: string(decision), Signature: uint64(sig)}
	var names []string
	if decision == triage.Forward {
		results := st.orchestrator.Enrich(ctx, enrich.Input{
			Receiver: n.Receiver,
			GroupKey: n.GroupKey,
			Incident: incident,
			Querier:  st.querier,
		}, group)
		for i := range msg.Alerts {
			results[i].Score, results[i].Priority, results[i].ScoreParts = &scores[i].Value, scores[i].Priority, scores[i].Parts
			if err := r.annotate(&msg.Alerts[i], results[i]); err != nil {
				return Triaged{}, err
			}
		}
		names = st.integrations.names(n.Receiver)
		if names == nil {
			r.logger.Error("receiver no longer configured, notification not forwarded", "id", n.ID, "receiver", n.Receiver)
		}
	}
	res := Triaged{Decision: decision, Incident: incident, Alerts: len(group), Held: map[triage.Decision]int{}}
	for i, a := range group {
		fp := a.Labels.Fingerprint().String()
		switch h, ok := held[i]; {
		case ok:
			// Kept on the incident, left out of deliveries.
			if msg.Alerts[i].Annotations == nil {
				msg.Alerts[i].Annotations = template.KV{}
			}
			msg.Alerts[i].Annotations[h.annotation] = h.why
			res.Held[h.decision]++
		case a.EndsAt.IsZero():
			out.Fired = append(out.Fired, fp)
		default:
			out.Resolved = append(out.Resolved, fp)
		}
	}
	if out.Enriched, err = json.Marshal(msg); err != nil {
		return Triaged{}, fmt.Errorf("encode enriched notification: %w", err)
	}
	if err := r.store.Processed(ctx, n.ID, out, names, r.now()); err != nil {
		return Triaged{}, err
	}
	r.metrics.triage.WithLabelValues(string(triage.Forward)).Add(float64(len(group) - len(held)))
	for d, count := range res.Held {
		r.metrics.triage.WithLabelValues(string(d)).Add(float64(count))
	}
	return res, nil
}

// score scores each alert of a notification. Other firing alerts on the
// same service agree with it: those in the notification, and the open
// incidents of other alert groups on that service.
func (r *Receiver) score(ctx context.Context, st *state, n store.Notification, group []model.Alert) ([]triage.Score, error) {
	policy := triage.ScorePolicy{
		SeverityScores:  st.cfg.Triage.SeverityScores,
		UnknownSeverity: st.cfg.Triage.UnknownSeverityScore,
	}
	label := model.LabelName(st.cfg.ServiceLabel)
	firing := map[model.LabelValue]int{}
	for _, a := range group {
		if a.EndsAt.IsZero() {
			firing[a.Labels[label]]++
		}
	}
	elsewhere := map[model.LabelValue]int{}
	for svc := range firing {
		if svc == "" {
			continue
		}
		count, err := r.store.OpenIncidentsOfService(ctx, string(svc), n.Receiver, n.GroupKey)
		if err != nil {
			return nil, err
		}
		elsewhere[svc] = count
	}
	scores := make([]triage.Score, len(group))
	for i, a := range group {
		svc := a.Labels[label]
		agreeing := 0
		if svc != "" {
			agreeing = firing[svc] + elsewhere[svc]
			if a.EndsAt.IsZero() {
				agreeing-- // not itself
			}
		}
		scores[i] = triage.ScoreAlert(policy, a, agreeing)
	}
	return scores, nil
}

// hold says why an alert is held back from delivery: the decision, and the
// annotation that records it on the incident.
type hold struct {
	decision   triage.Decision
	annotation string
	why        string
}

// heldBack returns, by index in group, the alerts that are not forwarded:
// those a suppression (from the config or the API) applies to, and those
// scored below triage.min_score. A resolved alert whose firing was forwarded
// is never held back: whoever was told it fired is told it resolved.
func (r *Receiver) heldBack(ctx context.Context, st *state, n store.Notification, group []model.Alert, scores []triage.Score) (map[int]hold, error) {
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
	var resolved []string
	for i, a := range group {
		switch name := suppressor.Suppressed(a.Labels, n.ReceivedAt); {
		case name != "":
			out[i] = hold{decision: triage.Suppressed, annotation: AnnotationSuppressed, why: name}
		case scores[i].Value < st.cfg.Triage.MinScore:
			out[i] = hold{decision: triage.LowScore, annotation: AnnotationLowScore,
				why: fmt.Sprintf("score %.2f below triage.min_score %.2f", scores[i].Value, st.cfg.Triage.MinScore)}
		default:
			continue
		}
		if !a.EndsAt.IsZero() {
			resolved = append(resolved, a.Labels.Fingerprint().String())
		}
	}
	if len(resolved) == 0 {
		return out, nil
	}
	sent, err := r.store.FiringSent(ctx, n.Receiver, resolved)
	if err != nil {
		return nil, err
	}
	for i, a := range group {
		if _, ok := out[i]; ok && sent[a.Labels.Fingerprint().String()] {
			delete(out, i)
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

// title names an incident by its alerts: "HighErrorRate", or
// "HighErrorRate, HighLatency" for several.
func title(group []model.Alert) string {
	var names []string
	for _, a := range group {
		if n := string(a.Labels[model.AlertNameLabel]); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (r *Receiver) annotate(a *template.Alert, e enrich.Enrichment) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode enrichment: %w", err)
	}
	if a.Annotations == nil {
		a.Annotations = template.KV{}
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
