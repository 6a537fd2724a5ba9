// Package querier is augur's one client of the Prometheus HTTP API. Every
// PromQL query that enrichers and the watcher run goes through it, so that
// timeouts, authentication and (as it grows) caching and limits are decided
// in one place. It is the only package that imports the Prometheus API client.
package querier

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
)

// Querier runs instant and range queries against one Prometheus.
type Querier struct {
	api     v1.API
	timeout time.Duration
	logger  *slog.Logger
}

// New returns a querier for the prometheus section of the config.
func New(cfg config.PrometheusConfig, logger *slog.Logger) (*Querier, error) {
	rt, err := commoncfg.NewRoundTripperFromConfig(cfg.HTTPConfig, "prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus.http_config: %w", err)
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL.String(), RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus.url: %w", err)
	}
	return &Querier{api: v1.NewAPI(client), timeout: time.Duration(cfg.Timeout), logger: logger}, nil
}

// Query runs an instant query at ts.
func (q *Querier) Query(ctx context.Context, query string, ts time.Time) (model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	v, warnings, _, err := q.api.Query(ctx, query, ts)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	q.warn(query, warnings)
	return v, nil
}

// QueryRange runs a range query.
func (q *Querier) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	v, warnings, _, err := q.api.QueryRange(ctx, query, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("query range %q: %w", query, err)
	}
	q.warn(query, warnings)
	return v, nil
}

func (q *Querier) warn(query string, warnings v1.Warnings) {
	if len(warnings) > 0 {
		q.logger.Warn("prometheus returned warnings", "query", query, "warnings", warnings)
	}
}
