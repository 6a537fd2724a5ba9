package receiver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

// joinIncident records a notification's alerts on their incident (see
// store.JoinIncident for which one) and returns it.
func (r *Receiver) joinIncident(ctx context.Context, st *state, n store.Notification, group []model.Alert, fps []string, scores []triage.Score) (store.Joined, error) {
	agg := st.cfg.Triage.Aggregation
	label := model.LabelName(st.cfg.ServiceLabel)
	j := store.Join{
		Receiver: n.Receiver,
		GroupKey: n.GroupKey,
		Alerts:   make([]store.IncidentAlert, len(group)),
		AggKey:   aggregationKey(group, agg.By),
		Since:    n.ReceivedAt.Add(-time.Duration(agg.Window)),
		Grace:    time.Duration(agg.GracePeriod),
		Now:      n.ReceivedAt,
	}
	seen := map[string]bool{}
	for i, a := range group {
		svc := string(a.Labels[label])
		j.Alerts[i] = store.IncidentAlert{
			Fingerprint: fps[i],
			Name:        string(a.Labels[model.AlertNameLabel]),
			Service:     svc,
			Labels:      labelMap(a.Labels),
			Firing:      a.EndsAt.IsZero(),
			StartsAt:    a.StartsAt,
			EndsAt:      a.EndsAt,
			Priority:    scores[i].Priority,
		}
		if agg.Window > 0 && svc != "" && a.EndsAt.IsZero() && !seen[svc] {
			seen[svc] = true
			j.Services = append(j.Services, svc)
		}
	}
	if st.topology != nil {
		for _, svc := range j.Services {
			for _, adj := range st.topology.Adjacent(svc) {
				if !seen[adj] {
					seen[adj] = true
					j.Adjacent = append(j.Adjacent, adj)
				}
			}
		}
	}
	return r.store.JoinIncident(ctx, j)
}

// aggregationKey is the group's common values of the labels in by, or ""
// when by is empty or an alert lacks one of them or they differ.
func aggregationKey(group []model.Alert, by []string) string {
	if len(by) == 0 {
		return ""
	}
	vals := make([]string, len(by))
	for i, l := range by {
		v := commonValue(group, model.LabelName(l))
		if v == "" {
			return ""
		}
		vals[i] = l + "=" + v
	}
	return strings.Join(vals, "\xff")
}

func labelMap(ls model.LabelSet) map[string]string {
	m := make(map[string]string, len(ls))
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m
}

// incidentPart is what the enrichment of alert fp says of its incident.
func incidentPart(j store.Joined, fp string) *enrich.Incident {
	inc := &enrich.Incident{
		Title:    j.Title,
		Priority: j.Priority,
		Services: j.Services,
		Alerts:   j.Alerts,
		Firing:   j.Firing,
		OpenedAt: j.OpenedAt.UTC(),
	}
	if !j.Opened {
		for _, a := range j.New {
			if a.Fingerprint == fp {
				inc.NewAlert = true
			}
		}
	}
	return inc
}

// incidentNews is the line that tells what is new when an alert joins an
// incident that was already open: which incident, and what it is now.
// summary is the augur_summary line: where the incident started, when
// not at the alert's own service, the likeliest cause with the change
// that points to it, and the incident news; "" when there is none of
// these.
func summary(e enrich.Enrichment, service string) string {
	var parts []string
	if t := e.Topology; t != nil && t.Origin != service {
		parts = append(parts, fmt.Sprintf("origin %s (%s)", t.Origin, strings.Join(t.Path, " → ")))
	}
	if len(e.RootCauses) > 0 {
		rc := e.RootCauses[0]
		s := fmt.Sprintf("likely %s (%.2f)", rc.Cause, rc.Confidence)
		if rc.Service != service {
			s += " at " + rc.Service
		}
		if len(rc.Changes) > 0 {
			c := rc.Changes[0]
			s += fmt.Sprintf(": %s of %s", c.Type, c.Service)
			if c.Description != "" {
				s += " (" + c.Description + ")"
			}
			if !rc.Onset.IsZero() && !c.Timestamp.After(rc.Onset) {
				s += " " + enrich.Approx(rc.Onset.Sub(c.Timestamp)) + " before onset"
			}
		}
		parts = append(parts, s)
	}
	if news := incidentNews(e); news != "" {
		parts = append(parts, news)
	}
	return strings.Join(parts, "; ")
}

func incidentNews(e enrich.Enrichment) string {
	inc := e.Incident
	if inc == nil || !inc.NewAlert {
		return ""
	}
	s := fmt.Sprintf("Joins %s: %s", e.IncidentID, inc.Title)
	var facts []string
	if inc.Priority != "" {
		facts = append(facts, inc.Priority)
	}
	facts = append(facts, fmt.Sprintf("%d of %d alerts firing", inc.Firing, inc.Alerts),
		"open since "+inc.OpenedAt.Format("15:04 MST"))
	return s + " (" + strings.Join(facts, ", ") + ")"
}
