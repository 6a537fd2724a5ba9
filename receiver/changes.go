package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/augur-sre/augur/enrich/rootcause/cause"
	"github.com/augur-sre/augur/receiver/store"
)

// change is the JSON of the changes API.
type change struct {
	ID          int64     `json:"id"`
	Service     string    `json:"service"`
	Type        string    `json:"type"`
	Timestamp   time.Time `json:"timestamp"`
	Description string    `json:"description,omitempty"`
	Source      string    `json:"source,omitempty"`
	URL         string    `json:"url,omitempty"`
}

// Limits of the changes API: a request body, how far in the future a
// change may be dated (clock skew between CI and augur), and how many
// changes a listing returns by default and at most.
const (
	maxChangeBody      = 64 << 10
	maxChangeSkew      = 5 * time.Minute
	defaultChangeLimit = 100
	maxChangeLimit     = 1000
)

func (r *Receiver) handleAddChange(w http.ResponseWriter, req *http.Request) {
	var in struct {
		Service     string    `json:"service"`
		Type        string    `json:"type"`
		Timestamp   time.Time `json:"timestamp"`
		Description string    `json:"description"`
		Source      string    `json:"source"`
		URL         string    `json:"url"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxChangeBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("malformed JSON: %w", err))
		return
	}
	now := r.now()
	if in.Timestamp.IsZero() {
		in.Timestamp = now
	}
	switch {
	case strings.TrimSpace(in.Service) == "":
		writeError(w, http.StatusBadRequest, errors.New(`missing field "service": the service that changed`))
		return
	case strings.TrimSpace(in.Type) == "":
		writeError(w, http.StatusBadRequest, errors.New(`missing field "type", e.g. "deployment", "config", "feature_flag", "scaling"`))
		return
	case in.Timestamp.After(now.Add(maxChangeSkew)):
		writeError(w, http.StatusBadRequest, fmt.Errorf(`field "timestamp": %s is more than %s in the future`, in.Timestamp.Format(time.RFC3339), maxChangeSkew))
		return
	}
	if in.URL != "" {
		if u, err := url.Parse(in.URL); err != nil || u.Scheme == "" || u.Host == "" {
			writeError(w, http.StatusBadRequest, fmt.Errorf(`field "url": %q is not an absolute URL`, in.URL))
			return
		}
	}
	c := store.Change{Service: in.Service, Type: in.Type, At: in.Timestamp, Description: in.Description, Source: in.Source, URL: in.URL, CreatedAt: now}
	id, err := r.store.AddChange(req.Context(), c)
	if err != nil {
		r.logger.Error("add change", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	c.ID = id
	r.metrics.changes.WithLabelValues(apiSource).Inc()
	r.logger.Info("change recorded", "id", id, "service", c.Service, "type", c.Type, "at", c.At)
	writeJSON(w, http.StatusOK, apiChange(c))
}

func (r *Receiver) handleListChanges(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	f := store.ChangeFilter{Limit: defaultChangeLimit}
	if s := q["service"]; len(s) > 0 {
		f.Services = s
	}
	if s := q.Get("since"); s != "" {
		t, err := parseSince(s, r.now())
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf(`parameter "since": %w`, err))
			return
		}
		f.Since = t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > maxChangeLimit {
			writeError(w, http.StatusBadRequest, fmt.Errorf(`parameter "limit": %q is not a number within 1..%d`, s, maxChangeLimit))
			return
		}
		f.Limit = n
	}
	recs, err := r.store.Changes(req.Context(), f)
	if err != nil {
		r.logger.Error("list changes", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := make([]change, len(recs))
	for i, c := range recs {
		out[i] = apiChange(c)
	}
	writeJSON(w, http.StatusOK, out)
}

// parseSince reads a time as RFC 3339 or as a duration before now ("2h").
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 2h", s)
	}
	return now.Add(-d), nil
}

func apiChange(c store.Change) change {
	return change{ID: c.ID, Service: c.Service, Type: c.Type, Timestamp: c.At.UTC(), Description: c.Description, Source: c.Source, URL: c.URL}
}

// Changes returns the changes recorded for the services between from
// and to, for root-cause analysis (rootcause.ChangeSource).
func (r *Receiver) Changes(ctx context.Context, services []string, from, to time.Time) ([]cause.Change, error) {
	recs, err := r.store.Changes(ctx, store.ChangeFilter{Services: services, Since: from, Until: to})
	if err != nil {
		return nil, err
	}
	out := make([]cause.Change, len(recs))
	for i, c := range recs {
		out[i] = cause.Change{Service: c.Service, Type: c.Type, At: c.At, Description: c.Description}
	}
	return out, nil
}
