package topology

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// epoch is the time the test incidents are laid out from.
func epoch() time.Time { return time.Date(2024, 5, 1, 14, 0, 0, 0, time.UTC) }

// bad returns an anomalous State with onset m minutes after epoch.
func bad(m int, score float64) State {
	return State{Anomalous: true, Onset: epoch().Add(time.Duration(m) * time.Minute), Score: score}
}

func names(cs []Candidate) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Service)
	}
	return out
}

func TestAnalyze(t *testing.T) {
	shop := FromStatic(map[string][]string{
		"web":      {"checkout"},
		"mobile":   {"search"},
		"checkout": {"payment"},
		"payment":  {"postgres"},
		"search":   {"elastic"},
	})
	healthy := State{}
	cases := []struct {
		name       string
		g          *Graph
		states     map[string]State
		opts       Options
		origin     string
		candidates []string
		roots      []string
		path       []string
		affected   []string
		impact     Impact
		summary    string
	}{
		{
			name: "chain: the deepest anomalous service is the origin",
			g:    shop,
			states: map[string]State{
				"postgres": bad(0, 9), "payment": bad(1, 7), "checkout": bad(2, 5),
				"search": healthy, "elastic": healthy, "mobile": healthy,
			},
			opts:       Options{Alerting: []string{"checkout"}},
			origin:     "postgres",
			candidates: []string{"postgres", "payment", "checkout"},
			roots:      []string{"postgres"},
			path:       []string{"postgres", "payment", "checkout"},
			affected:   []string{"checkout", "payment", "postgres", "web"},
			impact:     ImpactMajor,
			summary:    "origin postgres → payment → checkout; blast radius 4 services; user impact major",
		},
		{
			name: "chain: a stronger, later victim does not outrank the origin",
			g:    shop,
			states: map[string]State{
				"postgres": bad(0, 3), "payment": bad(0, 50), "checkout": bad(1, 80), "web": bad(1, 90), "mobile": healthy,
			},
			opts:       Options{Alerting: []string{"web"}},
			origin:     "postgres",
			candidates: []string{"postgres", "payment", "checkout", "web"},
			roots:      []string{"postgres"},
			path:       []string{"postgres", "payment", "checkout", "web"},
			affected:   []string{"checkout", "payment", "postgres", "web"},
			impact:     ImpactMajor,
		},
		{
			name: "diamond: a healthy branch stops neither origin nor path, but is not affected",
			g: FromStatic(map[string][]string{
				"api": {"a", "b"}, "a": {"db"}, "b": {"db"},
			}),
			states:     map[string]State{"api": bad(2, 6), "a": bad(1, 6), "b": healthy, "db": bad(0, 8)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "db",
			candidates: []string{"db", "a", "api"},
			roots:      []string{"db"},
			path:       []string{"db", "a", "api"},
			affected:   []string{"a", "api", "db"},
			impact:     ImpactComplete,
		},
		{
			name: "cycle with distinct onsets: the later member cannot explain the earlier",
			g: FromStatic(map[string][]string{
				"api": {"a"}, "a": {"b"}, "b": {"a", "cache"},
			}),
			states:     map[string]State{"api": bad(3, 5), "a": bad(2, 9), "b": bad(1, 6), "cache": healthy},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "b",
			candidates: []string{"b", "a", "api"},
			roots:      []string{"b"},
			path:       []string{"b", "a", "api"},
			affected:   []string{"a", "api", "b"},
			impact:     ImpactComplete,
		},
		{
			name: "cycle with equal onsets: one root component, the stronger anomaly wins",
			g: FromStatic(map[string][]string{
				"api": {"a"}, "a": {"b"}, "b": {"a"},
			}),
			states:     map[string]State{"api": bad(3, 5), "a": bad(1, 6), "b": bad(1, 9)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "b",
			candidates: []string{"b", "a", "api"},
			roots:      []string{"a", "b"},
			path:       []string{"b", "a", "api"},
			affected:   []string{"a", "api", "b"},
			impact:     ImpactComplete,
		},
		{
			name: "several anomalous branches: earliest root first, both roots ahead of victims",
			g: FromStatic(map[string][]string{
				"api": {"x", "y"}, "x": {"xdb"}, "y": {"ydb"},
			}),
			states:     map[string]State{"api": bad(4, 5), "x": bad(2, 7), "y": bad(3, 7), "xdb": bad(1, 4), "ydb": bad(3, 9)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "xdb",
			candidates: []string{"xdb", "ydb", "x", "y", "api"},
			roots:      []string{"xdb", "ydb"},
			path:       []string{"xdb", "x", "api"},
			affected:   []string{"api", "x", "xdb"},
			impact:     ImpactComplete,
		},
		{
			name: "unknown services are transparent",
			g: FromStatic(map[string][]string{
				"api": {"proxy"}, "proxy": {"db"},
			}),
			states:     map[string]State{"api": bad(2, 5), "db": bad(0, 7)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "db",
			candidates: []string{"db", "api"},
			roots:      []string{"db"},
			path:       []string{"db", "proxy", "api"},
			affected:   []string{"api", "db", "proxy"},
			impact:     ImpactComplete,
		},
		{
			name: "a healthy service stops the search",
			g: FromStatic(map[string][]string{
				"api": {"proxy"}, "proxy": {"db"},
			}),
			states:     map[string]State{"api": bad(2, 5), "proxy": healthy, "db": bad(0, 7)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "api",
			candidates: []string{"api"},
			roots:      []string{"api"},
			path:       []string{"api"},
			affected:   []string{"api"},
			impact:     ImpactComplete,
		},
		{
			name: "cause precedes effect: a dependency that degraded later does not explain",
			g: FromStatic(map[string][]string{
				"api": {"db"},
			}),
			states:     map[string]State{"api": bad(0, 5), "db": bad(10, 9)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "api",
			candidates: []string{"api", "db"},
			roots:      []string{"api", "db"},
			path:       []string{"api"},
			affected:   []string{"api"},
			impact:     ImpactComplete,
		},
		{
			name: "equal onsets: the root explaining more wins over a stronger one",
			g: FromStatic(map[string][]string{
				"api": {"s1", "s2", "lb"}, "s1": {"table"}, "s2": {"table"},
			}),
			states:     map[string]State{"api": bad(0, 5), "s1": bad(0, 50), "s2": bad(0, 40), "lb": bad(0, 90), "table": bad(0, 8)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "table",
			candidates: []string{"table", "lb", "s1", "s2", "api"},
			roots:      []string{"lb", "table"},
			path:       []string{"table", "s1", "api"},
			affected:   []string{"api", "s1", "s2", "table"},
			impact:     ImpactComplete,
		},
		{
			name: "equal onsets and coverage: a service with healthy dependencies beats a leaf that mirrors it",
			g: FromStatic(map[string][]string{
				"api": {"search", "lb"}, "search": {"index"},
			}),
			states:     map[string]State{"api": bad(1, 5), "search": bad(0, 20), "lb": bad(0, 60), "index": healthy},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "search",
			candidates: []string{"search", "lb", "api"},
			roots:      []string{"lb", "search"},
			path:       []string{"search", "api"},
			affected:   []string{"api", "search"},
			impact:     ImpactComplete,
		},
		{
			name:    "nothing anomalous: no origin",
			g:       shop,
			states:  map[string]State{"web": healthy, "checkout": healthy, "postgres": healthy},
			opts:    Options{Alerting: []string{"checkout"}},
			impact:  ImpactNone,
			summary: "no origin: no anomalous service in scope",
		},
		{
			name:   "anomaly outside the alerting service's dependencies: no origin",
			g:      shop,
			states: map[string]State{"elastic": bad(0, 9), "checkout": healthy},
			opts:   Options{Alerting: []string{"checkout"}},
			impact: ImpactNone,
		},
		{
			name:       "no alerting services: whole graph, path to the nearest affected entry",
			g:          shop,
			states:     map[string]State{"elastic": bad(5, 9), "postgres": bad(1, 3), "payment": bad(2, 3)},
			origin:     "postgres",
			candidates: []string{"postgres", "elastic", "payment"},
			roots:      []string{"elastic", "postgres"},
			path:       []string{"postgres", "payment", "checkout", "web"},
			affected:   []string{"checkout", "payment", "postgres", "web"},
			impact:     ImpactMajor,
		},
		{
			name:       "configured entry services",
			g:          shop,
			states:     map[string]State{"postgres": bad(1, 3), "web": healthy},
			opts:       Options{Alerting: []string{"checkout"}, Entries: []string{"checkout", "search", "partner-api", "gateway"}},
			origin:     "postgres",
			candidates: []string{"postgres"},
			roots:      []string{"postgres"},
			path:       []string{"postgres", "payment", "checkout"},
			affected:   []string{"checkout", "payment", "postgres"},
			impact:     ImpactPartial,
		},
		{
			name:       "alerting service unknown to the graph",
			g:          shop,
			states:     map[string]State{"lonely": bad(0, 5)},
			opts:       Options{Alerting: []string{"lonely"}},
			origin:     "lonely",
			candidates: []string{"lonely"},
			roots:      []string{"lonely"},
			path:       []string{"lonely"},
			affected:   []string{"lonely"},
			impact:     ImpactNone,
			summary:    "origin lonely; blast radius 1 service; user impact none",
		},
		{
			name:       "nil graph",
			g:          nil,
			states:     map[string]State{"b": bad(0, 5), "a": bad(0, 5)},
			origin:     "a",
			candidates: []string{"a", "b"},
			roots:      []string{"a", "b"},
			path:       []string{"a"},
			affected:   []string{"a"},
			impact:     ImpactNone,
		},
		{
			name: "a dependency with unknown onset may explain",
			g:    FromStatic(map[string][]string{"api": {"db"}}),
			states: map[string]State{
				"api": bad(0, 5), "db": {Anomalous: true, Score: 3},
			},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "db",
			candidates: []string{"db", "api"},
			roots:      []string{"db"},
			path:       []string{"db", "api"},
			affected:   []string{"api", "db"},
			impact:     ImpactComplete,
		},
		{
			name:       "unknown onset sorts after known ones",
			g:          FromStatic(map[string][]string{"api": {"x", "y"}}),
			states:     map[string]State{"x": {Anomalous: true, Score: 99}, "y": bad(3, 1)},
			opts:       Options{Alerting: []string{"api"}},
			origin:     "y",
			candidates: []string{"y", "x"},
			roots:      []string{"x", "y"},
			path:       []string{"y", "api"},
			affected:   []string{"api", "y"},
			impact:     ImpactComplete,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(tc.g, tc.states, tc.opts)
			require.Equal(t, tc.origin, res.Origin)
			require.Equal(t, tc.candidates, nilIfEmpty(names(res.Candidates)))
			var roots []string
			for _, c := range res.Candidates {
				if c.Root {
					roots = append(roots, c.Service)
				}
			}
			require.ElementsMatch(t, tc.roots, roots)
			require.Equal(t, tc.path, res.Path)
			require.Equal(t, tc.affected, res.Affected)
			require.Equal(t, len(tc.affected), res.BlastRadius)
			require.Equal(t, tc.impact, res.Impact)
			if tc.summary != "" {
				require.Equal(t, tc.summary, res.Summary())
			}
			// Deterministic: the same input gives the same result.
			require.Equal(t, res, Analyze(tc.g, tc.states, tc.opts))
		})
	}
}

func nilIfEmpty(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	return xs
}

func TestImpactOf(t *testing.T) {
	cases := []struct {
		impacted, entries int
		want              Impact
	}{
		{0, 0, ImpactNone},
		{0, 4, ImpactNone},
		{1, 4, ImpactPartial},
		{1, 3, ImpactPartial},
		{2, 4, ImpactMajor},
		{3, 4, ImpactMajor},
		{4, 4, ImpactComplete},
		{1, 1, ImpactComplete},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d of %d", tc.impacted, tc.entries), func(t *testing.T) {
			require.Equal(t, tc.want, impactOf(tc.impacted, tc.entries))
		})
	}
}

func TestResultTopK(t *testing.T) {
	r := Result{Candidates: []Candidate{{Service: "a"}, {Service: "b"}, {Service: "c"}}}
	require.Equal(t, []string{"a", "b"}, r.TopK(2))
	require.Equal(t, []string{"a", "b", "c"}, r.TopK(5))
	require.Empty(t, Result{}.TopK(3))
}

func TestComponentsLongChain(t *testing.T) {
	// A 100,000-long chain closed into one cycle: one component, and no
	// stack overflow.
	const n = 100_000
	nodes := make([]string, n)
	edges := make(map[string][]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprint(i)
	}
	for i := range nodes {
		edges[nodes[i]] = []string{nodes[(i+1)%n]}
	}
	comp := components(nodes, edges)
	for _, node := range nodes {
		require.Equal(t, comp[nodes[0]], comp[node])
	}
}

// benchGraph generates a layered call graph of n services (entries on top,
// each service calling three in deeper layers) and an incident: a service
// in the bottom layer fails, most of its transitive dependents follow, one
// onset step per hop, and 2 % of all services are anomalous by chance. It
// returns the graph, the states, the origin and an entry service the
// cascade reached.
func benchGraph(n int) (g *Graph, states map[string]State, origin, alerting string) {
	r := rand.New(rand.NewPCG(1, 2))
	const layers = 10
	per := n / layers
	name := func(l, i int) string { return fmt.Sprintf("svc-%d-%d", l, i) }
	var edges []Edge
	for l := range layers - 1 {
		for i := range per {
			for range 3 {
				edges = append(edges, Edge{Client: name(l, i), Server: name(l+1+r.IntN(layers-1-l), r.IntN(per))})
			}
		}
	}
	g = FromEdges(edges)
	states = make(map[string]State, n)
	for _, svc := range g.Services() {
		states[svc] = State{}
		if r.Float64() < 0.02 {
			states[svc] = bad(r.IntN(30), 5+10*r.Float64())
		}
	}
	origin = name(layers-1, 0)
	states[origin] = bad(0, 12)
	frontier, depth := []string{origin}, 0
	for len(frontier) > 0 {
		depth++
		var next []string
		for _, svc := range frontier {
			for _, p := range g.Dependents(svc) {
				if !states[p].Anomalous && r.Float64() < 0.8 {
					states[p] = bad(depth, 5+10*r.Float64())
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	for _, e := range g.Entries() {
		if states[e].Anomalous && states[e].Onset.After(epoch().Add(time.Minute)) {
			alerting = e
			break
		}
	}
	return g, states, origin, alerting
}

func TestBenchGraphFindsOrigin(t *testing.T) {
	g, states, origin, alerting := benchGraph(500)
	require.Len(t, g.Services(), 500)
	res := Analyze(g, states, Options{})
	require.Equal(t, origin, res.Origin)
	require.Greater(t, res.BlastRadius, 10)
	require.NotEmpty(t, alerting)
	res = Analyze(g, states, Options{Alerting: []string{alerting}})
	require.Equal(t, origin, res.Origin)
	require.Equal(t, alerting, res.Path[len(res.Path)-1])
}

func BenchmarkAnalyze500(b *testing.B) {
	g, states, _, alerting := benchGraph(500)
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"whole-graph", Options{}},
		{"from-alerting-entry", Options{Alerting: []string{alerting}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Analyze(g, states, bc.opts)
			}
		})
	}
}
