package slo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Naming is a scheme of metric and label names for the generated rules.
type Naming string

// The naming schemes.
const (
	// NamingSloth uses Sloth's names (slo:sli_error:ratio_rate5m,
	// sloth_id, ...), so that Sloth's dashboards and alerts keep working.
	NamingSloth Naming = "sloth"
	// NamingAugur uses the same shapes with augur prefixes
	// (augur_slo:sli_error:ratio_rate5m, augur_slo_id, ...).
	NamingAugur Naming = "augur"
)

// Names are the metric and label names of one naming scheme.
type Names struct {
	// Prefix is the level of the recording rules ("slo" in Sloth's).
	Prefix string
	// IDLabel, ServiceLabel, SLOLabel and WindowLabel identify an SLO's
	// series (sloth_id, sloth_service, sloth_slo, sloth_window).
	IDLabel, ServiceLabel, SLOLabel, WindowLabel string
	// SeverityLabel carries page or ticket on the burn-rate alerts.
	SeverityLabel string
	// BurnWindowLabel names the window pair that fired ("1h/5m") on the
	// burn-rate alerts, so that Alertmanager can inhibit the slower tier.
	BurnWindowLabel string
	// InfoMetric is the SLO's info series; InfoLabelPrefix prefixes its
	// extra labels (mode, objective, spec, version).
	InfoMetric, InfoLabelPrefix string
	// GroupPrefix starts the names of the rule groups.
	GroupPrefix string
}

// Names returns the scheme's names; an unknown scheme gets Sloth's.
func (n Naming) Names() Names {
	if n == NamingAugur {
		return Names{
			Prefix: "augur_slo", IDLabel: "augur_slo_id", ServiceLabel: "augur_service",
			SLOLabel: "augur_slo", WindowLabel: "augur_window", SeverityLabel: "augur_severity",
			BurnWindowLabel: "augur_burn_window", InfoMetric: "augur_slo_info",
			InfoLabelPrefix: "augur_", GroupPrefix: "augur-slo",
		}
	}
	return Names{
		Prefix: "slo", IDLabel: "sloth_id", ServiceLabel: "sloth_service",
		SLOLabel: "sloth_slo", WindowLabel: "sloth_window", SeverityLabel: "sloth_severity",
		BurnWindowLabel: "augur_burn_window", InfoMetric: "sloth_slo_info",
		InfoLabelPrefix: "sloth_", GroupPrefix: "sloth-slo",
	}
}

// Validate checks that n is a known scheme.
func (n Naming) Validate() error {
	if n != NamingSloth && n != NamingAugur {
		return fmt.Errorf("naming %q: must be sloth or augur", n)
	}
	return nil
}

// ErrorRatio is the recording rule of the error ratio over window
// (slo:sli_error:ratio_rate5m).
func (n Names) ErrorRatio(window time.Duration) string {
	return n.Prefix + ":sli_error:ratio_rate" + fmtDuration(window)
}

// ErrorRate is the recording rule of an events SLI's error query over
// window; only BaseWindow is recorded.
func (n Names) ErrorRate(window time.Duration) string {
	return n.Prefix + ":sli_error_events:rate" + fmtDuration(window)
}

// TotalRate is the recording rule of an events SLI's total query over
// window; only BaseWindow is recorded.
func (n Names) TotalRate(window time.Duration) string {
	return n.Prefix + ":sli_total_events:rate" + fmtDuration(window)
}

// Objective is the recording rule of the objective as a ratio.
func (n Names) Objective() string { return n.Prefix + ":objective:ratio" }

// ErrorBudget is the recording rule of the error budget (1 − objective).
func (n Names) ErrorBudget() string { return n.Prefix + ":error_budget:ratio" }

// TimePeriod is the recording rule of the period in days.
func (n Names) TimePeriod() string { return n.Prefix + ":time_period:days" }

// CurrentBurnRate is the recording rule of the burn rate over BaseWindow.
func (n Names) CurrentBurnRate() string { return n.Prefix + ":current_burn_rate:ratio" }

// PeriodBurnRate is the recording rule of the burn rate over the period.
func (n Names) PeriodBurnRate() string { return n.Prefix + ":period_burn_rate:ratio" }

// BudgetRemaining is the recording rule of the share of the period's
// error budget that is left.
func (n Names) BudgetRemaining() string { return n.Prefix + ":period_error_budget_remaining:ratio" }

// IDLabels are the labels that identify the SLO's series in a naming
// scheme: id, service (when the SLO has one) and name.
func (s *SLO) IDLabels(n Naming) map[string]string {
	nm := n.Names()
	l := map[string]string{nm.IDLabel: s.ID(), nm.SLOLabel: s.Name}
	if s.Service != "" {
		l[nm.ServiceLabel] = s.Service
	}
	return l
}

// Selector is the label selector of the SLO's generated series, in the
// form {sloth_id="...", sloth_service="...", sloth_slo="..."}.
func (s *SLO) Selector(n Naming) string {
	nm := n.Names()
	ms := []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, nm.IDLabel, s.ID()),
		labels.MustNewMatcher(labels.MatchEqual, nm.ServiceLabel, s.Service),
		labels.MustNewMatcher(labels.MatchEqual, nm.SLOLabel, s.Name),
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// RecordedErrorRatioQuery is the PromQL that reads the SLO's error ratio
// over window from the generated recording rules: the rule's name and the
// SLO's selector. window must be one of SLIWindows.
func (s *SLO) RecordedErrorRatioQuery(n Naming, window time.Duration) (string, error) {
	if !slices.Contains(s.SLIWindows(), window) {
		return "", fmt.Errorf("slo %q: no recording rule over %s", s.Name, fmtDuration(window))
	}
	return n.Names().ErrorRatio(window) + s.Selector(n), nil
}

// AlertMatchers parses the SLO's matchers and adds service="<service>" under
// serviceLabel when the SLO has a service: what an alert must match to be
// covered by the SLO.
func (s *SLO) AlertMatchers(serviceLabel string) ([]*labels.Matcher, error) {
	var ms []*labels.Matcher
	if s.Service != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, serviceLabel, s.Service))
	}
	p := newParser()
	for _, m := range s.Matchers {
		parsed, err := p.ParseMetricSelector("{" + m + "}")
		if err != nil {
			return nil, fmt.Errorf("slo %q: matchers %q: %w", s.Name, m, err)
		}
		ms = append(ms, parsed...)
	}
	return ms, nil
}
