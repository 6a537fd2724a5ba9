package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/augur-sre/augur/receiver/store"
)

// suppression is the JSON of the suppressions API. Suppressions from the
// config are listed too, with source "config"; only those made through the
// API can be deleted.
type suppression struct {
	ID            string    `json:"id"`
	Source        string    `json:"source"`
	Name          string    `json:"name"`
	Matchers      []string  `json:"matchers"`
	TimeIntervals []string  `json:"time_intervals,omitempty"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	Comment       string    `json:"comment,omitempty"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
}

// maxSuppressionBody bounds a suppression request.
const maxSuppressionBody = 64 << 10

func (r *Receiver) handleAddSuppression(w http.ResponseWriter, req *http.Request) {
	var in struct {
		Name      string    `json:"name"`
		Matchers  []string  `json:"matchers"`
		ExpiresAt time.Time `json:"expires_at"`
		Comment   string    `json:"comment"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxSuppressionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("malformed JSON: %w", err))
		return
	}
	now := r.now()
	switch {
	case strings.TrimSpace(in.Name) == "":
		writeError(w, http.StatusBadRequest, errors.New(`missing field "name"`))
		return
	case len(in.Matchers) == 0:
		writeError(w, http.StatusBadRequest, errors.New(`field "matchers": at least one matcher is required, e.g. ["service=\"checkout\""]`))
		return
	case in.ExpiresAt.IsZero():
		writeError(w, http.StatusBadRequest, errors.New(`missing field "expires_at" (RFC 3339): a temporary suppression must end`))
		return
	case !in.ExpiresAt.After(now):
		writeError(w, http.StatusBadRequest, fmt.Errorf(`field "expires_at": %s is not in the future`, in.ExpiresAt.Format(time.RFC3339)))
		return
	}
	if _, err := parseMatchers(in.Matchers); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf(`field "matchers": %w`, err))
		return
	}
	rec := store.Suppression{Name: in.Name, Matchers: in.Matchers, ExpiresAt: in.ExpiresAt, Comment: in.Comment, CreatedAt: now}
	id, err := r.store.AddSuppression(req.Context(), rec)
	if err != nil {
		r.logger.Error("add suppression", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	rec.ID = id
	r.logger.Info("suppression added", "id", id, "name", in.Name, "matchers", strings.Join(in.Matchers, ","), "expires_at", in.ExpiresAt)
	writeJSON(w, http.StatusOK, apiSuppression(rec))
}

func (r *Receiver) handleListSuppressions(w http.ResponseWriter, req *http.Request) {
	st := r.state.Load()
	if st == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("augur is starting: no config loaded yet"))
		return
	}
	out := []suppression{}
	for _, rule := range st.cfg.Triage.Suppress {
		ms := make([]string, len(rule.Matchers))
		for i, m := range rule.Matchers {
			ms[i] = m.String()
		}
		out = append(out, suppression{ID: rule.Name, Source: "config", Name: rule.Name, Matchers: ms, TimeIntervals: rule.TimeIntervals})
	}
	recs, err := r.store.Suppressions(req.Context(), r.now())
	if err != nil {
		r.logger.Error("list suppressions", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	for _, rec := range recs {
		out = append(out, apiSuppression(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Receiver) handleDeleteSuppression(w http.ResponseWriter, req *http.Request) {
	id, err := strconv.ParseInt(req.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("no suppression %q: suppressions from augur.yml are removed there", req.PathValue("id")))
		return
	}
	switch err := r.store.DeleteSuppression(req.Context(), id); {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
	case err != nil:
		r.logger.Error("delete suppression", "err", err)
		writeError(w, http.StatusInternalServerError, err)
	default:
		r.apiSuppressionMatchers.Delete(id)
		r.logger.Info("suppression deleted", "id", id)
		w.WriteHeader(http.StatusNoContent)
	}
}

func apiSuppression(rec store.Suppression) suppression {
	return suppression{
		ID: strconv.FormatInt(rec.ID, 10), Source: "api", Name: rec.Name, Matchers: rec.Matchers,
		ExpiresAt: rec.ExpiresAt.UTC(), Comment: rec.Comment, CreatedAt: rec.CreatedAt.UTC(),
	}
}

// apiSuppressionName is how a suppression made through the API is named
// where it applied (the augur_suppressed annotation).
func apiSuppressionName(rec store.Suppression) string {
	return fmt.Sprintf("%s (suppression %d)", rec.Name, rec.ID)
}

// apiMatchers returns the parsed matchers of a suppression made through
// the API, parsing them (regular expressions included) once rather than for
// every notification. Ids are never reused, so entries never go stale.
func (r *Receiver) apiMatchers(s store.Suppression) (labels.Matchers, error) {
	if ms, ok := r.apiSuppressionMatchers.Load(s.ID); ok {
		return ms.(labels.Matchers), nil
	}
	ms, err := parseMatchers(s.Matchers)
	if err != nil {
		return nil, err
	}
	r.apiSuppressionMatchers.Store(s.ID, ms)
	return ms, nil
}

// parseMatchers parses matchers in Alertmanager's syntax.
func parseMatchers(in []string) (labels.Matchers, error) {
	var out labels.Matchers
	for _, s := range in {
		ms, err := compat.Matchers(s, "api")
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}
