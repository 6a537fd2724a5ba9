package receiver

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
)

// Register adds the intake endpoints to mux.
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("/api/v1/webhook", r.handleWebhook)
	mux.HandleFunc("/api/v1/webhook/{receiver}", r.handleWebhook)
	mux.HandleFunc("GET /api/v1/incidents", r.handleIncidents)
	mux.HandleFunc("GET /api/v1/incidents/{id}", r.handleIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/resolution", r.authorized(r.handleResolution))
	mux.HandleFunc("POST /api/v1/suppressions", r.handleAddSuppression)
	mux.HandleFunc("GET /api/v1/suppressions", r.handleListSuppressions)
	mux.HandleFunc("DELETE /api/v1/suppressions/{id}", r.handleDeleteSuppression)
	mux.HandleFunc("POST /api/v1/changes", r.authorized(r.handleAddChange))
	mux.HandleFunc("GET /api/v1/changes", r.handleListChanges)
}

// authorized lets a request through to h when it carries the credentials
// intake requires, if any: whoever may post alerts may post the events
// that explain them.
func (r *Receiver) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		st := r.state.Load()
		if st == nil {
			writeError(w, http.StatusServiceUnavailable, errors.New("augur is starting: no config loaded yet"))
			return
		}
		if err := authorize(req, st.cfg.Intake); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="augur", Basic realm="augur"`)
			writeError(w, http.StatusUnauthorized, err)
			return
		}
		h(w, req)
	}
}

// handleWebhook takes one Alertmanager notification. It answers 200 only
// once the notification is stored durably; everything else is a 4xx (or a
// 5xx when the store fails) with a JSON body that says what is wrong.
func (r *Receiver) handleWebhook(w http.ResponseWriter, req *http.Request) {
	code, err := r.intake(req)
	r.metrics.webhookRequests.WithLabelValues(strconv.Itoa(code)).Inc()
	if err != nil {
		switch code {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", http.MethodPost)
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="augur", Basic realm="augur"`)
		case http.StatusInternalServerError:
			r.logger.Error("webhook intake", "err", err)
		}
		writeError(w, code, err)
		return
	}
	writeJSON(w, code, map[string]string{"status": "success"})
}

func (r *Receiver) intake(req *http.Request) (int, error) {
	st := r.state.Load()
	if st == nil {
		return http.StatusServiceUnavailable, errors.New("augur is starting: no config loaded yet")
	}
	if req.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed: use POST", req.Method)
	}
	if err := authorize(req, st.cfg.Intake); err != nil {
		return http.StatusUnauthorized, err
	}
	defer r.store.Intake()()
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, fmt.Errorf("content type %q not supported: send application/json", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, st.cfg.Intake.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than intake.max_body_bytes (%d bytes)", tooBig.Limit)
		}
		return http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	msg, err := Decode(body)
	if err != nil {
		return http.StatusBadRequest, err
	}
	name, code, err := receiverFor(st.cfg, req.PathValue("receiver"), msg.Receiver)
	if err != nil {
		return code, err
	}
	_, err = r.store.AddNotification(req.Context(), store.Notification{
		Receiver:   name,
		GroupKey:   msg.GroupKey,
		ReceivedAt: r.now(),
		Alerts:     len(msg.Alerts),
		Payload:    body,
	})
	if err != nil {
		return http.StatusInternalServerError, fmt.Errorf("store notification: %w", err)
	}
	r.metrics.alertsReceived.WithLabelValues(name).Add(float64(len(msg.Alerts)))
	wake(r.wakeProcess)
	return http.StatusOK, nil
}

// receiverFor returns augur's receiver for a notification: the one named in
// the URL path, or else the payload's receiver (Alertmanager's name for it)
// or intake.default_receiver. On error it returns the HTTP status to answer.
func receiverFor(cfg *config.Config, inPath, inPayload string) (string, int, error) {
	name := inPath
	if name == "" {
		name = inPayload
		if name == "" {
			return "", http.StatusBadRequest, errors.New("missing field \"receiver\": name the receiver in the payload or use /api/v1/webhook/{receiver}")
		}
		if _, ok := cfg.Receiver(name); !ok && cfg.Intake.DefaultReceiver != "" {
			name = cfg.Intake.DefaultReceiver
		}
	}
	if _, ok := cfg.Receiver(name); !ok {
		return "", http.StatusNotFound, fmt.Errorf("unknown receiver %q: augur.yml defines %s", name, receiverNames(cfg))
	}
	return name, http.StatusOK, nil
}

// authorize checks the credentials that intake requires, if any.
func authorize(req *http.Request, c config.IntakeConfig) error {
	switch {
	case c.BearerToken != "":
		token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(c.BearerToken)) != 1 {
			return errors.New("missing or wrong bearer token")
		}
	case c.BasicAuth != nil:
		user, pass, ok := req.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(c.BasicAuth.Username)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(c.BasicAuth.Password)) == 1
		if !ok || !userOK || !passOK {
			return errors.New("missing or wrong basic auth credentials")
		}
	}
	return nil
}

func receiverNames(cfg *config.Config) string {
	if len(cfg.Receivers) == 0 {
		return "no receivers"
	}
	names := make([]string, 0, len(cfg.Receivers))
	for _, r := range cfg.Receivers {
		names = append(names, strconv.Quote(r.Name))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// The status line is out; an encoding error can only be a broken connection.
	_ = json.NewEncoder(w).Encode(v) //nolint:errcheck
}

// incidentHeader is what GET /api/v1/incidents and GET
// /api/v1/incidents/{id} both show of an incident.
type incidentHeader struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Services []string `json:"services"`
	Priority string   `json:"priority,omitempty"`
	State    string   `json:"state"`
	Alerts   int      `json:"alerts"`
	Firing   int      `json:"firing"`
	// Receiver and GroupKey are of the alert group that opened it.
	Receiver   string     `json:"receiver"`
	GroupKey   string     `json:"group_key"`
	OpenedAt   time.Time  `json:"opened_at"`
	QuietSince *time.Time `json:"quiet_since,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

func newIncidentHeader(inc store.Incident) incidentHeader {
	h := incidentHeader{
		ID: inc.ID, Title: inc.Title, Services: inc.Services, Priority: inc.Priority, State: inc.State(),
		Alerts: inc.Alerts, Firing: inc.Firing, Receiver: inc.Receiver, GroupKey: inc.GroupKey,
		OpenedAt: inc.OpenedAt.UTC(), QuietSince: optionalTime(inc.QuietSince), ResolvedAt: optionalTime(inc.ResolvedAt),
	}
	if h.Services == nil {
		h.Services = []string{}
	}
	h.Summary = fmt.Sprintf("%d of %d alerts firing", inc.Firing, inc.Alerts)
	if len(inc.Services) > 0 {
		h.Summary += " on " + strings.Join(inc.Services, ", ")
	}
	switch {
	case !inc.ResolvedAt.IsZero():
		h.Summary += fmt.Sprintf("; resolved after %s", inc.ResolvedAt.Sub(inc.OpenedAt).Round(time.Second))
	case !inc.QuietSince.IsZero():
		h.Summary += fmt.Sprintf("; all resolved since %s, in the grace period", inc.QuietSince.UTC().Format(time.RFC3339))
	}
	return h
}

// incidentSummary is an incident in GET /api/v1/incidents.
type incidentSummary struct {
	incidentHeader
	Notifications int `json:"notifications"`
}

// incident is the JSON of GET /api/v1/incidents/{id}.
type incident struct {
	incidentHeader
	Resolution *resolution `json:"resolution,omitempty"`
	// Fingerprint is what similar incidents are found by; Similar and
	// SuggestedActions are those of its latest notification that had
	// any; Diagnostics, the results of diagnostic steps that finished
	// after their notification went out.
	Fingerprint      json.RawMessage          `json:"fingerprint,omitempty"`
	SimilarIncidents []enrich.SimilarIncident `json:"similar_incidents,omitempty"`
	SuggestedActions []string                 `json:"suggested_actions,omitempty"`
	Diagnostics      []diagnostic             `json:"diagnostics,omitempty"`
	AlertList        []incidentAlert          `json:"alert_list"`
	Timeline         []event                  `json:"timeline"`
	Notifications    []notification           `json:"notifications"`
}

// diagnostic is a diagnostic result that came after its notification.
type diagnostic struct {
	enrich.Diagnostic
	At time.Time `json:"at"`
}

type incidentAlert struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Status      string            `json:"status"`
	Priority    string            `json:"priority,omitempty"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      *time.Time        `json:"ends_at,omitempty"`
	JoinedAt    time.Time         `json:"joined_at"`
}

// event is one line of an incident's timeline.
type event struct {
	At    time.Time `json:"at"`
	Event string    `json:"event"`
	// Alert names the alert (alertname and labels), Notification the
	// notification, where the event is about one.
	Alert        string `json:"alert,omitempty"`
	Notification int64  `json:"notification,omitempty"`
	Detail       string `json:"detail,omitempty"`
}

// timeline orders what happened in an incident: its alerts firing and
// resolving, the notifications and what triage decided for them, and the
// incident's own opening, quiet and resolution.
func timeline(rec store.IncidentRecord) []event {
	out := []event{{At: rec.OpenedAt.UTC(), Event: "incident_opened", Detail: rec.Title}}
	for _, a := range rec.AlertList {
		name := labelSet(template.KV(a.Labels)).String()
		out = append(out, event{At: a.StartsAt.UTC(), Event: "alert_firing", Alert: name})
		if !a.EndsAt.IsZero() {
			out = append(out, event{At: a.EndsAt.UTC(), Event: "alert_resolved", Alert: name})
		}
	}
	for _, n := range rec.Notifications {
		out = append(out, event{At: n.ReceivedAt.UTC(), Event: "notification", Notification: n.ID, Detail: n.Decision})
	}
	if !rec.QuietSince.IsZero() {
		out = append(out, event{At: rec.QuietSince.UTC(), Event: "all_alerts_resolved"})
	}
	if !rec.ResolvedAt.IsZero() {
		out = append(out, event{At: rec.ResolvedAt.UTC(), Event: "incident_resolved"})
	}
	slices.SortStableFunc(out, func(a, b event) int { return a.At.Compare(b.At) })
	return out
}

// maxIncidents bounds GET /api/v1/incidents?limit=.
const maxIncidents = 1000

// handleIncidents lists incidents, newest first: ?state=open|resolved,
// ?service=, ?limit= (default 100).
func (r *Receiver) handleIncidents(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	f := store.IncidentFilter{State: q.Get("state"), Service: q.Get("service"), Limit: 100}
	if f.State != "" && f.State != "open" && f.State != "resolved" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("state %q: want open or resolved", f.State))
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxIncidents {
			writeError(w, http.StatusBadRequest, fmt.Errorf("limit %q: want a number from 1 to %d", l, maxIncidents))
			return
		}
		f.Limit = n
	}
	list, err := r.store.Incidents(req.Context(), f)
	if err != nil {
		r.logger.Error("list incidents", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := make([]incidentSummary, len(list))
	for i, inc := range list {
		out[i] = incidentSummary{incidentHeader: newIncidentHeader(inc.Incident), Notifications: inc.Notifications}
	}
	writeJSON(w, http.StatusOK, out)
}

type notification struct {
	ID         int64             `json:"id"`
	ReceivedAt time.Time         `json:"received_at"`
	Decision   string            `json:"decision"`
	Status     string            `json:"status"`
	Alerts     template.Alerts   `json:"alerts"`
	Deliveries []deliveryOutcome `json:"deliveries"`
}

type deliveryOutcome struct {
	Integration string     `json:"integration"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
}

// handleIncident shows one incident: its notifications as forwarded, with
// their alerts and enrichment, and what became of each delivery.
func (r *Receiver) handleIncident(w http.ResponseWriter, req *http.Request) {
	rec, err := r.store.IncidentByID(req.Context(), req.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
		return
	case err != nil:
		r.logger.Error("read incident", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := incident{
		incidentHeader: newIncidentHeader(rec.Incident),
		AlertList:      make([]incidentAlert, 0, len(rec.AlertList)),
		Timeline:       timeline(rec),
		Notifications:  make([]notification, 0, len(rec.Notifications)),
	}
	switch res, ok, err := r.store.ResolutionOf(req.Context(), rec.ID); {
	case err != nil:
		r.logger.Error("read incident", "incident", rec.ID, "err", err)
	case ok:
		ar := apiResolution(res)
		out.Resolution = &ar
	}
	for _, a := range rec.AlertList {
		ia := incidentAlert{Fingerprint: a.Fingerprint, Labels: a.Labels, Status: string(model.AlertFiring),
			Priority: a.Priority, StartsAt: a.StartsAt.UTC(), EndsAt: optionalTime(a.EndsAt), JoinedAt: a.JoinedAt.UTC()}
		if !a.Firing {
			ia.Status = string(model.AlertResolved)
		}
		out.AlertList = append(out.AlertList, ia)
	}
	out.Fingerprint = rec.Fingerprint
	for _, d := range rec.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, diagnostic{Diagnostic: enrich.Diagnostic{Step: d.Step, OK: d.OK, Output: d.Output, Error: d.Error}, At: d.At.UTC()})
	}
	for _, n := range rec.Notifications {
		msg, err := enrichedMessage(n.Enriched)
		if err != nil {
			r.logger.Error("read incident", "incident", rec.ID, "notification", n.ID, "err", err)
			continue
		}
		on := notification{ID: n.ID, ReceivedAt: n.ReceivedAt.UTC(), Decision: n.Decision, Status: msg.Status, Alerts: msg.Alerts, Deliveries: []deliveryOutcome{}}
		for _, d := range n.Deliveries {
			on.Deliveries = append(on.Deliveries, deliveryOutcome{
				Integration: d.Integration, State: d.State, Attempts: d.Attempts, LastError: d.LastError, DoneAt: optionalTime(d.DoneAt),
			})
		}
		out.Notifications = append(out.Notifications, on)
		for _, a := range msg.Alerts {
			var e enrich.Enrichment
			if json.Unmarshal([]byte(a.Annotations[AnnotationEnrichment]), &e) == nil && len(e.SimilarIncidents) > 0 {
				out.SimilarIncidents, out.SuggestedActions = e.SimilarIncidents, e.SuggestedActions
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
