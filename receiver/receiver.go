// Package receiver is augur's pipeline from Alertmanager's webhook to the
// downstream receivers.
//
// Intake (api.go) validates a notification and stores it durably before it
// answers 200. Processing (process.go) takes stored notifications in order,
// opens or finds their incident, enriches every alert under the enrichment
// deadline, and queues one delivery per integration of the receiver in the
// outbox, all in one transaction. Delivery (deliver.go) sends due deliveries
// through Alertmanager's own integrations, retrying with exponential backoff
// and jitter when the integration says the failure is recoverable. Nothing
// is kept only in memory: after a crash, processing and delivery resume from
// the store, so every notification is delivered at least once.
package receiver

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/templates"
	"github.com/augur-sre/augur/receiver/triage"
)

// Options configure a Receiver.
type Options struct {
	Store    *store.Store
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ExternalURL is augur's own external URL, if set.
	ExternalURL *url.URL
	// Workers is the number of notifications processed in parallel
	// (notifications of one alert group are always processed in order).
	Workers int
}

// Receiver runs intake, processing and delivery.
type Receiver struct {
	store   *store.Store
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics
	workers int
	// externalURL, if set, is where augur is reachable: links to incidents.
	externalURL *url.URL

	state atomic.Pointer[state]
	// apiSuppressionMatchers caches the parsed matchers of suppressions
	// made through the API, by id.
	apiSuppressionMatchers sync.Map
	alertStates            stateCache

	wakeProcess chan struct{}
	wakeDeliver chan struct{}
}

// state is what a config reload replaces, as one unit.
type state struct {
	cfg          *config.Config
	orchestrator *enrich.Orchestrator
	querier      enrich.Querier
	integrations *integrations
	// suppressions are the config's suppress rules; the API's are read
	// from the store for each notification.
	suppressions  []triage.Suppression
	timeIntervals map[string][]timeinterval.TimeInterval
	// topology, when known, joins alerts on adjacent services into one
	// incident.
	topology Topology
}

// Topology is the dependency graph as triage needs it: the services a
// service calls or is called by.
type Topology interface {
	Adjacent(service string) []string
}

// New returns a receiver. It serves nothing until ApplyConfig succeeded.
func New(o Options) *Receiver {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers < 1 {
		o.Workers = 4
	}
	r := &Receiver{
		store:       o.Store,
		logger:      o.Logger,
		now:         o.Now,
		workers:     o.Workers,
		externalURL: o.ExternalURL,
		wakeProcess: make(chan struct{}, 1),
		wakeDeliver: make(chan struct{}, 1),
		alertStates: newStateCache(),
	}
	r.metrics = newMetrics(o.Registry, o.Store, o.Now)
	return r
}

// ApplyConfig builds everything that depends on the config and swaps it in
// atomically: o runs the enrichers, q is the querier they share, and t,
// when not nil, is the dependency graph that joins alerts on adjacent
// services into one incident. On error the previous config stays in
// force.
func (r *Receiver) ApplyConfig(cfg *config.Config, o *enrich.Orchestrator, q enrich.Querier, t Topology) error {
	integs, err := buildIntegrations(cfg, r.logger)
	if err != nil {
		return err
	}
	r.metrics.initSeries(integs)
	st := &state{
		cfg:           cfg,
		orchestrator:  o,
		querier:       q,
		topology:      t,
		integrations:  integs,
		timeIntervals: map[string][]timeinterval.TimeInterval{},
	}
	for _, ti := range cfg.Triage.TimeIntervals {
		st.timeIntervals[ti.Name] = ti.TimeIntervals
	}
	for _, rule := range cfg.Triage.Suppress {
		st.suppressions = append(st.suppressions, triage.Suppression{
			Name: rule.Name, Matchers: labels.Matchers(rule.Matchers), TimeIntervals: rule.TimeIntervals,
		})
	}
	r.state.Store(st)
	// Deliveries may have been waiting for an integration this config adds.
	wake(r.wakeDeliver)
	return nil
}

// Validate checks what a config needs beyond its syntax: that its
// templates parse and that Alertmanager can build every receiver's
// integrations. It returns the integrations of each receiver by name
// ("slack[0]", ...).
func Validate(cfg *config.Config) (map[string][]string, error) {
	integs, err := buildIntegrations(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(integs.receivers))
	for name := range integs.receivers {
		out[name] = integs.names(name)
	}
	return out, nil
}

func buildIntegrations(cfg *config.Config, logger *slog.Logger) (*integrations, error) {
	tmpl, err := templates.Load(cfg.Templates)
	if err != nil {
		return nil, err
	}
	return newIntegrations(cfg.Receivers, tmpl, logger)
}

// Ready reports whether a config has been applied.
func (r *Receiver) Ready() bool {
	return r.state.Load() != nil
}

// Run processes and delivers notifications until ctx is done.
func (r *Receiver) Run(ctx context.Context) error {
	if !r.Ready() {
		return fmt.Errorf("receiver: no config applied")
	}
	var wg sync.WaitGroup
	wg.Go(func() { r.processLoop(ctx) })
	wg.Go(func() { r.deliverLoop(ctx) })
	wg.Go(func() { r.pruneLoop(ctx) })
	wg.Go(func() { r.sweepLoop(ctx) })
	wg.Wait()
	return nil
}

// sweepInterval is how often sweepLoop runs.
const sweepInterval = 15 * time.Second

// sweepLoop does what is due by the clock rather than by a notification.
func (r *Receiver) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.sweep(ctx, r.now()); err != nil && ctx.Err() == nil {
			r.logger.Error("sweep", "err", err)
		}
	}
}

// sweep resolves the incidents whose grace period ended and forwards the
// final state of alerts that stopped flapping.
func (r *Receiver) sweep(ctx context.Context, now time.Time) error {
	grace := time.Duration(r.state.Load().cfg.Triage.Aggregation.GracePeriod)
	ids, err := r.store.ResolveQuiet(ctx, grace, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		r.logger.Debug("incident resolved", "incident", id)
	}
	return r.settleFlapping(ctx, now)
}

// pruneLoop deletes what is older than the retention, at start and then
// every ten minutes.
func (r *Receiver) pruneLoop(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		retention := time.Duration(r.state.Load().cfg.Storage.Retention)
		deleted, undelivered, err := r.store.Prune(ctx, r.now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			r.logger.Error("prune store", "err", err)
		case undelivered > 0:
			r.metrics.expired.Add(float64(undelivered))
			r.logger.Warn("dropped deliveries older than the retention that were never delivered",
				"deliveries", undelivered, "retention", retention)
		case deleted > 0:
			r.logger.Debug("pruned notifications", "notifications", deleted)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// wake signals a loop without blocking; signals coalesce.
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
