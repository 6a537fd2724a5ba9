package topology

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// State is what is known of one service during an incident. A service
// given with Anomalous false is observed healthy; a service not given at
// all is unknown (no data).
type State struct {
	Anomalous bool
	// Onset is when the anomaly started; the zero time means unknown and
	// sorts after every known onset.
	Onset time.Time
	// Score is the strength of the anomaly (for instance the robust z of
	// Detector); higher is stronger.
	Score float64
}

// Impact is how much of the user-facing surface an incident reaches.
type Impact string

// User impact levels, by the fraction f of entry services affected:
// none (f = 0), partial (0 < f < ½), major (½ ≤ f < 1), complete (f = 1).
const (
	ImpactNone     Impact = "none"
	ImpactPartial  Impact = "partial"
	ImpactMajor    Impact = "major"
	ImpactComplete Impact = "complete"
)

// Options tunes Analyze.
type Options struct {
	// Alerting are the services whose alerts are being enriched. When set,
	// only what they depend on (and themselves) can be an origin, and the
	// path leads to the nearest of them. When empty the whole graph is
	// searched and the path leads to the nearest affected entry service.
	Alerting []string
	// Entries are the services where users come in (topology's
	// entry_services); empty means Graph.Entries, the services that
	// nothing else calls.
	Entries []string
}

// Candidate is an anomalous service ranked as a possible origin.
type Candidate struct {
	Service string
	Onset   time.Time
	Score   float64
	// Root is set when no anomalous service that this one depends on lies
	// outside its own cycle of mutual dependencies: the anomaly cannot be
	// explained by a dependency, so the cascade may have started here.
	Root bool
	// Explains is how many other anomalous services depend on this one,
	// directly or transitively: how much of the incident it would account
	// for as the origin.
	Explains int
	// Leaf is set when the graph knows of nothing this service calls, so
	// its dependencies cannot be seen to be healthy.
	Leaf bool
}

// Result is where a cascade started and how far it reached. The zero
// Result (no Origin) means nothing relevant is anomalous.
type Result struct {
	Origin string
	// Candidates are all anomalous services in scope, best first: roots
	// before the rest, then earliest onset, then most services explained,
	// then non-leaves before leaves, then highest score, then name. Origin
	// is the first.
	Candidates []Candidate
	// Path runs from Origin up through its dependents to the alerting
	// service (or the nearest affected entry service).
	Path []string
	// Affected are Origin and the services depending on it, directly or
	// transitively, not observed healthy, sorted; BlastRadius is their
	// count.
	Affected    []string
	BlastRadius int
	// Impact is from how many entry services are in Affected;
	// ImpactedEntries names them.
	Impact          Impact
	ImpactedEntries []string
}

// Summary returns the one-line description of r, origin first, such as
// "origin postgres → payment → checkout; blast radius 4 services; user
// impact partial".
func (r Result) Summary() string {
	if r.Origin == "" {
		return "no origin: no anomalous service in scope"
	}
	unit := "services"
	if r.BlastRadius == 1 {
		unit = "service"
	}
	return fmt.Sprintf("origin %s; blast radius %d %s; user impact %s",
		strings.Join(r.Path, " → "), r.BlastRadius, unit, r.Impact)
}

// TopK returns the names of the first k candidates.
func (r Result) TopK(k int) []string {
	out := make([]string, 0, min(k, len(r.Candidates)))
	for _, c := range r.Candidates[:min(k, len(r.Candidates))] {
		out = append(out, c.Service)
	}
	return out
}

// Analyze finds the origin of a cascade over g from the services' states.
//
// The scope is every service the alerting services reach through their
// dependencies without crossing a service observed healthy (an observed
// healthy service stops a cascade); with no alerting services, the whole
// graph. Services with no state are transparent: A depends on B through an
// unknown C counts as A depending on B, since a cascade can pass a service
// nobody measures.
//
// A dependency explains a service's anomaly only if its own onset is not
// later (cause precedes effect; unknown onsets explain): a database that
// slowed down after its caller did is a victim of the caller's retries,
// not the cause.
//
// Cycles: the anomalous services and these dependencies are condensed into
// strongly connected components. A component none of whose members depends
// on an anomalous service outside it is a root component; every member of
// one is a root candidate, and the earliest onset (then the highest score)
// decides among them. Without this, services that call each other would
// each have an anomalous dependency and the origin would be lost.
//
// Among roots with the same onset (samples are coarse, ties are common)
// the one explaining more anomalous services wins: the most parsimonious
// account of the incident. Then a service whose dependencies are known
// (and so seen healthy) wins over a leaf the graph knows nothing behind,
// then the strongest anomaly. Both rules are for the endpoint that mirrors
// a slow service — a load balancer or remote seen only from the client
// side, with no edge to the service behind it: its anomaly is at least as
// strong as the real one, but it explains no more and shows no healthy
// dependencies.
//
// With no anomalous service in scope the Result is empty: no origin,
// impact none.
func Analyze(g *Graph, states map[string]State, opts Options) Result {
	if g == nil {
		g = &Graph{}
	}
	a := analysis{g: g, states: states, alerting: setOf(opts.Alerting)}
	anomalous := a.scope(opts.Alerting)
	if len(anomalous) == 0 {
		return Result{Impact: ImpactNone}
	}
	cands := a.rank(anomalous)
	origin := cands[0].Service
	affected := a.affected(origin)
	entries := opts.Entries
	if len(entries) == 0 {
		entries = g.Entries()
	}
	var impacted []string
	for _, e := range slices.Sorted(maps.Keys(setOf(entries))) {
		if slices.Contains(affected, e) {
			impacted = append(impacted, e)
		}
	}
	targets := opts.Alerting
	if len(targets) == 0 {
		targets = impacted
	}
	return Result{
		Origin:          origin,
		Candidates:      cands,
		Path:            a.path(origin, setOf(targets)),
		Affected:        affected,
		BlastRadius:     len(affected),
		Impact:          impactOf(len(impacted), len(setOf(entries))),
		ImpactedEntries: impacted,
	}
}

func impactOf(impacted, entries int) Impact {
	switch {
	case impacted == 0 || entries == 0:
		return ImpactNone
	case impacted >= entries:
		return ImpactComplete
	case 2*impacted >= entries:
		return ImpactMajor
	default:
		return ImpactPartial
	}
}

// analysis holds the inputs of one Analyze call.
type analysis struct {
	g        *Graph
	states   map[string]State
	alerting map[string]bool
}

func (a analysis) anomalous(svc string) bool { return a.states[svc].Anomalous }

func (a analysis) unknown(svc string) bool {
	_, ok := a.states[svc]
	return !ok
}

// passable reports whether a cascade can be traced through svc: it is
// anomalous, unknown, or alerting (an alert that fired outranks a detector
// that saw nothing).
func (a analysis) passable(svc string) bool {
	return a.anomalous(svc) || a.unknown(svc) || a.alerting[svc]
}

// scope returns the anomalous services that can be an origin, sorted.
func (a analysis) scope(alerting []string) []string {
	var out []string
	if len(alerting) == 0 {
		seen := map[string]bool{}
		for _, svc := range a.g.services {
			seen[svc] = true
		}
		for svc := range a.states {
			seen[svc] = true
		}
		for svc := range seen {
			if a.anomalous(svc) {
				out = append(out, svc)
			}
		}
		slices.Sort(out)
		return out
	}
	seen := map[string]bool{}
	queue := slices.Sorted(maps.Keys(setOf(alerting)))
	for _, svc := range queue {
		seen[svc] = true
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if a.anomalous(cur) {
			out = append(out, cur)
		}
		for _, d := range a.g.deps[cur] {
			if !seen[d] && a.passable(d) {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// anomalousDeps returns the anomalous services svc depends on directly or
// through unknown services only.
func (a analysis) anomalousDeps(svc string) []string {
	var out []string
	seen := map[string]bool{svc: true}
	stack := slices.Clone(a.g.deps[svc])
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		switch {
		case a.anomalous(cur):
			if a.mayExplain(cur, svc) {
				out = append(out, cur)
			}
		case a.unknown(cur):
			stack = append(stack, a.g.deps[cur]...)
		}
	}
	return out
}

// mayExplain reports whether the anomaly of dep can have caused that of
// svc: its onset is not later, or either onset is unknown.
func (a analysis) mayExplain(dep, svc string) bool {
	d, s := a.states[dep].Onset, a.states[svc].Onset
	return d.IsZero() || s.IsZero() || !d.After(s)
}

// rank returns the candidates, best first; see Result.Candidates.
func (a analysis) rank(anomalous []string) []Candidate {
	edges := make(map[string][]string, len(anomalous))
	for _, svc := range anomalous {
		edges[svc] = a.anomalousDeps(svc)
	}
	comp := components(anomalous, edges)
	explains := explained(anomalous, edges)
	cands := make([]Candidate, 0, len(anomalous))
	for _, svc := range anomalous {
		root := true
		for _, d := range edges[svc] {
			if comp[d] != comp[svc] {
				root = false
				break
			}
		}
		st := a.states[svc]
		cands = append(cands, Candidate{
			Service:  svc,
			Onset:    st.Onset,
			Score:    st.Score,
			Root:     root,
			Explains: explains[svc],
			Leaf:     len(a.g.deps[svc]) == 0,
		})
	}
	slices.SortFunc(cands, compareCandidates)
	return cands
}

func compareCandidates(x, y Candidate) int {
	if x.Root != y.Root {
		if x.Root {
			return -1
		}
		return 1
	}
	if c := compareOnset(x.Onset, y.Onset); c != 0 {
		return c
	}
	if c := cmp.Compare(y.Explains, x.Explains); c != 0 {
		return c
	}
	if x.Leaf != y.Leaf {
		if y.Leaf {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(y.Score, x.Score); c != 0 {
		return c
	}
	return strings.Compare(x.Service, y.Service)
}

// explained returns, for each node, how many other nodes reach it along
// edges.
func explained(nodes []string, edges map[string][]string) map[string]int {
	out := make(map[string]int, len(nodes))
	for _, src := range nodes {
		seen := map[string]bool{src: true}
		stack := slices.Clone(edges[src])
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[n] {
				continue
			}
			seen[n] = true
			out[n]++
			stack = append(stack, edges[n]...)
		}
	}
	return out
}

// compareOnset orders known onsets by time and unknown (zero) ones last.
func compareOnset(x, y time.Time) int {
	switch {
	case x.IsZero() && y.IsZero():
		return 0
	case x.IsZero():
		return 1
	case y.IsZero():
		return -1
	}
	return x.Compare(y)
}

// components returns the strongly connected component of each node
// (Tarjan's algorithm, iterative so that long chains cannot overflow the
// stack). Edges to nodes outside nodes are ignored.
func components(nodes []string, edges map[string][]string) map[string]int {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	comp := map[string]int{}
	var stack []string
	next, ncomp := 0, 0
	type frame struct {
		node string
		edge int
	}
	for _, start := range nodes {
		if _, ok := index[start]; ok {
			continue
		}
		call := []frame{{node: start}}
		index[start], low[start] = next, next
		next++
		stack = append(stack, start)
		onStack[start] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.edge < len(edges[f.node]) {
				w := edges[f.node][f.edge]
				f.edge++
				if _, inGraph := edges[w]; !inGraph {
					continue
				}
				if _, ok := index[w]; !ok {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{node: w})
				} else if onStack[w] {
					low[f.node] = min(low[f.node], index[w])
				}
				continue
			}
			v := f.node
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].node
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp
}

// affected returns origin and its transitive dependents reached through
// passable services, sorted.
func (a analysis) affected(origin string) []string {
	seen := map[string]bool{origin: true}
	queue := []string{origin}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, p := range a.g.dependents[cur] {
			if !seen[p] && a.passable(p) {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// path returns the shortest chain from origin up through its dependents to
// the nearest of targets, preferring a chain of passable services and
// falling back to any chain; just origin when no target is reachable.
func (a analysis) path(origin string, targets map[string]bool) []string {
	if targets[origin] {
		return []string{origin}
	}
	for _, onlyPassable := range []bool{true, false} {
		prev := map[string]string{origin: ""}
		queue := []string{origin}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, p := range a.g.dependents[cur] {
				if _, seen := prev[p]; seen || (onlyPassable && !a.passable(p)) {
					continue
				}
				prev[p] = cur
				if targets[p] {
					var out []string
					for n := p; n != ""; n = prev[n] {
						out = append(out, n)
					}
					slices.Reverse(out)
					return out
				}
				queue = append(queue, p)
			}
		}
	}
	return []string{origin}
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		if x != "" {
			m[x] = true
		}
	}
	return m
}
