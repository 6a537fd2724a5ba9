package slo

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// DefaultTimeWindow is the SLO period used when a spec gives none.
const DefaultTimeWindow = 30 * 24 * time.Hour

// DefaultAlertName is the alert name used when a spec gives none.
const DefaultAlertName = "SLOErrorBudgetBurn"

// Spec versions, as recorded in the info series of the generated rules.
const (
	SpecSloth   = "prometheus/v1"
	SpecOpenSLO = "openslo/v1"
	SpecAugur   = "augur/v1"
)

// NoTraffic says what an SLI window without traffic (a total of zero, so
// an error ratio of 0/0) records.
type NoTraffic string

// The choices for windows without traffic.
const (
	// NoTrafficNaN records NaN, as Sloth does: the burn-rate alerts stay
	// silent and dashboards show a gap.
	NoTrafficNaN NoTraffic = "nan"
	// NoTrafficGood records an error ratio of 0: no requests, no errors.
	// It also records 0 when the SLI's series are missing altogether, so
	// pair it with the absent alert.
	NoTrafficGood NoTraffic = "good"
	// NoTrafficAbsent records nothing, so that the window has no sample
	// (and absent_over_time sees it).
	NoTrafficAbsent NoTraffic = "absent"
)

// SLO is one service-level objective, whatever format it was read from.
// Its YAML form is augur's short form (the entries of augur.yml's slos:);
// unmarshalling it applies the defaults and validates it.
type SLO struct {
	// Name names the SLO inside its service.
	Name string `yaml:"name"`
	// Service is the service the SLO is about; it ties the SLO to the
	// alerts that carry the same service label.
	Service string `yaml:"service,omitempty"`
	// Matchers tie the SLO to alerts by label matchers instead of, or in
	// addition to, Service (each one like `env="prod"`).
	Matchers []string `yaml:"matchers,omitempty"`
	// Objective is the target in percent, in (0, 100).
	Objective float64 `yaml:"objective"`
	// TimeWindow is the rolling SLO period (default 30d).
	TimeWindow model.Duration `yaml:"time_window,omitempty"`
	// Description is free text.
	Description string `yaml:"description,omitempty"`
	// Labels are added to every generated rule.
	Labels map[string]string `yaml:"labels,omitempty"`
	// SLI says how to measure the error ratio.
	SLI SLI `yaml:"sli"`
	// Alerting configures the generated alerts.
	Alerting Alerting `yaml:"alerting,omitempty"`
	// BurnRates, when given, replaces the default multi-window
	// multi-burn-rate policy (see Windows) for this SLO.
	BurnRates []AlertWindow `yaml:"burn_rates,omitempty"`
	// NoTraffic is what a window without traffic records (default nan).
	NoTraffic NoTraffic `yaml:"no_traffic,omitempty"`

	// Spec is the spec format the SLO was read from (SpecSloth,
	// SpecOpenSLO or SpecAugur).
	Spec string `yaml:"-"`
}

// SLI is how an SLO's error ratio is measured: exactly one of Events and
// Raw is set.
type SLI struct {
	Events *EventsSLI `yaml:"events,omitempty"`
	Raw    *RawSLI    `yaml:"raw,omitempty"`
}

// EventsSLI measures errors and total events with two queries, each with
// a {{.window}} placeholder for the range (Sloth's convention).
type EventsSLI struct {
	ErrorQuery string `yaml:"error_query"`
	TotalQuery string `yaml:"total_query"`
}

// RawSLI measures the error ratio with a single query that has a
// {{.window}} placeholder.
type RawSLI struct {
	ErrorRatioQuery string `yaml:"error_ratio_query"`
}

// Alerting configures an SLO's alerts.
type Alerting struct {
	// Name is the alert name of the page and ticket alerts.
	Name string `yaml:"name,omitempty"`
	// Labels and Annotations are added to every alert of the SLO.
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// PageAlert and TicketAlert are the two burn-rate tiers.
	PageAlert   AlertTier `yaml:"page_alert,omitempty"`
	TicketAlert AlertTier `yaml:"ticket_alert,omitempty"`
	// AbsentAlert fires when the SLI has had no samples for its For
	// (default 10m). Off unless enabled.
	AbsentAlert OptionalAlert `yaml:"absent_alert,omitempty"`
	// BudgetExhaustedAlert fires when the period's error budget is spent.
	// Off unless enabled.
	BudgetExhaustedAlert OptionalAlert `yaml:"budget_exhausted_alert,omitempty"`
}

// AlertTier configures the page or the ticket burn-rate alert.
type AlertTier struct {
	Disable     bool              `yaml:"disable,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// For is the alert's for: duration; zero (the default, as in Sloth)
	// fires at the first evaluation past the threshold.
	For model.Duration `yaml:"for,omitempty"`
}

// OptionalAlert configures an alert that is off unless enabled.
type OptionalAlert struct {
	Enable      bool              `yaml:"enable,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	For         model.Duration    `yaml:"for,omitempty"`
}

// UnmarshalYAML reads augur's short form strictly, applies the defaults
// and validates the SLO.
func (s *SLO) UnmarshalYAML(unmarshal func(any) error) error {
	// The name first, leniently, so that a decoding error can say which
	// SLO it is about.
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	name, _ := raw["name"].(string)
	type plain SLO
	if err := unmarshal((*plain)(s)); err != nil {
		return fmt.Errorf("slo %q: %w", name, err)
	}
	s.Spec = SpecAugur
	if s.Service == "" && len(s.Matchers) == 0 {
		return fmt.Errorf("slo %q: service or matchers: one of them is required", s.Name)
	}
	return s.Validate()
}

// Validate applies the defaults and checks the SLO. Its errors name the
// SLO and the field.
func (s *SLO) Validate() error {
	s.defaults()
	if err := s.validate(); err != nil {
		return fmt.Errorf("slo %q: %w", s.Name, err)
	}
	return nil
}

func (s *SLO) defaults() {
	if s.TimeWindow == 0 {
		s.TimeWindow = model.Duration(DefaultTimeWindow)
	}
	if s.NoTraffic == "" {
		s.NoTraffic = NoTrafficNaN
	}
	if s.Alerting.Name == "" {
		s.Alerting.Name = DefaultAlertName
	}
	if s.Alerting.AbsentAlert.For == 0 {
		s.Alerting.AbsentAlert.For = model.Duration(10 * time.Minute)
	}
	if s.Spec == "" {
		s.Spec = SpecAugur
	}
}

func (s *SLO) validate() error {
	if s.Name == "" {
		return errors.New("name: is required")
	}
	if strings.ContainsAny(s.Name, " \t\n\"") {
		return fmt.Errorf("name %q: must not contain spaces or quotes", s.Name)
	}
	for _, m := range s.Matchers {
		if _, err := newParser().ParseMetricSelector("{" + m + "}"); err != nil {
			return fmt.Errorf("matchers %q: %w", m, err)
		}
	}
	if !(s.Objective > 0 && s.Objective < 100) {
		return fmt.Errorf("objective %s: must be in (0, 100)", strconv.FormatFloat(s.Objective, 'f', -1, 64))
	}
	if err := checkLabels("labels", s.Labels); err != nil {
		return err
	}
	if err := s.SLI.validate(); err != nil {
		return err
	}
	switch s.NoTraffic {
	case NoTrafficNaN, NoTrafficGood, NoTrafficAbsent:
	default:
		return fmt.Errorf("no_traffic %q: must be one of nan, good, absent", s.NoTraffic)
	}
	if err := s.Alerting.validate(); err != nil {
		return fmt.Errorf("alerting.%w", err)
	}
	return s.validateWindows()
}

func (s *SLO) validateWindows() error {
	period := s.Period()
	for i, w := range s.BurnRates {
		field := fmt.Sprintf("burn_rates[%d]", i)
		switch {
		case w.Severity != SeverityPage && w.Severity != SeverityTicket:
			return fmt.Errorf("%s.severity %q: must be page or ticket", field, w.Severity)
		case w.Short <= 0 || w.Long <= 0:
			return fmt.Errorf("%s: short and long windows are required", field)
		case w.Short >= w.Long:
			return fmt.Errorf("%s: short window %s must be shorter than the long window %s", field, fmtDuration(w.Short), fmtDuration(w.Long))
		case !(w.Factor > 0):
			return fmt.Errorf("%s.factor: must be positive", field)
		}
	}
	budget := 1 - s.ObjectiveRatio()
	for _, w := range s.AlertWindows() {
		if w.Long > period {
			return fmt.Errorf("time_window %s: shorter than the %s alert's long window %s: set burn_rates for this period",
				fmtDuration(period), w.Severity, fmtDuration(w.Long))
		}
		if s.Alerting.tier(w.Severity).Disable {
			continue
		}
		if w.Factor*budget >= 1 {
			return fmt.Errorf("objective %s: the %s alert over %s and %s can never fire: its threshold %s × (1 − %s) is not below 1; lower the objective or the factor",
				strconv.FormatFloat(s.Objective, 'f', -1, 64), w.Severity, fmtDuration(w.Short), fmtDuration(w.Long),
				FormatFloat(w.Factor), s.ObjectiveRatioText())
		}
	}
	return nil
}

func (sli *SLI) validate() error {
	switch {
	case sli.Events != nil && sli.Raw != nil:
		return errors.New("sli: events and raw: only one of them may be set")
	case sli.Events != nil:
		if err := checkQuery("error_query", sli.Events.ErrorQuery); err != nil {
			return fmt.Errorf("sli.events.%w", err)
		}
		if err := checkQuery("total_query", sli.Events.TotalQuery); err != nil {
			return fmt.Errorf("sli.events.%w", err)
		}
	case sli.Raw != nil:
		if err := checkQuery("error_ratio_query", sli.Raw.ErrorRatioQuery); err != nil {
			return fmt.Errorf("sli.raw.%w", err)
		}
	default:
		return errors.New("sli: events or raw: one of them is required")
	}
	return nil
}

// checkQuery checks that a query has the {{.window}} placeholder and is
// valid PromQL once it is filled in.
func checkQuery(field, query string) error {
	if strings.TrimSpace(query) == "" {
		return fmt.Errorf("%s: is required", field)
	}
	q, err := expandWindow(query, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if q == query {
		return fmt.Errorf("%s: has no {{.window}} placeholder for the range", field)
	}
	if _, err := newParser().ParseExpr(q); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

func (a *Alerting) validate() error {
	if err := checkLabels("labels", a.Labels); err != nil {
		return err
	}
	if err := checkLabels("annotations", a.Annotations); err != nil {
		return err
	}
	for name, l := range map[string]map[string]string{
		"page_alert.labels":                  a.PageAlert.Labels,
		"page_alert.annotations":             a.PageAlert.Annotations,
		"ticket_alert.labels":                a.TicketAlert.Labels,
		"ticket_alert.annotations":           a.TicketAlert.Annotations,
		"absent_alert.labels":                a.AbsentAlert.Labels,
		"absent_alert.annotations":           a.AbsentAlert.Annotations,
		"budget_exhausted_alert.labels":      a.BudgetExhaustedAlert.Labels,
		"budget_exhausted_alert.annotations": a.BudgetExhaustedAlert.Annotations,
	} {
		if err := checkLabels(name, l); err != nil {
			return err
		}
	}
	return nil
}

func (a *Alerting) tier(s Severity) AlertTier {
	if s == SeverityPage {
		return a.PageAlert
	}
	return a.TicketAlert
}

func checkLabels(field string, l map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if !model.LegacyValidation.IsValidLabelName(k) {
			return fmt.Errorf("%s: %q is not a valid label name", field, k)
		}
	}
	return nil
}

// ID is the SLO's identifier across services: service-name, or the name
// alone when the SLO has no service (Sloth's sloth_id).
func (s *SLO) ID() string {
	if s.Service == "" {
		return s.Name
	}
	return s.Service + "-" + s.Name
}

// Period is the SLO's rolling time window.
func (s *SLO) Period() time.Duration {
	return time.Duration(s.TimeWindow)
}

// ObjectiveRatioText is the objective as a ratio, written as the shortest
// decimal (99.9 gives "0.999", never "0.9990000000000001").
func (s *SLO) ObjectiveRatioText() string {
	return percentToRatio(strconv.FormatFloat(s.Objective, 'f', -1, 64))
}

// ObjectiveRatio is the objective as a ratio, the float64 nearest to
// ObjectiveRatioText.
func (s *SLO) ObjectiveRatio() float64 {
	r, _ := strconv.ParseFloat(s.ObjectiveRatioText(), 64)
	return r
}

// ErrorBudget is 1 − ObjectiveRatio, computed as Prometheus computes
// `1 - 0.999`.
func (s *SLO) ErrorBudget() float64 {
	return 1 - s.ObjectiveRatio()
}

// ErrorRatioQuery is the PromQL for the SLI's error ratio over window,
// straight from the spec's queries (not from recording rules).
func (s *SLO) ErrorRatioQuery(window time.Duration) (string, error) {
	if s.SLI.Raw != nil {
		q, err := expandWindow(s.SLI.Raw.ErrorRatioQuery, window)
		if err != nil {
			return "", fmt.Errorf("slo %q: sli.raw.error_ratio_query: %w", s.Name, err)
		}
		return q, nil
	}
	e, t, err := s.EventQueries(window)
	if err != nil {
		return "", err
	}
	return "(" + e + ")\n/\n(" + t + ")", nil
}

// EventQueries are an events SLI's error and total queries over window.
func (s *SLO) EventQueries(window time.Duration) (errorQuery, totalQuery string, err error) {
	if s.SLI.Events == nil {
		return "", "", fmt.Errorf("slo %q: sli.events: is not set", s.Name)
	}
	if errorQuery, err = expandWindow(s.SLI.Events.ErrorQuery, window); err != nil {
		return "", "", fmt.Errorf("slo %q: sli.events.error_query: %w", s.Name, err)
	}
	if totalQuery, err = expandWindow(s.SLI.Events.TotalQuery, window); err != nil {
		return "", "", fmt.Errorf("slo %q: sli.events.total_query: %w", s.Name, err)
	}
	return errorQuery, totalQuery, nil
}

// expandWindow fills the {{.window}} placeholder of a query.
func expandWindow(query string, window time.Duration) (string, error) {
	tpl, err := template.New("query").Option("missingkey=error").Parse(query)
	if err != nil {
		return "", fmt.Errorf("parse template: %w", err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, map[string]string{"window": fmtDuration(window)}); err != nil {
		return "", fmt.Errorf("fill template: %w", err)
	}
	return b.String(), nil
}

// newParser is the PromQL parser SLI queries are checked with: Prometheus
// 3's defaults, without experimental functions.
func newParser() parser.Parser {
	return parser.NewParser(parser.Options{})
}

// percentToRatio moves the decimal point of a decimal number two places
// to the left: "99.9" gives "0.999".
func percentToRatio(p string) string {
	intPart, frac, _ := strings.Cut(p, ".")
	digits := intPart + frac
	pos := len(intPart) - 2
	var r string
	if pos <= 0 {
		r = "0." + strings.Repeat("0", -pos) + digits
	} else {
		r = digits[:pos] + "." + digits[pos:]
	}
	intPart, frac, _ = strings.Cut(r, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return intPart
	}
	return intPart + "." + frac
}

// ratioToPercent moves the decimal point of a decimal number two places
// to the right: "0.999" gives "99.9".
func ratioToPercent(r string) string {
	intPart, frac, _ := strings.Cut(r, ".")
	frac += "00"
	p := strings.TrimLeft(intPart+frac[:2], "0")
	if p == "" {
		p = "0"
	}
	if rest := strings.TrimRight(frac[2:], "0"); rest != "" {
		p += "." + rest
	}
	return p
}

// FormatFloat writes a number as the shortest decimal that reads back as
// the same float64, without an exponent: the clean form used in rules.
func FormatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// fmtDuration writes a duration as Prometheus does ("5m", "1d", "4w").
func fmtDuration(d time.Duration) string {
	return model.Duration(d).String()
}
