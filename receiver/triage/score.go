package triage

import (
	"math"
	"strings"

	"github.com/prometheus/common/model"
)

// ScorePolicy says how alerts are scored.
type ScorePolicy struct {
	// SeverityScores maps severity label values to the severity part;
	// alerts with another or no severity get UnknownSeverity.
	SeverityScores  map[string]float64
	UnknownSeverity float64
}

// Score is an alert's score in [0,1], its priority, and the parts it was
// made of, so that a person can see why; Evidence is what it was computed
// from, to score again when more is known.
type Score struct {
	Value    float64
	Priority string
	Parts    map[string]float64
	Evidence Evidence
}

// AgreementFull is how many other alerts on the same service make the
// agreement part whole: more agree no more.
const AgreementFull = 3

// Evidence is what an alert is scored on beyond its own labels.
type Evidence struct {
	// Agreeing counts the other firing alerts on the alert's service.
	Agreeing int
	// FlapRate is the alert's flap rate while it is flapping, else 0.
	FlapRate float64
	// Exceedance, when a forecast knows the alert's value and threshold,
	// is how far past the threshold the value is (see Exceedance).
	Exceedance *float64
	// Unusual, when a baseline knows the usual value for the time, is how
	// unusual the value is (see Unusual).
	Unusual *float64
	// SLOImpact, when the alert is covered by an SLO, is how fast its
	// error budget burns (see SLOImpact).
	SLOImpact *float64
}

// unusualAt is the deviation from the baseline, in spreads, at which
// Unusual reaches 1.
const unusualAt = 6

// Unusual maps a deviation from the baseline (in spreads) to [0,1]:
// |deviation|/6, at most 1: 0 at the usual value, 0.5 at the edge of the
// usual range (3 spreads) and 1 from 6 on.
func Unusual(deviation float64) float64 {
	if math.IsNaN(deviation) {
		return 0
	}
	return min(1, math.Abs(deviation)/unusualAt)
}

// Exceedance is how far value is past threshold in the direction of the
// comparator, relative to the threshold: 0 at or before it, 1 at twice it
// or beyond. With a zero threshold, 1 past it.
func Exceedance(comparator string, value, threshold float64) float64 {
	past := value - threshold
	if strings.HasPrefix(comparator, "<") {
		past = -past
	}
	switch {
	case past <= 0:
		return 0
	case threshold == 0:
		return 1
	default:
		return min(1, past/math.Abs(threshold))
	}
}

// SLOImpact maps the severity the multi-window burn-rate policy gives an
// SLO to [0,1]: critical (the page tier's fastest pair would fire) 1,
// high 0.75, medium (a ticket) 0.5, low 0.
func SLOImpact(severity string) float64 {
	switch severity {
	case "critical":
		return 1
	case "high":
		return 0.75
	case "medium":
		return 0.5
	}
	return 0
}

// Weights of the score's parts; the optional ones count only when known.
const (
	weightSeverity   = 3
	weightAgreement  = 1
	weightExceedance = 1
	weightUnusual    = 1
	weightSLO        = 2
)

// ScoreAlert scores an alert: the weighted mean of its severity (weight 3)
// and of how many other alerts on its service agree that something is
// wrong (1), and, when known, of how far past its threshold a forecast
// finds it (1), how unusual a baseline finds its value for the time
// (1), and how fast the error budget of an SLO covering it burns (2).
// With severity and agreement alone that is 0.75 × severity + 0.25 ×
// agreement. A flapping alert's score is scaled by 1 − rate/2: it says
// less for each time it changes. Priority: P1 from 0.75, P2 from 0.5, P3
// from 0.3, else P4 — a critical alert alone is P1, a warning alone P3.
func ScoreAlert(p ScorePolicy, a model.Alert, e Evidence) Score {
	sev, ok := p.SeverityScores[strings.ToLower(string(a.Labels["severity"]))]
	if !ok {
		sev = p.UnknownSeverity
	}
	agreement := min(1, float64(e.Agreeing)/AgreementFull)
	parts := map[string]float64{"severity": sev, "agreement": agreement}
	sum, weights := weightSeverity*sev+weightAgreement*agreement, float64(weightSeverity+weightAgreement)
	for _, opt := range []struct {
		name   string
		value  *float64
		weight float64
	}{{"exceedance", e.Exceedance, weightExceedance}, {"unusual", e.Unusual, weightUnusual}, {"slo", e.SLOImpact, weightSLO}} {
		if opt.value != nil {
			parts[opt.name] = *opt.value
			sum += opt.weight * *opt.value
			weights += opt.weight
		}
	}
	v := sum / weights
	if e.FlapRate > 0 {
		v *= 1 - e.FlapRate/2
		parts["flapping"] = e.FlapRate
	}
	return Score{Value: v, Priority: priority(v), Parts: parts, Evidence: e}
}

func priority(score float64) string {
	switch {
	case score >= 0.75:
		return "P1"
	case score >= 0.5:
		return "P2"
	case score >= 0.3:
		return "P3"
	default:
		return "P4"
	}
}
