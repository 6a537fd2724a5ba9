package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/augur-sre/augur/receiver/store"
)

// resolution is the JSON of what resolved an incident.
type resolution struct {
	ResolutionType     string    `json:"resolution_type"`
	RootCause          string    `json:"root_cause,omitempty"`
	EffectiveActions   []string  `json:"effective_actions"`
	IneffectiveActions []string  `json:"ineffective_actions"`
	Notes              string    `json:"notes,omitempty"`
	Source             string    `json:"source"`
	RecordedAt         time.Time `json:"recorded_at"`
}

// maxResolutionBody bounds a resolution request.
const maxResolutionBody = 64 << 10

func (r *Receiver) handleResolution(w http.ResponseWriter, req *http.Request) {
	var in struct {
		ResolutionType     string   `json:"resolution_type"`
		RootCause          string   `json:"root_cause"`
		EffectiveActions   []string `json:"effective_actions"`
		IneffectiveActions []string `json:"ineffective_actions"`
		Notes              string   `json:"notes"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxResolutionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("malformed JSON: %w", err))
		return
	}
	if strings.TrimSpace(in.ResolutionType) == "" {
		writeError(w, http.StatusBadRequest, errors.New(`missing field "resolution_type", e.g. "rollback", "manual_fix", "scaling", "restart"`))
		return
	}
	// Lists absent from the request are empty, not null, in the answer.
	in.EffectiveActions = append([]string{}, in.EffectiveActions...)
	in.IneffectiveActions = append([]string{}, in.IneffectiveActions...)
	for field, actions := range map[string][]string{"effective_actions": in.EffectiveActions, "ineffective_actions": in.IneffectiveActions} {
		for i, a := range actions {
			if strings.TrimSpace(a) == "" {
				writeError(w, http.StatusBadRequest, fmt.Errorf(`field %q: action %d is empty`, field, i))
				return
			}
		}
	}
	rec := store.Resolution{
		IncidentID: req.PathValue("id"), Type: in.ResolutionType, RootCause: in.RootCause,
		EffectiveActions: in.EffectiveActions, IneffectiveActions: in.IneffectiveActions, Notes: in.Notes,
		Source: store.ResolutionByAPI, RecordedAt: r.now(),
	}
	switch err := r.store.SetResolution(req.Context(), rec); {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
		return
	case err != nil:
		r.logger.Error("record resolution", "err", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	r.logger.Info("resolution recorded", "incident", rec.IncidentID, "type", rec.Type)
	writeJSON(w, http.StatusOK, apiResolution(rec))
}

func apiResolution(r store.Resolution) resolution {
	return resolution{
		ResolutionType: r.Type, RootCause: r.RootCause,
		EffectiveActions: r.EffectiveActions, IneffectiveActions: r.IneffectiveActions,
		Notes: r.Notes, Source: r.Source, RecordedAt: r.RecordedAt.UTC(),
	}
}
