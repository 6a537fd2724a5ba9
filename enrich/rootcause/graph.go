package rootcause

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/topology"
)

// graphSource keeps the dependency graph of topology.static and of
// topology.from_metrics, re-reading the latter every refresh. Until the
// first read, its graph is the static one.
type graphSource struct {
	cfg    config.TopologyConfig
	static *topology.Graph

	mu      sync.Mutex
	current *topology.Graph
	readAt  time.Time
}

func newGraphSource(cfg config.TopologyConfig) *graphSource {
	static := topology.FromStatic(cfg.Static)
	return &graphSource{cfg: cfg, static: static, current: static}
}

// last returns the graph as last read, without reading it again.
func (s *graphSource) last() *topology.Graph {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// get returns the graph, reading the edges from metrics again when they
// are older than topology.refresh. When a read fails the last graph is
// kept, and the error returned only if there is none.
func (s *graphSource) get(ctx context.Context, q enrich.Querier, now time.Time) (*topology.Graph, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.cfg.FromMetrics
	if m == nil || (!s.readAt.IsZero() && now.Sub(s.readAt) < time.Duration(s.cfg.Refresh)) {
		return s.current, nil
	}
	v, err := q.Query(ctx, m.Query, now)
	if err != nil {
		if s.readAt.IsZero() {
			return nil, fmt.Errorf("topology from metrics: %w", err)
		}
		return s.current, nil
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("topology from metrics: the query returned a %s, not an instant vector", v.Type())
	}
	edges := make([]topology.Edge, 0, len(vec))
	for _, smp := range vec {
		edges = append(edges, topology.Edge{Client: string(smp.Metric[model.LabelName(m.ClientLabel)]), Server: string(smp.Metric[model.LabelName(m.ServerLabel)])})
	}
	s.current, s.readAt = topology.Merge(s.static, topology.FromEdges(edges)), now
	return s.current, nil
}

// adjacent returns the services s calls and those that call it, sorted.
func adjacent(g *topology.Graph, s string) []string {
	out := append(g.Dependencies(s), g.Dependents(s)...)
	slices.Sort(out)
	return slices.Compact(out)
}

// dependencies returns the dependencies of each of the services.
func dependencies(g *topology.Graph, services []string) map[string][]string {
	out := map[string][]string{}
	for _, s := range services {
		out[s] = g.Dependencies(s)
	}
	return out
}
