package slo

import (
	"math/big"
	"slices"
	"time"

	"github.com/prometheus/common/model"
)

// Severity is the tier of a burn-rate alert.
type Severity string

// The two burn-rate tiers.
const (
	SeverityPage   Severity = "page"
	SeverityTicket Severity = "ticket"
)

// AlertWindow is one window pair of the multi-window multi-burn-rate
// policy: the alert of its Severity fires when the error ratio over both
// Short and Long exceeds Factor × the error budget.
type AlertWindow struct {
	Severity Severity
	Short    time.Duration
	Long     time.Duration
	Factor   float64
}

// alertWindowYAML is AlertWindow's YAML form (in burn_rates:).
type alertWindowYAML struct {
	Severity Severity       `yaml:"severity"`
	Short    model.Duration `yaml:"short"`
	Long     model.Duration `yaml:"long"`
	Factor   float64        `yaml:"factor"`
}

// UnmarshalYAML reads a window pair strictly; SLO.Validate checks it.
func (w *AlertWindow) UnmarshalYAML(unmarshal func(any) error) error {
	var y alertWindowYAML
	if err := unmarshal(&y); err != nil {
		return err
	}
	*w = AlertWindow{Severity: y.Severity, Short: time.Duration(y.Short), Long: time.Duration(y.Long), Factor: y.Factor}
	return nil
}

// MarshalYAML writes a window pair with Prometheus durations.
func (w AlertWindow) MarshalYAML() (any, error) {
	return alertWindowYAML{Severity: w.Severity, Short: model.Duration(w.Short), Long: model.Duration(w.Long), Factor: w.Factor}, nil
}

// Windows is the default alert policy for an SLO period: page at 14.4×
// over 1h and 5m and 6× over 6h and 30m, ticket at 3× over 1d and 2h and
// 1× over 3d and 6h for 30 days. For other periods the windows stay and
// the factors scale the way Sloth scales them, so that each pair still
// fires when its long window has burnt the same share of the budget
// (2%, 5%, 10%, 10%): factor = share × period / long window, giving 13.44,
// 5.6, 2.8 and 0.933… for 28 days.
func Windows(period time.Duration) []AlertWindow {
	// The Google SRE workbook policy as Sloth states it: each window pair
	// alerts when its long window alone has consumed this share of the
	// period's error budget (in percent).
	policy := [...]struct {
		severity    Severity
		short, long time.Duration
		percent     int64
	}{
		{SeverityPage, 5 * time.Minute, time.Hour, 2},
		{SeverityPage, 30 * time.Minute, 6 * time.Hour, 5},
		{SeverityTicket, 2 * time.Hour, 24 * time.Hour, 10},
		{SeverityTicket, 6 * time.Hour, 72 * time.Hour, 10},
	}
	ws := make([]AlertWindow, 0, len(policy))
	for _, p := range policy {
		f, _ := new(big.Rat).SetFrac64(p.percent*int64(period/time.Second), 100*int64(p.long/time.Second)).Float64()
		ws = append(ws, AlertWindow{Severity: p.severity, Short: p.short, Long: p.long, Factor: f})
	}
	return ws
}

// SLIWindows are the windows the SLI's error ratio is recorded over by
// default: 5m, 30m, 1h, 2h, 6h, 1d, 3d and the period.
func SLIWindows(period time.Duration) []time.Duration {
	ws := []time.Duration{
		5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
		6 * time.Hour, 24 * time.Hour, 72 * time.Hour,
	}
	if !slices.Contains(ws, period) {
		ws = append(ws, period)
	}
	return ws
}

// BaseWindow is the shortest SLI window; events SLIs record their error
// and total rates over it and build every longer window from them.
const BaseWindow = 5 * time.Minute

// AlertWindows is the SLO's alert policy: its burn_rates when given, else
// Windows for its period.
func (s *SLO) AlertWindows() []AlertWindow {
	if len(s.BurnRates) > 0 {
		return s.BurnRates
	}
	return Windows(s.Period())
}

// SLIWindows are the windows the SLO's error ratio is recorded over: the
// defaults (see the SLIWindows function) plus any window of its
// burn_rates, sorted.
func (s *SLO) SLIWindows() []time.Duration {
	ws := SLIWindows(s.Period())
	for _, w := range s.BurnRates {
		ws = append(ws, w.Short, w.Long)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}
