package slo

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// openSLODocument is an OpenSLO v1 document of kind SLO or SLI (other
// kinds are skipped before they get here). The fields augur does not use
// are declared so that strict decoding accepts valid OpenSLO.
type openSLODocument struct {
	APIVersion string          `yaml:"apiVersion"`
	Kind       string          `yaml:"kind"`
	Metadata   openSLOMetadata `yaml:"metadata"`
	Spec       openSLOSpec     `yaml:"spec"`
}

type openSLOMetadata struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]any    `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// openSLOSpec holds the fields of both an SLO's and an SLI's spec: one
// struct, because the kind is only known once the document is decoded.
type openSLOSpec struct {
	Description string `yaml:"description,omitempty"`

	// SLO.
	Service         string              `yaml:"service,omitempty"`
	Indicator       *openSLOIndicator   `yaml:"indicator,omitempty"`
	IndicatorRef    string              `yaml:"indicatorRef,omitempty"`
	TimeWindow      []openSLOTimeWindow `yaml:"timeWindow,omitempty"`
	BudgetingMethod string              `yaml:"budgetingMethod,omitempty"`
	Objectives      []openSLOObjective  `yaml:"objectives,omitempty"`
	AlertPolicies   []any               `yaml:"alertPolicies,omitempty"`

	// SLI.
	ThresholdMetric *openSLOMetric      `yaml:"thresholdMetric,omitempty"`
	RatioMetric     *openSLORatioMetric `yaml:"ratioMetric,omitempty"`
}

type openSLOIndicator struct {
	Metadata openSLOMetadata `yaml:"metadata"`
	Spec     openSLOSLISpec  `yaml:"spec"`
}

type openSLOSLISpec struct {
	Description     string              `yaml:"description,omitempty"`
	ThresholdMetric *openSLOMetric      `yaml:"thresholdMetric,omitempty"`
	RatioMetric     *openSLORatioMetric `yaml:"ratioMetric,omitempty"`
}

type openSLOTimeWindow struct {
	Duration  string `yaml:"duration"`
	IsRolling bool   `yaml:"isRolling"`
	Calendar  any    `yaml:"calendar,omitempty"`
}

type openSLOObjective struct {
	DisplayName     string   `yaml:"displayName,omitempty"`
	Name            string   `yaml:"name,omitempty"`
	Op              string   `yaml:"op,omitempty"`
	Value           *float64 `yaml:"value,omitempty"`
	Target          *float64 `yaml:"target,omitempty"`
	TargetPercent   *float64 `yaml:"targetPercent,omitempty"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget,omitempty"`
	TimeSliceWindow string   `yaml:"timeSliceWindow,omitempty"`
	CompositeWeight *float64 `yaml:"compositeWeight,omitempty"`
}

type openSLORatioMetric struct {
	Counter bool           `yaml:"counter"`
	Good    *openSLOMetric `yaml:"good,omitempty"`
	Bad     *openSLOMetric `yaml:"bad,omitempty"`
	Total   *openSLOMetric `yaml:"total,omitempty"`
	RawType string         `yaml:"rawType,omitempty"`
	Raw     *openSLOMetric `yaml:"raw,omitempty"`
}

type openSLOMetric struct {
	MetricSource openSLOMetricSource `yaml:"metricSource"`
}

type openSLOMetricSource struct {
	MetricSourceRef string         `yaml:"metricSourceRef,omitempty"`
	Type            string         `yaml:"type"`
	Spec            map[string]any `yaml:"spec"`
}

// SLISpec is the document's spec read as an SLI's.
func (d *openSLODocument) SLISpec() openSLOSLISpec {
	return openSLOSLISpec{Description: d.Spec.Description, ThresholdMetric: d.Spec.ThresholdMetric, RatioMetric: d.Spec.RatioMetric}
}

// openSLOParser converts OpenSLO SLO documents, resolving indicatorRef
// against the SLI documents of the same file.
type openSLOParser struct {
	slis map[string]openSLOSLISpec
}

func (p *openSLOParser) slos(d openSLODocument) ([]SLO, error) {
	name := d.Metadata.Name
	out, err := p.convert(d)
	if err != nil {
		return nil, fmt.Errorf("slo %q: %w", name, err)
	}
	for i := range out {
		if err := out[i].Validate(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *openSLOParser) convert(d openSLODocument) ([]SLO, error) {
	if d.Metadata.Name == "" {
		return nil, errors.New("metadata.name: is required")
	}
	var sli openSLOSLISpec
	switch {
	case d.Spec.Indicator != nil && d.Spec.IndicatorRef != "":
		return nil, errors.New("spec.indicator, spec.indicatorRef: only one of them may be set")
	case d.Spec.Indicator != nil:
		sli = d.Spec.Indicator.Spec
	case d.Spec.IndicatorRef != "":
		var ok bool
		if sli, ok = p.slis[d.Spec.IndicatorRef]; !ok {
			return nil, fmt.Errorf("spec.indicatorRef %q: no SLI document of that name in the file", d.Spec.IndicatorRef)
		}
	default:
		return nil, errors.New("spec.indicator: is required (or spec.indicatorRef)")
	}
	period, err := openSLOPeriod(d.Spec.TimeWindow)
	if err != nil {
		return nil, err
	}
	if m := d.Spec.BudgetingMethod; m != "" && m != "Occurrences" {
		return nil, fmt.Errorf("spec.budgetingMethod %q: only Occurrences is supported", m)
	}
	if len(d.Spec.Objectives) == 0 {
		return nil, errors.New("spec.objectives: at least one objective is required")
	}
	lbls := openSLOLabels(d.Metadata.Labels)
	out := make([]SLO, 0, len(d.Spec.Objectives))
	for i, o := range d.Spec.Objectives {
		field := fmt.Sprintf("spec.objectives[%d]", i)
		objective, err := o.percent()
		if err != nil {
			return nil, fmt.Errorf("%s.%w", field, err)
		}
		events, err := openSLOEvents(sli, o)
		if err != nil {
			return nil, fmt.Errorf("%s: indicator: %w", field, err)
		}
		name := d.Metadata.Name
		if len(d.Spec.Objectives) > 1 {
			suffix := o.Name
			if suffix == "" {
				suffix = strconv.Itoa(i)
			}
			name += "-" + suffix
		}
		description := d.Spec.Description
		if description == "" {
			description = sli.Description
		}
		out = append(out, SLO{
			Name:        name,
			Service:     d.Spec.Service,
			Objective:   objective,
			TimeWindow:  period,
			Description: description,
			Labels:      maps.Clone(lbls),
			SLI:         SLI{Events: events},
			Spec:        SpecOpenSLO,
		})
	}
	return out, nil
}

func openSLOPeriod(tw []openSLOTimeWindow) (model.Duration, error) {
	switch {
	case len(tw) == 0:
		return model.Duration(DefaultTimeWindow), nil
	case len(tw) > 1:
		return 0, errors.New("spec.timeWindow: only one time window is supported")
	case !tw[0].IsRolling || tw[0].Calendar != nil:
		return 0, errors.New("spec.timeWindow[0]: calendar windows are not supported: use isRolling: true")
	}
	d, err := model.ParseDuration(tw[0].Duration)
	if err != nil {
		return 0, fmt.Errorf("spec.timeWindow[0].duration %q: %w", tw[0].Duration, err)
	}
	return d, nil
}

// openSLOLabels flattens OpenSLO labels, whose values may be lists.
func openSLOLabels(in map[string]any) map[string]string {
	out := make(map[string]string, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		switch v := in[k].(type) {
		case string:
			out[k] = v
		case []any:
			vals := make([]string, len(v))
			for i, e := range v {
				vals[i] = fmt.Sprint(e)
			}
			out[k] = strings.Join(vals, ",")
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

func (o openSLOObjective) percent() (float64, error) {
	switch {
	case o.TimeSliceTarget != nil || o.TimeSliceWindow != "":
		return 0, errors.New("timeSliceTarget: Timeslices budgeting is not supported")
	case o.Target != nil && o.TargetPercent != nil:
		return 0, errors.New("target, targetPercent: only one of them may be set")
	case o.TargetPercent != nil:
		return *o.TargetPercent, nil
	case o.Target != nil:
		if !(*o.Target > 0 && *o.Target < 1) {
			return 0, fmt.Errorf("target %s: must be in (0, 1)", FormatFloat(*o.Target))
		}
		// Through the decimal text, so that 0.999 gives exactly 99.9.
		return strconv.ParseFloat(ratioToPercent(FormatFloat(*o.Target)), 64)
	}
	return 0, errors.New("target: is required")
}

// openSLOEvents turns an OpenSLO indicator into an events SLI.
func openSLOEvents(sli openSLOSLISpec, o openSLOObjective) (*EventsSLI, error) {
	switch {
	case sli.RatioMetric != nil && sli.ThresholdMetric != nil:
		return nil, errors.New("ratioMetric, thresholdMetric: only one of them may be set")
	case sli.RatioMetric != nil:
		return ratioEvents(sli.RatioMetric)
	case sli.ThresholdMetric != nil:
		return thresholdEvents(sli.ThresholdMetric, o)
	}
	return nil, errors.New("ratioMetric or thresholdMetric: one of them is required")
}

func ratioEvents(r *openSLORatioMetric) (*EventsSLI, error) {
	if r.Raw != nil {
		return nil, errors.New("ratioMetric.raw: raw ratio metrics are not supported: use good or bad with total")
	}
	if r.Total == nil {
		return nil, errors.New("ratioMetric.total: is required")
	}
	total, err := r.Total.query("ratioMetric.total", r.Counter)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Good != nil && r.Bad != nil:
		return nil, errors.New("ratioMetric.good, ratioMetric.bad: only one of them may be set")
	case r.Bad != nil:
		bad, err := r.Bad.query("ratioMetric.bad", r.Counter)
		if err != nil {
			return nil, err
		}
		return &EventsSLI{ErrorQuery: bad, TotalQuery: total}, nil
	case r.Good != nil:
		good, err := r.Good.query("ratioMetric.good", r.Counter)
		if err != nil {
			return nil, err
		}
		return &EventsSLI{ErrorQuery: "(" + total + ") - (" + good + ")", TotalQuery: total}, nil
	}
	return nil, errors.New("ratioMetric.good or ratioMetric.bad: one of them is required")
}

// query is the metric's Prometheus query with a {{.window}} placeholder:
// as written when it has one, else, for a counter given as a plain series
// selector, sum(rate(selector[{{.window}}])).
func (m *openSLOMetric) query(field string, counter bool) (string, error) {
	src := m.MetricSource
	if !strings.EqualFold(src.Type, "Prometheus") {
		return "", fmt.Errorf("%s.metricSource.type %q: only Prometheus is supported", field, src.Type)
	}
	q, _ := src.Spec["query"].(string)
	if q == "" {
		return "", fmt.Errorf("%s.metricSource.spec.query: is required", field)
	}
	if strings.Contains(q, "{{") {
		return q, nil
	}
	sel, err := selector(q)
	if err != nil || !counter {
		return "", fmt.Errorf("%s.metricSource.spec.query: has no {{.window}} placeholder and is not a counter's series selector (with counter: true)", field)
	}
	return "sum(rate(" + sel.String() + "[{{.window}}]))", nil
}

// thresholdEvents turns a latency threshold over a classic histogram
// into an events SLI: total is the histogram's _count, good the bucket at
// the threshold.
func thresholdEvents(m *openSLOMetric, o openSLOObjective) (*EventsSLI, error) {
	src := m.MetricSource
	if !strings.EqualFold(src.Type, "Prometheus") {
		return nil, fmt.Errorf("thresholdMetric.metricSource.type %q: only Prometheus is supported", src.Type)
	}
	q, _ := src.Spec["query"].(string)
	sel, err := selector(q)
	if err != nil {
		return nil, fmt.Errorf("thresholdMetric.metricSource.spec.query %q: must be a histogram's series selector: %w", q, err)
	}
	if o.Value == nil {
		return nil, errors.New("value: a threshold is required for a thresholdMetric")
	}
	name := ""
	var rest []*labels.Matcher
	for _, lm := range sel.LabelMatchers {
		if lm.Name == model.MetricNameLabel && lm.Type == labels.MatchEqual {
			name = lm.Value
			continue
		}
		if lm.Name == "le" {
			return nil, errors.New("thresholdMetric.metricSource.spec.query: must not select le: the objective's value is the threshold")
		}
		rest = append(rest, lm)
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		name = strings.TrimSuffix(name, suffix)
	}
	if name == "" {
		return nil, errors.New("thresholdMetric.metricSource.spec.query: must name the histogram")
	}
	le := FormatFloat(*o.Value)
	leMatcher := labels.MustNewMatcher(labels.MatchEqual, "le", le)
	if !strings.Contains(le, ".") {
		// Prometheus 3 writes integral bucket bounds as "1.0"; older
		// Prometheus and most clients as "1".
		leMatcher = labels.MustNewMatcher(labels.MatchRegexp, "le", le+"|"+le+`\.0`)
	}
	count := rateOf(name+"_count", rest)
	bucket := rateOf(name+"_bucket", append(slices.Clone(rest), leMatcher))
	switch o.Op {
	case "lt", "lte":
		return &EventsSLI{ErrorQuery: "(" + count + ") - (" + bucket + ")", TotalQuery: count}, nil
	case "gt", "gte":
		return &EventsSLI{ErrorQuery: bucket, TotalQuery: count}, nil
	}
	return nil, fmt.Errorf("op %q: must be one of lt, lte, gt, gte", o.Op)
}

func rateOf(name string, ms []*labels.Matcher) string {
	all := append([]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name)}, ms...)
	return "sum(rate(" + (&parser.VectorSelector{Name: name, LabelMatchers: all}).String() + "[{{.window}}]))"
}

// selector parses q as a plain series selector.
func selector(q string) (*parser.VectorSelector, error) {
	e, err := newParser().ParseExpr(q)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	vs, ok := e.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.Timestamp != nil {
		return nil, errors.New("not a series selector")
	}
	return vs, nil
}
