package rules

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Specs is a file of specs for the predictive and baseline generators.
type Specs struct {
	Watches   []Watch    `yaml:"watches,omitempty"`
	Baselines []Baseline `yaml:"baselines,omitempty"`
}

// ParseSpecs reads a watches:/baselines: file strictly; errors start with
// file and name the spec and the field.
func ParseSpecs(file string, data []byte) (Specs, error) {
	var s Specs
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Specs{}, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

// Method is how a predictive rule extrapolates a query.
type Method string

// The forecast methods.
const (
	// MethodLinear fits a line over the lookback with predict_linear.
	MethodLinear Method = "predict_linear"
	// MethodHoltWinters adds the linear trend over the lookback to the
	// level smoothed by double_exponential_smoothing, which is
	// experimental in Prometheus 3: Prometheus (and promtool) must run
	// with --enable-feature=promql-experimental-functions.
	MethodHoltWinters Method = "double_exponential_smoothing"
)

// Watch is a query to alert on before it crosses a threshold: the alert
// fires when the query, extrapolated Horizon ahead from its last
// Lookback, is past Threshold.
type Watch struct {
	// Name is the alert name.
	Name string `yaml:"name"`
	// Query is an instant-vector PromQL expression.
	Query string `yaml:"query"`
	// Comparator is >, >=, < or <=: the breach is "forecast Comparator
	// Threshold".
	Comparator string  `yaml:"comparator"`
	Threshold  float64 `yaml:"threshold"`
	// Horizon is how far ahead to look (default 4h).
	Horizon model.Duration `yaml:"horizon,omitempty"`
	// Lookback is the range the forecast is fitted on (default 6h).
	Lookback model.Duration `yaml:"lookback,omitempty"`
	// Method is predict_linear (default) or double_exponential_smoothing.
	Method Method `yaml:"method,omitempty"`
	// SmoothingFactor and TrendFactor are double_exponential_smoothing's
	// parameters, in (0, 1) (defaults 0.3 and 0.1).
	SmoothingFactor float64 `yaml:"smoothing_factor,omitempty"`
	TrendFactor     float64 `yaml:"trend_factor,omitempty"`
	// For is the alert's for: (default 10m).
	For         model.Duration    `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// UnmarshalYAML reads a watch strictly, applies defaults and validates it.
func (w *Watch) UnmarshalYAML(unmarshal func(any) error) error {
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	name, _ := raw["name"].(string)
	type plain Watch
	*w = Watch{
		Horizon: model.Duration(4 * time.Hour), Lookback: model.Duration(6 * time.Hour), Method: MethodLinear,
		SmoothingFactor: 0.3, TrendFactor: 0.1, For: model.Duration(10 * time.Minute),
	}
	if err := unmarshal((*plain)(w)); err != nil {
		return fmt.Errorf("watch %q: %w", name, err)
	}
	if err := w.validate(); err != nil {
		return fmt.Errorf("watch %q: %w", name, err)
	}
	return nil
}

func (w *Watch) validate() error {
	if !model.LegacyValidation.IsValidMetricName(w.Name) {
		return fmt.Errorf("name %q: must be a valid alert name", w.Name)
	}
	if _, err := parser.NewParser(parser.Options{}).ParseExpr(w.Query); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	switch w.Comparator {
	case ">", ">=", "<", "<=":
	default:
		return fmt.Errorf("comparator %q: must be one of >, >=, <, <=", w.Comparator)
	}
	switch {
	case w.Horizon <= 0:
		return errors.New("horizon: must be positive")
	case w.Lookback <= 0:
		return errors.New("lookback: must be positive")
	case w.Method != MethodLinear && w.Method != MethodHoltWinters:
		return fmt.Errorf("method %q: must be predict_linear or double_exponential_smoothing", w.Method)
	case !(w.SmoothingFactor > 0 && w.SmoothingFactor < 1):
		return errors.New("smoothing_factor: must be in (0, 1)")
	case !(w.TrendFactor > 0 && w.TrendFactor < 1):
		return errors.New("trend_factor: must be in (0, 1)")
	}
	return nil
}

// rangeOf makes a range vector of a query over d: a plain selector takes
// the range directly, anything else becomes a subquery at the interval.
func rangeOf(query string, d, interval time.Duration) (string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return "", fmt.Errorf("parse query: %w", err)
	}
	if vs, ok := e.(*parser.VectorSelector); ok && vs.OriginalOffset == 0 && vs.Timestamp == nil {
		return vs.String() + "[" + fmtDuration(d) + "]", nil
	}
	return "(" + query + ")[" + fmtDuration(d) + ":" + fmtDuration(interval) + "]", nil
}

func (w *Watch) expr(interval time.Duration) (string, error) {
	r, err := rangeOf(w.Query, time.Duration(w.Lookback), interval)
	if err != nil {
		return "", err
	}
	horizon := strconv.FormatFloat(time.Duration(w.Horizon).Seconds(), 'f', -1, 64)
	threshold := strconv.FormatFloat(w.Threshold, 'f', -1, 64)
	var forecast string
	if w.Method == MethodHoltWinters {
		forecast = fmt.Sprintf("(\n  double_exponential_smoothing(%s, %s, %s)\n  + %s * deriv(%s)\n)",
			r, strconv.FormatFloat(w.SmoothingFactor, 'f', -1, 64), strconv.FormatFloat(w.TrendFactor, 'f', -1, 64), horizon, r)
	} else {
		forecast = fmt.Sprintf("predict_linear(%s, %s)", r, horizon)
	}
	return forecast + " " + w.Comparator + " " + threshold, nil
}

// GeneratePredictive writes predictive.rules.yml: one alert per watch
// that fires while the forecast breaches. Alerts carry
// augur_predicted="true", like the predicted alerts of augur's watcher.
// When a watch uses double_exponential_smoothing the file says which
// Prometheus feature flag it needs.
func GeneratePredictive(watches []Watch, opts Options) (File, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return File{}, fmt.Errorf("generate predictive rules: %w", err)
	}
	experimental := false
	var rules []rulefmt.Rule
	for i := range watches {
		w := &watches[i]
		expr, err := w.expr(opts.interval())
		if err != nil {
			return File{}, fmt.Errorf("generate predictive rules: watch %q: %w", w.Name, err)
		}
		experimental = experimental || w.Method == MethodHoltWinters
		rules = append(rules, rulefmt.Rule{
			Alert:  w.Name,
			Expr:   expr,
			For:    w.For,
			Labels: merge(w.Labels, map[string]string{"augur_predicted": "true"}),
			Annotations: merge(map[string]string{
				"summary": fmt.Sprintf("%s is forecast to be %s %s within %s (%s over the last %s).",
					w.Name, w.Comparator, strconv.FormatFloat(w.Threshold, 'f', -1, 64), fmtDuration(time.Duration(w.Horizon)),
					w.Method, fmtDuration(time.Duration(w.Lookback))),
			}, w.Annotations),
		})
	}
	groups := []rulefmt.RuleGroup{{Name: "augur-predictive", Interval: opts.groupInterval(), Rules: rules}}
	data, err := newValidator(experimental).render(groups, opts.Format, "augur-predictive")
	if err != nil {
		return File{}, fmt.Errorf("generate predictive rules: %w", err)
	}
	if experimental {
		flag := "# Needs Prometheus (and promtool) with --enable-feature=promql-experimental-functions.\n"
		data = append([]byte(Header+flag), data[len(Header):]...)
	}
	return File{Name: "predictive" + suffix(opts.Format), Data: data}, nil
}

func suffix(f Format) string {
	if f == FormatPrometheusRule {
		return ".prometheusrule.yml"
	}
	return ".rules.yml"
}

// Baseline is a query to learn the weekly pattern of: augur records the
// query, its hour-of-week average and spread over the past Weeks, and
// alerts when it strays more than Deviation spreads from the average.
type Baseline struct {
	// Name names the recordings (augur:<name>:...); a metric-name word.
	Name string `yaml:"name"`
	// Query is an instant-vector PromQL expression.
	Query string `yaml:"query"`
	// Weeks is how many past weeks make the baseline (1 to 8, default 4).
	Weeks int `yaml:"weeks,omitempty"`
	// Deviation is the alert threshold in spreads (default 3).
	Deviation float64 `yaml:"deviation,omitempty"`
	// Alert is the alert name (default <Name in CamelCase>Anomaly);
	// DisableAlert records the baseline without alerting.
	Alert        string            `yaml:"alert,omitempty"`
	DisableAlert bool              `yaml:"disable_alert,omitempty"`
	For          model.Duration    `yaml:"for,omitempty"`
	Labels       map[string]string `yaml:"labels,omitempty"`
	Annotations  map[string]string `yaml:"annotations,omitempty"`
}

// UnmarshalYAML reads a baseline strictly, applies defaults and validates it.
func (b *Baseline) UnmarshalYAML(unmarshal func(any) error) error {
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	name, _ := raw["name"].(string)
	type plain Baseline
	*b = Baseline{Weeks: 4, Deviation: 3, For: model.Duration(15 * time.Minute)}
	if err := unmarshal((*plain)(b)); err != nil {
		return fmt.Errorf("baseline %q: %w", name, err)
	}
	if b.Alert == "" {
		b.Alert = camel(b.Name) + "Anomaly"
	}
	if err := b.validate(); err != nil {
		return fmt.Errorf("baseline %q: %w", name, err)
	}
	return nil
}

func (b *Baseline) validate() error {
	if b.Name == "" || strings.Contains(b.Name, ":") || !model.LegacyValidation.IsValidMetricName(b.Name) {
		return fmt.Errorf("name %q: must be letters, digits and underscores", b.Name)
	}
	if _, err := parser.NewParser(parser.Options{}).ParseExpr(b.Query); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	switch {
	case b.Weeks < 1 || b.Weeks > 8:
		return fmt.Errorf("weeks %d: must be in [1, 8]", b.Weeks)
	case !(b.Deviation > 0):
		return errors.New("deviation: must be positive")
	case !model.LegacyValidation.IsValidMetricName(b.Alert):
		return fmt.Errorf("alert %q: must be a valid alert name", b.Alert)
	}
	return nil
}

func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// GenerateBaselines writes baseline.rules.yml: per baseline, a group
// recording the query (augur:<name>:current), the average and standard
// deviation of the same hour of the week over the past weeks (each week's
// hour read with offset 1w, 2w, ...; the spread pools every sample of
// those hours) and the z-score, and alerting on a z-score past the
// deviation. The offsets read the recorded series, so the baseline fills
// in over the first weeks after the rules are loaded.
func GenerateBaselines(baselines []Baseline, opts Options) (File, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return File{}, fmt.Errorf("generate baseline rules: %w", err)
	}
	groups := make([]rulefmt.RuleGroup, 0, len(baselines))
	for i := range baselines {
		b := &baselines[i]
		cur := "augur:" + b.Name + ":current"
		avg := "augur:" + b.Name + ":hour_of_week_avg"
		sd := "augur:" + b.Name + ":hour_of_week_stddev"
		z := "augur:" + b.Name + ":zscore"
		means := make([]string, b.Weeks)
		squares := make([]string, b.Weeks)
		for k := range b.Weeks {
			off := fmt.Sprintf("[1h] offset %dw)", k+1)
			means[k] = "avg_over_time(" + cur + off
			squares[k] = "(stddev_over_time(" + cur + off + " ^ 2 + avg_over_time(" + cur + off + " ^ 2)"
		}
		weeks := strconv.Itoa(b.Weeks)
		rules := []rulefmt.Rule{
			{Record: cur, Expr: b.Query, Labels: b.Labels},
			{Record: avg, Expr: "(\n  " + strings.Join(means, "\n  + ") + "\n) / " + weeks, Labels: b.Labels},
			{
				// Pooled variance of equally long hours: the mean of the
				// second moments less the square of the mean.
				Record: sd,
				Expr:   "sqrt(clamp_min(\n  (\n    " + strings.Join(squares, "\n    + ") + "\n  ) / " + weeks + "\n  - " + avg + " ^ 2,\n  0\n))",
				Labels: b.Labels,
			},
			{Record: z, Expr: "(" + cur + " - " + avg + ") / (" + sd + " > 0)", Labels: b.Labels},
		}
		if !b.DisableAlert {
			rules = append(rules, rulefmt.Rule{
				Alert:  b.Alert,
				Expr:   "abs(" + z + ") > " + strconv.FormatFloat(b.Deviation, 'f', -1, 64),
				For:    b.For,
				Labels: b.Labels,
				Annotations: merge(map[string]string{
					"summary": fmt.Sprintf("%s is {{ $value | printf \"%%.1f\" }} standard deviations from its usual value for this hour of the week (last %d weeks).", b.Name, b.Weeks),
				}, b.Annotations),
			})
		}
		groups = append(groups, rulefmt.RuleGroup{Name: "augur-baseline-" + b.Name, Interval: opts.groupInterval(), Rules: rules})
	}
	data, err := newValidator(false).render(groups, opts.Format, "augur-baseline")
	if err != nil {
		return File{}, fmt.Errorf("generate baseline rules: %w", err)
	}
	return File{Name: "baseline" + suffix(opts.Format), Data: data}, nil
}
