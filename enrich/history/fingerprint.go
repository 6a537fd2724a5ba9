package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FingerprintVersion is the version of the Fingerprint JSON. Decode refuses
// other versions, so that a stored fingerprint of an older shape is
// recomputed rather than compared wrongly.
const FingerprintVersion = 1

// Time-of-day classes. Hours are in the fingerprint's time zone (Input.Location,
// UTC by default) and end-exclusive.
const (
	// BusinessHours is Monday to Friday, 08:00–18:00.
	BusinessHours = "business_hours"
	// Evening is Monday to Friday, 18:00–23:00.
	Evening = "evening"
	// Night is Monday to Friday, 23:00–08:00 (Friday 23:30 is night).
	Night = "night"
	// Weekend is all of Saturday and Sunday.
	Weekend = "weekend"
)

// AutoResolved is the resolution type of an incident that resolved by
// itself, with no action recorded.
const AutoResolved = "auto_resolved"

// Fingerprint is what an incident looked like, for comparing it with
// others: it is computed when the incident opens and recomputed as it
// evolves. It is stored as JSON.
type Fingerprint struct {
	Version int `json:"version"`
	// Signature maps a golden signal (error_rate, latency, ...) of the
	// origin or alerting service to its pattern (stable, step_change,
	// sudden_increase, ...).
	Signature map[string]string `json:"signature,omitempty"`
	// Services and Alertnames are the services and alert names involved,
	// sorted and without repeats.
	Services   []string `json:"services,omitempty"`
	Alertnames []string `json:"alertnames,omitempty"`
	// Cause is the top root-cause hypothesis, empty when there is none.
	Cause string `json:"cause,omitempty"`
	// TimeOfDay is the time-of-day class of the opening (BusinessHours,
	// Evening, Night, Weekend) and Weekday its day ("monday", ...), both in
	// the time zone the fingerprint was made in.
	TimeOfDay string `json:"time_of_day"`
	Weekday   string `json:"weekday"`
	// DurationSeconds is how long the incident lasted; while it is Open, how
	// long it has lasted so far.
	DurationSeconds float64 `json:"duration_seconds"`
	Open            bool    `json:"open,omitempty"`
	// Severity is the progression of the incident's priority (P1–P4) in the
	// order it went through them, e.g. [P4 P2 P1].
	Severity []string `json:"severity,omitempty"`
	// Resolution is the resolution type (rollback, manual_fix, scaling,
	// AutoResolved, ...) once known.
	Resolution string `json:"resolution_type,omitempty"`
}

// Input is what a fingerprint is made of, in plain values.
type Input struct {
	Services   []string
	Alertnames []string
	// Signature maps each signal of the origin (or alerting) service to its
	// pattern.
	Signature map[string]string
	Cause     string
	// OpenedAt is when the incident opened; ResolvedAt when it resolved,
	// zero while it is open, and then Now ends its duration so far.
	OpenedAt   time.Time
	ResolvedAt time.Time
	Now        time.Time
	// Priorities are the incident's priorities (P1–P4) in the order they
	// were seen; repeats in a row count once.
	Priorities []string
	// ResolutionType is the resolution type once known.
	ResolutionType string
	// Location is the time zone of the time-of-day class and the weekday;
	// nil means UTC.
	Location *time.Location
}

// New returns the fingerprint of an incident. It fails when the opening
// is missing, the incident ends before it opens, or a priority is not one
// of P1–P4.
func New(in Input) (Fingerprint, error) {
	if in.OpenedAt.IsZero() {
		return Fingerprint{}, errors.New("fingerprint: the opening time is missing")
	}
	end, open := in.ResolvedAt, in.ResolvedAt.IsZero()
	if open {
		end = in.Now
	}
	if end.Before(in.OpenedAt) {
		return Fingerprint{}, fmt.Errorf("fingerprint: the incident ends at %s, before it opens at %s", end.Format(time.RFC3339), in.OpenedAt.Format(time.RFC3339))
	}
	var severity []string
	for _, p := range in.Priorities {
		if priorityRank(p) == 0 {
			return Fingerprint{}, fmt.Errorf("fingerprint: priority %q is not one of P1, P2, P3, P4", p)
		}
		if len(severity) == 0 || severity[len(severity)-1] != p {
			severity = append(severity, p)
		}
	}
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	at := in.OpenedAt.In(loc)
	sig := map[string]string{}
	for signal, pattern := range in.Signature {
		if signal != "" && pattern != "" {
			sig[signal] = pattern
		}
	}
	if len(sig) == 0 {
		sig = nil
	}
	return Fingerprint{
		Version:         FingerprintVersion,
		Signature:       sig,
		Services:        set(in.Services),
		Alertnames:      set(in.Alertnames),
		Cause:           in.Cause,
		TimeOfDay:       TimeOfDay(at),
		Weekday:         strings.ToLower(at.Weekday().String()),
		DurationSeconds: end.Sub(in.OpenedAt).Seconds(),
		Open:            open,
		Severity:        severity,
		Resolution:      in.ResolutionType,
	}, nil
}

// Decode reads a stored fingerprint. It fails on a version other than
// FingerprintVersion.
func Decode(data []byte) (Fingerprint, error) {
	var fp Fingerprint
	if err := json.Unmarshal(data, &fp); err != nil {
		return Fingerprint{}, fmt.Errorf("decode fingerprint: %w", err)
	}
	if fp.Version != FingerprintVersion {
		return Fingerprint{}, fmt.Errorf("decode fingerprint: version %d, want %d: recompute it", fp.Version, FingerprintVersion)
	}
	return fp, nil
}

// TimeOfDay returns the time-of-day class of t in t's own location: Weekend
// on Saturday and Sunday, else BusinessHours from 08:00 to 18:00, Evening
// to 23:00, and Night to 08:00.
func TimeOfDay(t time.Time) string {
	switch h := t.Hour(); {
	case t.Weekday() == time.Saturday || t.Weekday() == time.Sunday:
		return Weekend
	case h >= 8 && h < 18:
		return BusinessHours
	case h >= 18 && h < 23:
		return Evening
	default:
		return Night
	}
}

// Duration returns how long the incident lasted, or has lasted so far.
func (fp Fingerprint) Duration() time.Duration {
	return time.Duration(fp.DurationSeconds * float64(time.Second))
}

// Peak returns the highest priority the incident reached, "" if none.
func (fp Fingerprint) Peak() string {
	peak := ""
	for _, p := range fp.Severity {
		if r := priorityRank(p); r > 0 && (peak == "" || r < priorityRank(peak)) {
			peak = p
		}
	}
	return peak
}

// priorityRank returns 1 for P1 to 4 for P4, 0 for anything else.
func priorityRank(p string) int {
	switch p {
	case "P1":
		return 1
	case "P2":
		return 2
	case "P3":
		return 3
	case "P4":
		return 4
	}
	return 0
}

// set returns the non-empty values sorted and without repeats, nil if none.
func set(values []string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
