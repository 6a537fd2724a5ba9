// Package querier is augur's one client of the Prometheus HTTP API. Every
// PromQL query that enrichers, forecasters and the watcher run, and every
// read of Prometheus's alerting rules, goes through it, so that timeouts,
// authentication, caching and limits are decided in one place. It is the
// only package that imports the Prometheus API client.
//
// An alert storm must not become a query storm. In a storm hundreds of
// alerts about the same few services arrive within seconds, and the
// enrichers of each ask Prometheus much the same questions. The querier
// bounds the load on Prometheus by the number of distinct questions, not
// the number of alerts:
//
//   - Times are aligned down first, so that questions asked a few seconds
//     apart are the same question: an instant query's time to a multiple of
//     15s (instantResolution, Prometheus's default scrape interval), a range
//     query's start and end to multiples of its step. Answers are therefore
//     up to 15s, or one step, behind the time asked for.
//   - Identical requests in flight at once are sent once, and every caller
//     gets the one answer (coalescing). A caller whose context ends stops
//     waiting; the request goes on for the others, and is cancelled only
//     when nobody waits for it any more.
//   - Answers are kept in an LRU cache of prometheus.cache.size entries for
//     prometheus.cache.ttl; errors are never kept. Alerting rules are kept
//     for prometheus.rules_refresh.
//   - At most prometheus.max_concurrency requests are in flight; the others
//     wait for a free slot for as long as their context allows. Each request
//     gets prometheus.timeout once it has its slot.
//
// Answers are shared between callers and the cache: callers must not
// modify them.
package querier

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
)

// instantResolution is what an instant query's time is aligned down to.
const instantResolution = 15 * time.Second

// Querier runs instant and range queries against one Prometheus and reads
// its alerting rules. It is safe for concurrent use.
type Querier struct {
	api     v1.API
	queries *memo[model.Value]
	rules   *memo[[]AlertingRule]
	logger  *slog.Logger
}

// AlertingRule is one of Prometheus's alerting rules, with what a
// forecaster needs of it.
type AlertingRule struct {
	// Group and File are the rule group and the rule file it is in.
	Group string
	File  string
	Name  string
	// Query is the rule's expr.
	Query string
	// For is how long the expr must hold before an alert fires.
	For         time.Duration
	Labels      model.LabelSet
	Annotations model.LabelSet
	// Alerts are the rule's pending and firing alerts.
	Alerts []ActiveAlert
}

// ActiveAlert is an alert of an alerting rule as Prometheus has it now.
type ActiveAlert struct {
	Labels model.LabelSet
	// State is "pending" or "firing".
	State string
}

// New returns a querier for the prometheus section of the config. m is
// shared by the queriers of successive configs.
func New(cfg config.PrometheusConfig, m *Metrics, logger *slog.Logger) (*Querier, error) {
	return newQuerier(cfg, m, logger, time.Now)
}

// newQuerier is New with the clock that cache entries age by.
func newQuerier(cfg config.PrometheusConfig, m *Metrics, logger *slog.Logger, now func() time.Time) (*Querier, error) {
	rt, err := commoncfg.NewRoundTripperFromConfig(cfg.HTTPConfig, "prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus.http_config: %w", err)
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL.String(), RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus.url: %w", err)
	}
	var queryCache *cache[model.Value]
	if cfg.Cache.Size > 0 {
		if queryCache, err = newCache[model.Value](cfg.Cache.Size, time.Duration(cfg.Cache.TTL), now); err != nil {
			return nil, fmt.Errorf("prometheus.cache.size: %w", err)
		}
	}
	// The rules are one answer, kept for rules_refresh.
	rulesCache, err := newCache[[]AlertingRule](1, time.Duration(cfg.RulesRefresh), now)
	if err != nil {
		return nil, fmt.Errorf("rules cache: %w", err)
	}
	l := &limiter{
		slots:   make(chan struct{}, cfg.MaxConcurrency),
		timeout: time.Duration(cfg.Timeout),
		metrics: m,
	}
	return &Querier{
		api:     v1.NewAPI(client),
		queries: newMemo(queryCache, l),
		rules:   newMemo(rulesCache, l),
		logger:  logger,
	}, nil
}

// Query runs an instant query at ts, aligned down to a multiple of 15s.
func (q *Querier) Query(ctx context.Context, query string, ts time.Time) (model.Value, error) {
	ts = alignDown(ts, instantResolution)
	k := key{kind: kindInstant, query: query, start: ts.UnixNano()}
	v, err := q.queries.get(ctx, k, func(ctx context.Context) (model.Value, error) {
		v, warnings, _, err := q.api.Query(ctx, query, ts)
		q.warn(query, warnings)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("query %q at %s: %w", query, ts.UTC().Format(time.RFC3339), err)
	}
	return v, nil
}

// QueryRange runs a range query, with start and end aligned down to
// multiples of step.
func (q *Querier) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Value, error) {
	if step <= 0 {
		return nil, fmt.Errorf("query range %q: step %s must be positive", query, step)
	}
	r := v1.Range{Start: alignDown(start, step), End: alignDown(end, step), Step: step}
	k := key{kind: kindRange, query: query, start: r.Start.UnixNano(), end: r.End.UnixNano(), step: step}
	v, err := q.queries.get(ctx, k, func(ctx context.Context) (model.Value, error) {
		v, warnings, _, err := q.api.QueryRange(ctx, query, r)
		q.warn(query, warnings)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("query range %q from %s to %s step %s: %w",
			query, r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), step, err)
	}
	return v, nil
}

// Rules returns Prometheus's alerting rules, in the order of its rule
// groups, read at most once per prometheus.rules_refresh.
func (q *Querier) Rules(ctx context.Context) ([]AlertingRule, error) {
	rules, err := q.rules.get(ctx, key{kind: kindRules}, func(ctx context.Context) ([]AlertingRule, error) {
		res, err := q.api.Rules(ctx, nil)
		if err != nil {
			return nil, err
		}
		return alertingRules(res), nil
	})
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return rules, nil
}

// alertingRules picks the alerting rules out of res.
func alertingRules(res v1.RulesResult) []AlertingRule {
	var rules []AlertingRule
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			ar, ok := r.(v1.AlertingRule)
			if !ok {
				continue
			}
			alerts := make([]ActiveAlert, 0, len(ar.Alerts))
			for _, a := range ar.Alerts {
				alerts = append(alerts, ActiveAlert{Labels: a.Labels, State: string(a.State)})
			}
			rules = append(rules, AlertingRule{
				Group:       g.Name,
				File:        g.File,
				Name:        ar.Name,
				Query:       ar.Query,
				For:         time.Duration(ar.Duration * float64(time.Second)),
				Labels:      ar.Labels,
				Annotations: ar.Annotations,
				Alerts:      alerts,
			})
		}
	}
	return rules
}

// warn logs the warnings Prometheus returned with an answer.
func (q *Querier) warn(query string, warnings v1.Warnings) {
	if len(warnings) > 0 {
		q.logger.Warn("prometheus returned warnings", "query", query, "warnings", warnings)
	}
}

// limiter lets at most cap(slots) requests be in flight to Prometheus,
// gives each its timeout and records it in the metrics.
type limiter struct {
	slots   chan struct{}
	timeout time.Duration
	metrics *Metrics
}

// send makes one request of the given kind through l: it waits for a free
// slot while ctx allows, then calls ask within l's timeout.
func send[V any](ctx context.Context, l *limiter, kind string, ask func(context.Context) (V, error)) (V, error) {
	var zero V
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	defer func() { <-l.slots }()
	// A slot and the end of ctx can come at once; the end wins.
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	l.metrics.inFlight.Inc()
	defer l.metrics.inFlight.Dec()
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()

	start := time.Now()
	v, err := ask(ctx)
	l.metrics.duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	l.metrics.queries.WithLabelValues(kind, result(err)).Inc()
	return v, err
}

// RuleExpr returns the expression of the alerting rule an alert came from:
// the rule named by its alertname whose labels the alert carries. It
// implements enrich.RuleSource.
func (q *Querier) RuleExpr(ctx context.Context, alert model.Alert) (string, error) {
	rules, err := q.Rules(ctx)
	if err != nil {
		return "", err
	}
	name := string(alert.Labels[model.AlertNameLabel])
	var found []string
	for _, r := range rules {
		if r.Name == name && carries(alert.Labels, r.Labels) && !slices.Contains(found, r.Query) {
			found = append(found, r.Query)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no alerting rule %q with the alert's labels in Prometheus", name)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%d alerting rules %q with the alert's labels and different expressions", len(found), name)
	}
}

// carries reports whether labels has every label of want with its value.
func carries(labels, want model.LabelSet) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}
