package topology

import (
	"maps"
	"slices"
)

// Edge is one observed call from the Client service to the Server service,
// as a service-graph metric gives it (traces_service_graph_request_total's
// client and server labels, istio_requests_total's source_workload and
// destination_workload).
type Edge struct {
	Client string
	Server string
}

// Graph is a service dependency graph: each service and the services it
// calls. It is immutable once built and safe for concurrent use. The zero
// value is an empty graph.
//
// Self-loops are dropped (a service calling itself says nothing about where
// a cascade came from) and so are edges with an empty end. A service named
// only as a dependency is a node of the graph all the same.
type Graph struct {
	deps       map[string][]string // service → callees, sorted
	dependents map[string][]string // service → callers, sorted
	services   []string            // all services, sorted
}

// FromStatic builds a Graph from a map of each service to the services it
// depends on, the shape of topology.static.
func FromStatic(deps map[string][]string) *Graph {
	b := newBuilder()
	for svc, ds := range deps {
		b.node(svc)
		for _, d := range ds {
			b.edge(svc, d)
		}
	}
	return b.build()
}

// FromEdges builds a Graph from observed client/server pairs. Duplicates are
// harmless.
func FromEdges(edges []Edge) *Graph {
	b := newBuilder()
	for _, e := range edges {
		b.edge(e.Client, e.Server)
	}
	return b.build()
}

// Merge returns the union of the graphs: every service and every edge of
// any of them. Nil graphs are skipped. It is how a static topology is
// completed with the edges observed in metrics.
func Merge(graphs ...*Graph) *Graph {
	b := newBuilder()
	for _, g := range graphs {
		if g == nil {
			continue
		}
		for _, svc := range g.services {
			b.node(svc)
			for _, d := range g.deps[svc] {
				b.edge(svc, d)
			}
		}
	}
	return b.build()
}

// Services returns every service of the graph, sorted.
func (g *Graph) Services() []string {
	if g == nil {
		return nil
	}
	return slices.Clone(g.services)
}

// Has reports whether svc is a service of the graph.
func (g *Graph) Has(svc string) bool {
	if g == nil {
		return false
	}
	_, ok := g.deps[svc]
	return ok
}

// Dependencies returns the services that svc calls, sorted; nil for a
// service the graph does not know.
func (g *Graph) Dependencies(svc string) []string {
	if g == nil {
		return nil
	}
	return slices.Clone(g.deps[svc])
}

// Dependents returns the services that call svc, sorted; nil for a service
// the graph does not know.
func (g *Graph) Dependents(svc string) []string {
	if g == nil {
		return nil
	}
	return slices.Clone(g.dependents[svc])
}

// Entries returns the services that no other service calls, sorted: the
// default entry services, where users come in.
func (g *Graph) Entries() []string {
	if g == nil {
		return nil
	}
	var out []string
	for _, svc := range g.services {
		if len(g.dependents[svc]) == 0 {
			out = append(out, svc)
		}
	}
	return out
}

// Distance returns the number of hops between a and b ignoring the
// direction of calls, and false when either is unknown or they are not
// connected. Two services that share a dependency are two hops apart.
func (g *Graph) Distance(a, b string) (int, bool) {
	if !g.Has(a) || !g.Has(b) {
		return 0, false
	}
	if a == b {
		return 0, true
	}
	dist := map[string]int{a: 0}
	queue := []string{a}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range [][]string{g.deps[cur], g.dependents[cur]} {
			for _, n := range next {
				if _, seen := dist[n]; seen {
					continue
				}
				if n == b {
					return dist[cur] + 1, true
				}
				dist[n] = dist[cur] + 1
				queue = append(queue, n)
			}
		}
	}
	return 0, false
}

// Within reports whether a and b are at most n hops apart, ignoring the
// direction of calls. Triage uses it to decide whether alerts of two
// services may belong to one incident.
func (g *Graph) Within(a, b string, n int) bool {
	d, ok := g.Distance(a, b)
	return ok && d <= n
}

// builder collects nodes and edges as sets before freezing them into a
// Graph with sorted adjacency lists.
type builder struct {
	out map[string]map[string]struct{}
	in  map[string]map[string]struct{}
}

func newBuilder() builder {
	return builder{out: map[string]map[string]struct{}{}, in: map[string]map[string]struct{}{}}
}

func (b builder) node(svc string) {
	if svc == "" {
		return
	}
	if b.out[svc] == nil {
		b.out[svc] = map[string]struct{}{}
		b.in[svc] = map[string]struct{}{}
	}
}

func (b builder) edge(client, server string) {
	if client == "" || server == "" {
		return
	}
	b.node(client)
	b.node(server)
	if client == server {
		return
	}
	b.out[client][server] = struct{}{}
	b.in[server][client] = struct{}{}
}

func (b builder) build() *Graph {
	g := &Graph{
		deps:       make(map[string][]string, len(b.out)),
		dependents: make(map[string][]string, len(b.in)),
		services:   slices.Sorted(maps.Keys(b.out)),
	}
	for _, svc := range g.services {
		g.deps[svc] = sortedKeys(b.out[svc])
		g.dependents[svc] = sortedKeys(b.in[svc])
	}
	return g
}

func sortedKeys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}
