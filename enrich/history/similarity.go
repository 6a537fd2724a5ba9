package history

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Weights are how much each part of a fingerprint counts in a similarity.
// Only their ratios matter. A part that one of the two fingerprints does
// not know (no cause, no signal in common, no priority, no resolution yet,
// both open) is left out and the others share its weight: unknown is not
// different. Services and alert names always count, an empty set being
// like nothing else.
type Weights struct {
	// Services and Alertnames weigh the Jaccard index of the two sets.
	Services   float64 `yaml:"services" json:"services"`
	Alertnames float64 `yaml:"alertnames" json:"alertnames"`
	// Signature weighs the mean agreement of the signals both fingerprints
	// have, over those that changed in at least one: 1 for the same
	// pattern, ½ for the same direction (sudden_increase and
	// gradual_increase), 0 otherwise. Signals stable in both are no
	// evidence either way.
	Signature float64 `yaml:"signature" json:"signature"`
	// Cause weighs 1 for the same top cause, else half the Jaccard index of
	// the words of the two names (database_lock and database_issue: ⅙).
	Cause float64 `yaml:"cause" json:"cause"`
	// TimeOfDay weighs the closeness of the time-of-day classes: 1 for the
	// same class; ½ between neighbours (business hours and evening,
	// evening and night) and between off-hours classes (weekend and
	// evening or night); ¼ between night and business hours; 0 between
	// weekend and business hours.
	TimeOfDay float64 `yaml:"time_of_day" json:"time_of_day"`
	// Weekday weighs 1 − d/3 for weekdays d days apart (cyclically, d ≤ 3).
	Weekday float64 `yaml:"weekday" json:"weekday"`
	// Duration weighs 1 − |ln(a/b)|/ln 16, at least 0, for durations a and
	// b (of at least a minute): 1 when equal, 0 when 16 times apart. An
	// open incident lasts at least as long as it has so far, so it scores 1
	// against any longer one.
	Duration float64 `yaml:"duration" json:"duration"`
	// Severity weighs 1 − |Δ|/3 for the peak priorities Δ levels apart.
	Severity float64 `yaml:"severity" json:"severity"`
	// Resolution weighs 1 for the same resolution type, 0 otherwise; it
	// only counts between resolved incidents.
	Resolution float64 `yaml:"resolution" json:"resolution"`
}

// DefaultWeights returns the default weights. What an incident is
// (services 0.20, alert names 0.25, signature 0.20, top cause 0.15) makes
// 0.8 of the default; when it happened and how it went (time of day
// 0.05, weekday 0.03, duration 0.04, severity 0.04, resolution 0.04)
// only 0.2, since the same failure strikes at any hour.
func DefaultWeights() Weights {
	return Weights{
		Services:   0.20,
		Alertnames: 0.25,
		Signature:  0.20,
		Cause:      0.15,
		TimeOfDay:  0.05,
		Weekday:    0.03,
		Duration:   0.04,
		Severity:   0.04,
		Resolution: 0.04,
	}
}

// Validate checks that every weight is a finite number of at least 0 and
// that services or alert names count, since the Index finds candidates by
// what they share.
func (w Weights) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"services", w.Services}, {"alertnames", w.Alertnames}, {"signature", w.Signature},
		{"cause", w.Cause}, {"time_of_day", w.TimeOfDay}, {"weekday", w.Weekday},
		{"duration", w.Duration}, {"severity", w.Severity}, {"resolution", w.Resolution},
	} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
			return fmt.Errorf("weights.%s: %g is not a finite number of at least 0", p.name, p.v)
		}
	}
	if w.Services+w.Alertnames == 0 {
		return errors.New("weights: services or alertnames must weigh more than 0")
	}
	return nil
}

// context returns the weight of the parts the Index does not look
// candidates up by.
func (w Weights) context() float64 {
	return w.TimeOfDay + w.Weekday + w.Duration + w.Severity + w.Resolution
}

// unshared returns the highest similarity a fingerprint can have with
// one that shares no service, alert name, cause word or changed signal
// with it: all context parts agree, the sets score 0, and the cause and
// signature parts are 0 or left out.
func (w Weights) unshared() float64 {
	c := w.context()
	return c / (c + w.Services + w.Alertnames)
}

// setless returns the highest similarity a fingerprint can have with one
// that shares no service or alert name with it: every other part agrees.
func (w Weights) setless() float64 {
	rest := w.Cause + w.Signature + w.context()
	return rest / (rest + w.Services + w.Alertnames)
}

// Similarity returns how alike two fingerprints are, in [0, 1]: the
// weighted mean of their parts (see Weights).
func Similarity(a, b Fingerprint, w Weights) float64 {
	words := newInterner()
	ca, cb := compile(a, words.id), compile(b, words.id)
	return w.score(&ca, &cb, intersection(ca.services, cb.services), intersection(ca.alertnames, cb.alertnames))
}

// compiled is a fingerprint with its names replaced by interned ids, for
// fast comparison.
type compiled struct {
	// services, alertnames and causeWords are sorted ids.
	services, alertnames []uint32
	cause                uint32
	causeWords           []uint32
	// signature is sorted by signal.
	signature []signal
	// timeOfDay and weekday are -1 when unknown; peak is 1–4, 0 when
	// unknown.
	timeOfDay, weekday, peak int8
	duration                 float64
	open                     bool
	resolution               uint32
}

// signal is one signal of a signature.
type signal struct {
	name, pattern uint32
	// dir is +1 for an increase, −1 for a decrease, 0 for any other
	// pattern.
	dir    int8
	stable bool
}

// Token kinds: the prefixes of interned names, so that a service and an
// alert name of the same spelling stay apart.
const (
	kindService    = "s\x00"
	kindAlertname  = "a\x00"
	kindCause      = "c\x00"
	kindCauseWord  = "w\x00"
	kindSignal     = "n\x00"
	kindPattern    = "p\x00"
	kindResolution = "r\x00"
	// kindChange is a changed signal with its direction or pattern: what
	// the Index posts for signatures.
	kindChange = "g\x00"
)

// stablePattern is the pattern of a signal that did not change.
const stablePattern = "stable"

// compile turns a fingerprint into its compiled form with the ids id
// gives.
func compile(fp Fingerprint, id func(string) uint32) compiled {
	c := compiled{
		services:   ids(fp.Services, kindService, id),
		alertnames: ids(fp.Alertnames, kindAlertname, id),
		timeOfDay:  int8(slices.Index([]string{BusinessHours, Evening, Night, Weekend}, fp.TimeOfDay)),
		weekday:    -1,
		peak:       int8(priorityRank(fp.Peak())),
		duration:   max(fp.DurationSeconds, time.Minute.Seconds()),
		open:       fp.Open,
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(fp.Weekday, d.String()) {
			c.weekday = int8(d)
		}
	}
	if fp.Cause != "" {
		c.cause = id(kindCause + fp.Cause)
		c.causeWords = ids(strings.Split(fp.Cause, "_"), kindCauseWord, id)
	}
	if fp.Resolution != "" {
		c.resolution = id(kindResolution + fp.Resolution)
	}
	for name, pattern := range fp.Signature {
		if name == "" || pattern == "" {
			continue
		}
		s := signal{name: id(kindSignal + name), pattern: id(kindPattern + pattern), stable: pattern == stablePattern}
		switch {
		case strings.HasSuffix(pattern, "_increase"):
			s.dir = 1
		case strings.HasSuffix(pattern, "_decrease"):
			s.dir = -1
		}
		c.signature = append(c.signature, s)
	}
	slices.SortFunc(c.signature, func(a, b signal) int { return cmp.Compare(a.name, b.name) })
	return c
}

// ids returns the sorted, distinct ids of the non-empty names of a kind.
func ids(names []string, kind string, id func(string) uint32) []uint32 {
	out := make([]uint32, 0, len(names))
	for _, n := range names {
		if n != "" {
			out = append(out, id(kind+n))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// changeToken returns the token the Index posts for a changed signal: two
// signals whose patterns agree at all share it.
func changeToken(fp Fingerprint, name string) (string, bool) {
	pattern := fp.Signature[name]
	switch {
	case pattern == stablePattern || pattern == "":
		return "", false
	case strings.HasSuffix(pattern, "_increase"):
		return kindChange + name + "\x00up", true
	case strings.HasSuffix(pattern, "_decrease"):
		return kindChange + name + "\x00down", true
	}
	return kindChange + name + "\x00=" + pattern, true
}

// score returns the similarity of two compiled fingerprints that share
// services services and alertnames alert names.
func (w Weights) score(a, b *compiled, services, alertnames int) float64 {
	m := mean{
		num: w.Services*jaccard(services, len(a.services), len(b.services)) +
			w.Alertnames*jaccard(alertnames, len(a.alertnames), len(b.alertnames)),
		den: w.Services + w.Alertnames,
	}
	v, ok := causeCloseness(a, b)
	m.add(w.Cause, v, ok)
	v, ok = signatureCloseness(a, b)
	m.add(w.Signature, v, ok)
	v, ok = timeOfDayCloseness(a.timeOfDay, b.timeOfDay)
	m.add(w.TimeOfDay, v, ok)
	v, ok = weekdayCloseness(a.weekday, b.weekday)
	m.add(w.Weekday, v, ok)
	v, ok = durationCloseness(a, b)
	m.add(w.Duration, v, ok)
	v, ok = severityCloseness(a.peak, b.peak)
	m.add(w.Severity, v, ok)
	v, ok = resolutionCloseness(a.resolution, b.resolution)
	m.add(w.Resolution, v, ok)
	if m.den == 0 {
		return 0
	}
	return m.num / m.den
}

// mean is a weighted mean being summed.
type mean struct {
	num, den float64
}

// add adds a part of closeness v when it is known.
func (m *mean) add(weight, v float64, ok bool) {
	if ok {
		m.num += weight * v
		m.den += weight
	}
}

// jaccard returns the Jaccard index of two sets of sizes na and nb that
// share shared elements; 0 for two empty sets.
func jaccard(shared, na, nb int) float64 {
	union := na + nb - shared
	if union == 0 {
		return 0
	}
	return float64(shared) / float64(union)
}

// intersection returns how many elements two sorted sets share.
func intersection(a, b []uint32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// causeCloseness compares the top causes; unknown when either has none.
func causeCloseness(a, b *compiled) (float64, bool) {
	switch {
	case a.cause == 0 || b.cause == 0:
		return 0, false
	case a.cause == b.cause:
		return 1, true
	}
	return jaccard(intersection(a.causeWords, b.causeWords), len(a.causeWords), len(b.causeWords)) / 2, true
}

// signatureCloseness compares the signals both signatures have, over
// those that changed in either; unknown when there is none.
func signatureCloseness(a, b *compiled) (float64, bool) {
	sum, n, i, j := 0.0, 0, 0, 0
	for i < len(a.signature) && j < len(b.signature) {
		sa, sb := a.signature[i], b.signature[j]
		switch {
		case sa.name < sb.name:
			i++
		case sa.name > sb.name:
			j++
		default:
			i++
			j++
			if sa.stable && sb.stable {
				continue
			}
			n++
			switch {
			case sa.pattern == sb.pattern:
				sum++
			case sa.dir != 0 && sa.dir == sb.dir:
				sum += 0.5
			}
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// timeOfDayCloseness compares time-of-day classes, in the order
// business hours, evening, night, weekend.
func timeOfDayCloseness(a, b int8) (float64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	closeness := [4][4]float64{
		{1, 0.5, 0.25, 0},
		{0.5, 1, 0.5, 0.5},
		{0.25, 0.5, 1, 0.5},
		{0, 0.5, 0.5, 1},
	}
	return closeness[a][b], true
}

// weekdayCloseness compares weekdays by how many days apart they are.
func weekdayCloseness(a, b int8) (float64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	d := (int(a) - int(b) + 7) % 7
	return 1 - float64(min(d, 7-d))/3, true
}

// durationCloseness compares durations on a log scale; unknown when both
// incidents are still open.
func durationCloseness(a, b *compiled) (float64, bool) {
	switch {
	case a.open && b.open:
		return 0, false
	case a.open && b.duration >= a.duration, b.open && a.duration >= b.duration:
		return 1, true
	}
	return max(0, 1-math.Abs(math.Log(a.duration/b.duration))/math.Log(16)), true
}

// severityCloseness compares peak priorities.
func severityCloseness(a, b int8) (float64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	return 1 - math.Abs(float64(a-b))/3, true
}

// resolutionCloseness compares resolution types.
func resolutionCloseness(a, b uint32) (float64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	if a == b {
		return 1, true
	}
	return 0, true
}

// interner gives names ids from 1 up.
type interner struct {
	ids map[string]uint32
}

// newInterner returns an empty interner.
func newInterner() *interner {
	return &interner{ids: map[string]uint32{}}
}

// id returns the id of name, giving it the next one if it has none.
func (in *interner) id(name string) uint32 {
	v, ok := in.ids[name]
	if !ok {
		v = uint32(len(in.ids) + 1)
		in.ids[name] = v
	}
	return v
}
