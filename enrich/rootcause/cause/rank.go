package cause

import (
	"cmp"
	_ "embed"
	"fmt"
	"maps"
	"math"
	"slices"

	"go.yaml.in/yaml/v2"

	"github.com/augur-sre/augur/enrich/rootcause/signature"
)

//go:embed defaults.yml
var defaultsYAML []byte

// Defaults returns the cause signatures augur ships, validated.
func Defaults() ([]Signature, error) {
	return Parse(defaultsYAML)
}

// Parse reads and validates a YAML list of cause signatures.
func Parse(data []byte) ([]Signature, error) {
	var sigs []Signature
	if err := yaml.UnmarshalStrict(data, &sigs); err != nil {
		return nil, fmt.Errorf("parse causes: %w", err)
	}
	seen := map[string]bool{}
	for i := range sigs {
		if err := sigs[i].Validate(); err != nil {
			return nil, err
		}
		if seen[sigs[i].Name] {
			return nil, fmt.Errorf("cause %q is defined twice", sigs[i].Name)
		}
		seen[sigs[i].Name] = true
	}
	return sigs, nil
}

// Merge returns base with each of overrides replacing the cause of its
// name or, if none, appended.
func Merge(base, overrides []Signature) []Signature {
	out := slices.Clone(base)
	for _, o := range overrides {
		if i := slices.IndexFunc(out, func(s Signature) bool { return s.Name == o.Name }); i >= 0 {
			out[i] = o
		} else {
			out = append(out, o)
		}
	}
	return out
}

// Hypothesis is a ranked cause with its confidence.
type Hypothesis struct {
	Match
	Description   string
	Investigation []string
	// Margin is how much stronger (fit times the square root of
	// coverage) it is than the best other cause, or, for the best, than
	// the second best.
	Margin float64
	// Confidence is in [0, 1], from Calibration.
	Confidence float64
}

// Calibration turns a cause's fit into a confidence, a logistic function
// of its fit times the square root of its coverage and of its margin over
// the next best cause (of any service): σ(FitWeight·fit·√coverage +
// MarginWeight·margin + Bias).
type Calibration struct {
	FitWeight, MarginWeight, Bias float64
}

// DefaultCalibration returns the calibration used unless another is
// given: the weights FitCalibration found on the rootcause scenario
// suite (seed 1, 420 incidents; TestCalibration in package rootcause
// refits them and checks these on other incidents).
func DefaultCalibration() Calibration {
	return Calibration{FitWeight: 4.35, MarginWeight: 8.76, Bias: -3.98}
}

// Confidence applies the calibration to a cause's fit, coverage and margin.
func (c Calibration) Confidence(fit, coverage, margin float64) float64 {
	x := c.FitWeight*fit*math.Sqrt(coverage) + c.MarginWeight*margin + c.Bias
	return 1 / (1 + math.Exp(-x))
}

// Input is what Rank works from.
type Input struct {
	// Observations maps a service to what each of its signals did.
	Observations map[string]map[string]Observation
	// Changes are the change events near the incident.
	Changes []Change
	// Dependencies maps a service to the services it calls.
	Dependencies map[string][]string
	// Origin is the service where the incident started, when the
	// dependency graph tells: the fit of a cause on any other service,
	// which may only be feeling the origin's trouble, counts
	// VictimWeight of itself.
	Origin string
}

// VictimWeight is how much a cause's fit on a service other than the
// origin counts.
const VictimWeight = 0.5

// Rank scores every cause against every service with an anomaly and
// returns the hypotheses at or above floor, the most confident first.
// Services whose signals all stayed stable are not candidates: nothing
// happened there to explain.
func Rank(sigs []Signature, in Input, cal Calibration, floor float64) []Hypothesis {
	var matches []Hypothesis
	for _, service := range slices.Sorted(maps.Keys(in.Observations)) {
		obs := in.Observations[service]
		if !anomalous(obs) {
			continue
		}
		for _, sig := range sigs {
			m, ok := Score(sig, service, obs, in.Changes, in.Dependencies[service])
			if !ok {
				continue
			}
			if in.Origin != "" && service != in.Origin {
				m.Fit *= VictimWeight
			}
			matches = append(matches, Hypothesis{Match: m, Description: sig.Description, Investigation: sig.Investigation})
		}
	}
	strength := func(h Hypothesis) float64 { return h.Fit * math.Sqrt(h.Coverage) }
	slices.SortStableFunc(matches, func(a, b Hypothesis) int {
		return cmp.Or(cmp.Compare(strength(b), strength(a)), cmp.Compare(a.Cause, b.Cause), cmp.Compare(a.Service, b.Service))
	})
	var out []Hypothesis
	for i, h := range matches {
		next := 0.0
		if i+1 < len(matches) {
			next = strength(matches[i+1])
		}
		if i > 0 {
			// Below the first, the margin is to the best: a runner-up is
			// never more confident for being far from the third.
			next = strength(matches[0])
		}
		h.Margin = strength(h) - next
		h.Confidence = cal.Confidence(h.Fit, h.Coverage, h.Margin)
		if h.Confidence >= floor {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b Hypothesis) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out
}

// anomalous reports whether any signal changed.
func anomalous(obs map[string]Observation) bool {
	for _, o := range obs {
		if o.Pattern != signature.Stable {
			return true
		}
	}
	return false
}
