// Package cause matches what the golden signals of the services in an
// incident did (their signatures) and the changes made shortly before
// against a set of cause signatures, "a deploy just before a step in the
// error rate with steady traffic", and ranks the causes they fit.
//
// A cause signature is a list of expectations, each about one signal: the
// patterns it should show (sudden_increase, ...), or that it should stay
// stable, and which way it should move; optionally a temporal order (this
// signal's onset no later than that one's) and the types of change that
// point to it when made shortly before the onset. A cause's fit is the
// weighted share of its expectations that the observed signatures meet,
// over the expectations whose signals were observed at all; a required
// expectation that is not met rules the cause out. Fits are turned into
// confidences by Calibration, so that a confidence behaves like a
// probability of being right; below the floor no hypothesis is given
// rather than a wrong one.
//
// The package is pure: signatures and changes in, hypotheses out.
package cause

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/rootcause/signature"
)

// Directions an expectation asks for.
const (
	Up   = "up"
	Down = "down"
	Any  = ""
)

// Observation is what one signal of one service did.
type Observation struct {
	// Pattern is one of the signature package's patterns.
	Pattern string
	// Direction is +1 for a rise, -1 for a fall, 0 when stable.
	Direction int
	// Onset is when the change began; zero when stable.
	Onset time.Time
	// Strength is the change in robust noise units (0 when stable).
	Strength float64
	// Line describes the change with numbers, for evidence.
	Line string
}

// Change is a change event near the incident.
type Change struct {
	Service     string
	Type        string
	At          time.Time
	Description string
}

// Expectation is what a cause predicts of one signal.
type Expectation struct {
	// Signal is the signal's name (error_rate, latency, ...).
	Signal string `yaml:"signal"`
	// Patterns are the patterns that meet it; [stable] asks that the
	// signal did not change.
	Patterns []string `yaml:"patterns"`
	// Direction is up, down or empty (either).
	Direction string `yaml:"direction,omitempty"`
	// Weight is how much it counts (default 1).
	Weight float64 `yaml:"weight,omitempty"`
	// Required rules the cause out when the expectation is not met.
	Required bool `yaml:"required,omitempty"`
}

// Order asks that one signal's onset come no later than another's (by
// Tolerance, default 2m).
type Order struct {
	First     string         `yaml:"first"`
	Then      string         `yaml:"then"`
	Weight    float64        `yaml:"weight,omitempty"`
	Tolerance model.Duration `yaml:"tolerance,omitempty"`
}

// ChangeRule says which changes made before the onset point to the cause.
type ChangeRule struct {
	// Types are the change types that count (deployment, config, ...).
	Types []string `yaml:"types"`
	// Within is how long before the onset a change counts (default 30m);
	// a change counts less the longer before the onset it was.
	Within model.Duration `yaml:"within,omitempty"`
	// Weight is how much a change right at the onset counts (default 1).
	Weight float64 `yaml:"weight,omitempty"`
	// Required rules the cause out without such a change.
	Required bool `yaml:"required,omitempty"`
}

// Signature is a cause and what it predicts.
type Signature struct {
	Name          string        `yaml:"name"`
	Description   string        `yaml:"description"`
	Expect        []Expectation `yaml:"expect"`
	Order         []Order       `yaml:"order,omitempty"`
	Change        *ChangeRule   `yaml:"change,omitempty"`
	Investigation []string      `yaml:"investigation,omitempty"`
}

// Defaults for the optional fields.
const (
	DefaultTolerance = model.Duration(2 * time.Minute)
	DefaultWithin    = model.Duration(30 * time.Minute)
)

// Validate checks a signature and fills its defaults.
func (s *Signature) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("cause without a name")
	}
	if len(s.Expect) == 0 {
		return fmt.Errorf("cause %q: expect: at least one expectation is required", s.Name)
	}
	for i := range s.Expect {
		e := &s.Expect[i]
		if e.Signal == "" {
			return fmt.Errorf("cause %q: expect[%d]: missing signal", s.Name, i)
		}
		if len(e.Patterns) == 0 {
			return fmt.Errorf("cause %q: expect[%d] (%s): at least one pattern is required", s.Name, i, e.Signal)
		}
		for _, p := range e.Patterns {
			if !slices.Contains(signature.Patterns(), p) {
				return fmt.Errorf("cause %q: expect[%d] (%s): unknown pattern %q, want one of %s", s.Name, i, e.Signal, p, strings.Join(signature.Patterns(), ", "))
			}
		}
		if e.Direction != Up && e.Direction != Down && e.Direction != Any {
			return fmt.Errorf("cause %q: expect[%d] (%s): direction %q: want up, down or empty", s.Name, i, e.Signal, e.Direction)
		}
		if e.Weight == 0 {
			e.Weight = 1
		}
		if e.Weight < 0 {
			return fmt.Errorf("cause %q: expect[%d] (%s): weight %g must be positive", s.Name, i, e.Signal, e.Weight)
		}
	}
	for i := range s.Order {
		o := &s.Order[i]
		if o.First == "" || o.Then == "" {
			return fmt.Errorf("cause %q: order[%d]: first and then are required", s.Name, i)
		}
		if o.Weight == 0 {
			o.Weight = 1
		}
		if o.Tolerance == 0 {
			o.Tolerance = DefaultTolerance
		}
	}
	if c := s.Change; c != nil {
		if len(c.Types) == 0 {
			return fmt.Errorf("cause %q: change.types: at least one change type is required", s.Name)
		}
		if c.Within == 0 {
			c.Within = DefaultWithin
		}
		if c.Weight == 0 {
			c.Weight = 1
		}
	}
	return nil
}

// Evidence is a finding for or against a cause.
type Evidence struct {
	Line string
	For  bool
}

// Match is how well a cause fits the observations of one service.
type Match struct {
	Cause   string
	Service string
	// Fit is the weighted share of the expectations met, in [0, 1].
	Fit float64
	// Coverage is the share of the cause's weight whose signals were
	// observed: a fit on little evidence is worth less.
	Coverage float64
	// Changes are the changes that pointed to it, with their correlation
	// in [0, 1], the best first.
	Changes  []Correlated
	Evidence []Evidence
	// Onset is the earliest onset among the service's signals.
	Onset time.Time
}

// Correlated is a change with its correlation to an anomaly's onset.
type Correlated struct {
	Change
	Correlation float64
}

// Score rates a cause's fit to the observations of a service: the
// weighted share of the expectations and orders met, with changes
// adding their correlation times their weight. changes are those of the
// service and of its dependencies, with dependency set for the latter.
func Score(sig Signature, service string, obs map[string]Observation, changes []Change, dependencies []string) (Match, bool) {
	m := Match{Cause: sig.Name, Service: service}
	var met, seen, total float64
	for _, e := range sig.Expect {
		total += e.Weight
		o, ok := obs[e.Signal]
		if !ok {
			if e.Required {
				return m, false
			}
			continue
		}
		seen += e.Weight
		if meets(e, o) {
			met += e.Weight
			m.Evidence = append(m.Evidence, Evidence{Line: o.Line, For: true})
		} else {
			if e.Required {
				return m, false
			}
			m.Evidence = append(m.Evidence, Evidence{Line: o.Line, For: false})
		}
	}
	onset := earliestOnset(obs)
	m.Onset = onset
	for _, r := range sig.Order {
		a, okA := obs[r.First]
		b, okB := obs[r.Then]
		if !okA || !okB || a.Onset.IsZero() || b.Onset.IsZero() {
			continue
		}
		total += r.Weight
		seen += r.Weight
		if !a.Onset.After(b.Onset.Add(time.Duration(r.Tolerance))) {
			met += r.Weight
			m.Evidence = append(m.Evidence, Evidence{Line: fmt.Sprintf("%s changed %s before %s", r.First, enrich.Approx(max(0, b.Onset.Sub(a.Onset))), r.Then), For: true})
		}
	}
	if c := sig.Change; c != nil {
		total += c.Weight
		seen += c.Weight
		m.Changes = correlate(*c, service, dependencies, changes, onset)
		if len(m.Changes) > 0 {
			met += c.Weight * m.Changes[0].Correlation
		} else if c.Required {
			return m, false
		}
	}
	if seen == 0 {
		return m, false
	}
	m.Fit, m.Coverage = met/seen, seen/total
	return m, true
}

// meets reports whether an observation meets an expectation.
func meets(e Expectation, o Observation) bool {
	if !slices.Contains(e.Patterns, o.Pattern) {
		return false
	}
	switch e.Direction {
	case Up:
		return o.Direction > 0
	case Down:
		return o.Direction < 0
	}
	return true
}

// earliestOnset is the first onset among the observations; zero when all
// are stable.
func earliestOnset(obs map[string]Observation) time.Time {
	var first time.Time
	for _, o := range obs {
		if !o.Onset.IsZero() && (first.IsZero() || o.Onset.Before(first)) {
			first = o.Onset
		}
	}
	return first
}

// correlate scores the changes of the rule's types made within its window
// before the onset (or up to the tolerance after, for clocks that
// disagree): 1 at the onset, falling linearly to 0.2 at the window's
// start, halved for a change to a dependency rather than the service
// itself. Best first.
func correlate(r ChangeRule, service string, dependencies []string, changes []Change, onset time.Time) []Correlated {
	if onset.IsZero() {
		return nil
	}
	var out []Correlated
	for _, c := range changes {
		if !slices.Contains(r.Types, c.Type) {
			continue
		}
		before := onset.Sub(c.At)
		within := time.Duration(r.Within)
		if before < -time.Duration(DefaultTolerance) || before > within {
			continue
		}
		score := 1 - 0.8*math.Max(0, before.Seconds())/within.Seconds()
		switch {
		case c.Service == service:
		case slices.Contains(dependencies, c.Service):
			score /= 2
		default:
			continue
		}
		out = append(out, Correlated{Change: c, Correlation: score})
	}
	slices.SortStableFunc(out, func(a, b Correlated) int { return cmp.Compare(b.Correlation, a.Correlation) })
	return out
}
