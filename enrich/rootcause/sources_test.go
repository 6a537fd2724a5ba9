package rootcause

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
)

// tableQuerier answers queries from a table and counts them.
type tableQuerier struct {
	instant map[string]model.Value
	ranged  map[string]model.Value
	calls   int
}

func (q *tableQuerier) Query(_ context.Context, query string, _ time.Time) (model.Value, error) {
	q.calls++
	if v, ok := q.instant[query]; ok {
		return v, nil
	}
	return model.Vector{}, nil
}

func (q *tableQuerier) QueryRange(_ context.Context, query string, _, _ time.Time, _ time.Duration) (model.Value, error) {
	q.calls++
	if v, ok := q.ranged[query]; ok {
		return v, nil
	}
	return model.Matrix{}, nil
}

func TestGraphFromMetrics(t *testing.T) {
	cfg, err := config.Load([]byte(`
topology:
  static: {frontend: [checkout]}
  from_metrics:
    query: sum by (client, server) (rate(traces_service_graph_request_total[10m]))
  refresh: 5m
`), t.TempDir())
	require.NoError(t, err)
	q := &tableQuerier{instant: map[string]model.Value{
		cfg.Topology.FromMetrics.Query: model.Vector{
			{Metric: model.Metric{"client": "checkout", "server": "payment"}, Value: 3},
			{Metric: model.Metric{"client": "payment", "server": "payment"}, Value: 1}, // a self-call says nothing
			{Metric: model.Metric{"client": "payment", "server": ""}, Value: 1},
		},
	}}
	e, err := New(cfg, nil, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"frontend"}, e.Adjacent("checkout"), "the static graph before the first read")

	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	g, err := e.graph.get(context.Background(), q, now)
	require.NoError(t, err)
	require.Equal(t, []string{"payment"}, g.Dependencies("checkout"))
	require.Equal(t, []string{"frontend", "payment"}, e.Adjacent("checkout"))
	require.Equal(t, []string{"checkout"}, e.Adjacent("payment"))

	_, err = e.graph.get(context.Background(), q, now.Add(4*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, q.calls, "read again only after topology.refresh")
	_, err = e.graph.get(context.Background(), q, now.Add(5*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 2, q.calls)
}

func TestChangesFromPrometheusSources(t *testing.T) {
	cfg, err := config.Load([]byte(`
changes:
  prometheus:
    - name: deployments
      query: changes(kube_deployment_status_observed_generation[5m]) > 0
      service_label: deployment
`), t.TempDir())
	require.NoError(t, err)
	start := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	at := func(i int) model.Time {
		return model.TimeFromUnixNano(start.Add(time.Duration(i) * 30 * time.Second).UnixNano())
	}
	// NaN marks a step without a sample, as "> 0" leaves them.
	series := func(deployment string, values ...float64) *model.SampleStream {
		s := &model.SampleStream{Metric: model.Metric{"deployment": model.LabelValue(deployment), "namespace": "shop"}}
		for i, v := range values {
			if !math.IsNaN(v) {
				s.Values = append(s.Values, model.SamplePair{Timestamp: at(i), Value: model.SampleValue(v)})
			}
		}
		return s
	}
	gap := math.NaN()
	q := &tableQuerier{ranged: map[string]model.Value{
		cfg.Changes.Prometheus[0].Query: model.Matrix{
			series("checkout", 1, 1, 0, 0, 2, gap, 1, 1),
			series("search", 1),
		},
	}}
	e, err := New(cfg, nil, nil)
	require.NoError(t, err)
	changes, err := e.recentChanges(context.Background(), enrich.Input{Querier: q}, []string{"checkout", "payment"}, start, start.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, changes, 3, "three runs of positive steps on checkout; search is not involved")
	for i, want := range []int{0, 4, 6} {
		require.Equal(t, "checkout", changes[i].Service)
		require.Equal(t, "deployment", changes[i].Type)
		require.Equal(t, at(want).Time(), changes[i].At)
		require.Contains(t, changes[i].Description, "deployments: ")
	}
}
