package rootcause

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
)

// graph is the dependency graph as of its last refresh: each service's
// dependencies (the services it calls), sorted, and the entry services.
type graph struct {
	deps    map[string][]string
	entries []string
}

// dependencies returns the dependencies of each of the services.
func (g graph) dependencies(services []string) map[string][]string {
	out := map[string][]string{}
	for _, s := range services {
		out[s] = g.deps[s]
	}
	return out
}

// adjacent returns the services s calls and those that call it, sorted.
func (g graph) adjacent(s string) []string {
	out := slices.Clone(g.deps[s])
	for client, deps := range g.deps {
		if slices.Contains(deps, s) {
			out = append(out, client)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// graphSource keeps the graph of topology.static and of
// topology.from_metrics, re-reading the latter every refresh. Until the
// first read, its graph is the static one.
type graphSource struct {
	cfg config.TopologyConfig

	mu      sync.Mutex
	current graph
	readAt  time.Time
}

func newGraphSource(cfg config.TopologyConfig) *graphSource {
	s := &graphSource{cfg: cfg}
	s.current = s.build(nil)
	return s
}

// last returns the graph as last read, without reading it again.
func (s *graphSource) last() graph {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// get returns the graph, refreshing the edges from metrics when they are
// older than topology.refresh. When the refresh fails the last graph is
// kept and the error returned only if there is none.
func (s *graphSource) get(ctx context.Context, q enrich.Querier, now time.Time) (graph, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.readAt.IsZero() && now.Sub(s.readAt) < time.Duration(s.cfg.Refresh) {
		return s.current, nil
	}
	var observed model.Vector
	if m := s.cfg.FromMetrics; m != nil {
		v, err := q.Query(ctx, m.Query, now)
		if err != nil {
			if s.readAt.IsZero() {
				return graph{}, fmt.Errorf("topology from metrics: %w", err)
			}
			return s.current, nil
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return graph{}, fmt.Errorf("topology from metrics: the query returned a %s, not an instant vector", v.Type())
		}
		observed = vec
	}
	s.current, s.readAt = s.build(observed), now
	return s.current, nil
}

// build makes the graph of the static edges and of the edges the
// from_metrics query observed.
func (s *graphSource) build(observed model.Vector) graph {
	edges := map[string]map[string]bool{}
	add := func(client, server string) {
		if client == "" || server == "" || client == server {
			return
		}
		if edges[client] == nil {
			edges[client] = map[string]bool{}
		}
		edges[client][server] = true
	}
	for svc, deps := range s.cfg.Static {
		for _, d := range deps {
			add(svc, d)
		}
	}
	if m := s.cfg.FromMetrics; m != nil {
		for _, smp := range observed {
			add(string(smp.Metric[model.LabelName(m.ClientLabel)]), string(smp.Metric[model.LabelName(m.ServerLabel)]))
		}
	}
	g := graph{deps: map[string][]string{}, entries: s.cfg.EntryServices}
	called := map[string]bool{}
	for client, servers := range edges {
		g.deps[client] = slices.Sorted(maps.Keys(servers))
		for srv := range servers {
			called[srv] = true
		}
	}
	if len(g.entries) == 0 {
		for client := range edges {
			if !called[client] {
				g.entries = append(g.entries, client)
			}
		}
		slices.Sort(g.entries)
	}
	return g
}
