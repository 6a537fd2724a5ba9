package triage

import (
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/common/model"
)

// Suppression keeps the alerts it matches from being forwarded.
type Suppression struct {
	// Name identifies it: the rule's name, or the id of one made through
	// the API.
	Name     string
	Matchers labels.Matchers
	// TimeIntervals, if any, limit it to the times inside one of them.
	TimeIntervals []string
	// ExpiresAt, if set, ends it.
	ExpiresAt time.Time
}

// Suppressor decides which alerts are suppressed.
type Suppressor struct {
	suppressions []Suppression
	intervals    *timeinterval.Intervener
}

// NewSuppressor returns a suppressor for the given suppressions, whose time
// intervals are looked up in intervals.
func NewSuppressor(suppressions []Suppression, intervals map[string][]timeinterval.TimeInterval) *Suppressor {
	return &Suppressor{suppressions: suppressions, intervals: timeinterval.NewIntervener(intervals)}
}

// Suppressed returns the name of the first suppression that applies to an
// alert with labels ls at now, or "" if none does.
func (s *Suppressor) Suppressed(ls model.LabelSet, now time.Time) string {
	for _, sup := range s.suppressions {
		if !sup.ExpiresAt.IsZero() && !now.Before(sup.ExpiresAt) {
			continue
		}
		if !sup.Matchers.Matches(ls) {
			continue
		}
		if len(sup.TimeIntervals) > 0 {
			// Names were validated with the config; an error cannot occur.
			if in, err := s.intervals.ContainsTime(sup.TimeIntervals, now); err != nil || !in {
				continue
			}
		}
		return sup.Name
	}
	return ""
}
