package querier

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The kinds of request to Prometheus, as the kind label names them.
const (
	kindInstant = "instant"
	kindRange   = "range"
	kindRules   = "rules"
)

// Metrics are the querier's metrics. They are registered once, and shared
// by the querier built for each config in turn.
type Metrics struct {
	queries       *prometheus.CounterVec
	cacheRequests *prometheus.CounterVec
	coalesced     *prometheus.CounterVec
	inFlight      prometheus.Gauge
	duration      *prometheus.HistogramVec
}

// NewMetrics registers the querier's metrics with reg (none if reg is nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		queries: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Subsystem: "querier",
			Name:      "queries_total",
			Help:      "Requests sent to Prometheus, by kind (instant, range, rules) and result (success, error).",
		}, []string{"kind", "result"}),
		cacheRequests: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Subsystem: "querier",
			Name:      "cache_requests_total",
			Help:      "Lookups in the query and rules caches, by kind (instant, range, rules) and result (hit, miss).",
		}, []string{"kind", "result"}),
		coalesced: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Subsystem: "querier",
			Name:      "coalesced_queries_total",
			Help:      "Queries answered by an identical request already in flight instead of one of their own, by kind.",
		}, []string{"kind"}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "augur",
			Subsystem: "querier",
			Name:      "queries_in_flight",
			Help:      "Requests to Prometheus in flight now (at most prometheus.max_concurrency).",
		}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "augur",
			Subsystem: "querier",
			Name:      "query_duration_seconds",
			Help:      "How long requests to Prometheus took, by kind, not counting the wait for a free slot.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"kind"}),
	}
	for _, kind := range []string{kindInstant, kindRange, kindRules} {
		m.queries.WithLabelValues(kind, "success")
		m.queries.WithLabelValues(kind, "error")
		m.cacheRequests.WithLabelValues(kind, "hit")
		m.cacheRequests.WithLabelValues(kind, "miss")
		m.coalesced.WithLabelValues(kind)
		m.duration.WithLabelValues(kind)
	}
	return m
}

// result is the result label of a request that returned err.
func result(err error) string {
	if err != nil {
		return "error"
	}
	return "success"
}
