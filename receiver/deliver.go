package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/alert"
	amconfig "github.com/prometheus/alertmanager/config"
	amreceiver "github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/notify/pagerduty"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/receiver/store"
)

// integrations holds Alertmanager's notifier integrations for each receiver.
// Alertmanager renders its own external URL into notifications (links back to
// its UI); to keep those links pointing at the Alertmanager that sent the
// notification, integrations are built once per distinct external URL.
type integrations struct {
	receivers map[string]amconfig.Receiver
	tmpl      *template.Template
	logger    *slog.Logger

	mu    sync.Mutex
	byURL map[string]map[string][]notify.Integration
}

func newIntegrations(receivers []amconfig.Receiver, tmpl *template.Template, logger *slog.Logger) (*integrations, error) {
	x := &integrations{
		receivers: make(map[string]amconfig.Receiver, len(receivers)),
		tmpl:      tmpl,
		logger:    logger,
		byURL:     map[string]map[string][]notify.Integration{},
	}
	for _, r := range receivers {
		x.receivers[r.Name] = withAugurDetails(r)
	}
	// Build once up front so that a receiver that cannot be built fails the
	// config load, not a delivery.
	if _, err := x.forURL(""); err != nil {
		return nil, err
	}
	return x, nil
}

// maxExternalURLs bounds the Alertmanager external URLs that integrations
// are built for.
const maxExternalURLs = 64

// PagerDutyDetailsKey is the key of PagerDuty's custom_details under which
// augur puts its enrichment, unless the user's details already use it.
const PagerDutyDetailsKey = "augur"

// withAugurDetails returns r with augur's enrichment added to the details of
// its PagerDuty integrations. The config it came from is left as it is.
func withAugurDetails(r amconfig.Receiver) amconfig.Receiver {
	pds := make([]*pagerduty.PagerdutyConfig, len(r.PagerdutyConfigs))
	for i, pd := range r.PagerdutyConfigs {
		c := *pd
		if _, ok := c.Details[PagerDutyDetailsKey]; !ok {
			c.Details = maps.Clone(c.Details)
			if c.Details == nil {
				c.Details = map[string]any{}
			}
			c.Details[PagerDutyDetailsKey] = `{{ template "augur.pagerduty.details" . }}`
		}
		pds[i] = &c
	}
	r.PagerdutyConfigs = pds
	return r
}

// forURL returns the integrations of every receiver for notifications from
// the Alertmanager at externalURL.
func (x *integrations) forURL(externalURL string) (map[string][]notify.Integration, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if m, ok := x.byURL[externalURL]; ok {
		return m, nil
	}
	if len(x.byURL) >= maxExternalURLs {
		// More Alertmanagers than any setup has: a sender is making URLs
		// up. Its links go nowhere rather than its URLs filling memory.
		return x.byURL[""], nil
	}
	u, err := url.Parse(externalURL)
	if err != nil {
		return nil, fmt.Errorf("parse external URL %q: %w", externalURL, err)
	}
	tmpl := *x.tmpl
	tmpl.ExternalURL = u
	m := make(map[string][]notify.Integration, len(x.receivers))
	for name, r := range x.receivers {
		integs, err := amreceiver.BuildReceiverIntegrations(r, &tmpl, x.logger.With("receiver", name))
		if err != nil {
			return nil, fmt.Errorf("receivers: %q: %w", name, err)
		}
		m[name] = integs
	}
	x.byURL[externalURL] = m
	return m, nil
}

// names returns the integrations of a receiver as "webhook[0]", "slack[1]",
// ..., or nil if there is no such receiver.
func (x *integrations) names(receiver string) []string {
	m, err := x.forURL("")
	if err != nil {
		return nil
	}
	integs, ok := m[receiver]
	if !ok {
		return nil
	}
	names := make([]string, 0, len(integs))
	for _, i := range integs {
		names = append(names, i.String())
	}
	return names
}

func (x *integrations) lookup(receiver, name, externalURL string) (*notify.Integration, error) {
	m, err := x.forURL(externalURL)
	if err != nil {
		return nil, err
	}
	for i, integ := range m[receiver] {
		if integ.String() == name {
			return &m[receiver][i], nil
		}
	}
	return nil, fmt.Errorf("receiver %q has no integration %s any more", receiver, name)
}

// deliverLoop sends due deliveries, at most forward.concurrency at once.
func (r *Receiver) deliverLoop(ctx context.Context) {
	sem := make(chan struct{}, r.state.Load().cfg.Forward.Concurrency)
	var (
		mu       sync.Mutex
		inflight = map[int64]bool{}
		wg       sync.WaitGroup
	)
	defer wg.Wait()
	for {
		now := r.now()
		due, err := r.store.Due(ctx, now, 256)
		if err != nil && ctx.Err() == nil {
			r.logger.Error("read outbox", "err", err)
		}
		for _, d := range due {
			mu.Lock()
			busy := inflight[d.ID]
			inflight[d.ID] = true
			mu.Unlock()
			if busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				r.deliver(ctx, d)
				mu.Lock()
				delete(inflight, d.ID)
				mu.Unlock()
				<-sem
				wake(r.wakeDeliver)
			})
		}
		wait := time.Second
		if next, ok, err := r.store.NextDue(ctx, now); err == nil && ok {
			wait = min(wait, next.Sub(now))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.wakeDeliver:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// deliver makes one attempt at one delivery and records the outcome.
func (r *Receiver) deliver(ctx context.Context, d store.Delivery) {
	st := r.state.Load()
	integName := integrationType(d.Integration)
	logger := r.logger.With("receiver", d.Receiver, "integration", d.Integration, "delivery", d.ID)
	state, err := r.attempt(ctx, st, d)
	now := r.now()
	var storeErr error
	switch {
	case ctx.Err() != nil:
		// Shutting down: the attempt's outcome is unknown and the delivery
		// stays pending, to be sent again at the next start.
		return
	case err == nil:
		storeErr = r.store.Finish(ctx, d.ID, state, "", now)
		r.metrics.forwarded.WithLabelValues(d.Receiver, integName, state).Inc()
		if state == store.Delivered {
			r.metrics.deliveryLatency.WithLabelValues(integName).Observe(now.Sub(d.CreatedAt).Seconds())
		}
	case errors.As(err, new(retryable)):
		next := now.Add(r.backoff(st.cfg.Forward, d.Attempts, err.(retryable).delay))
		storeErr = r.store.Retry(ctx, d.ID, err.Error(), next)
		r.metrics.retries.WithLabelValues(d.Receiver, integName).Inc()
		logger.Warn("delivery failed, will retry", "attempt", d.Attempts+1, "retry_at", next, "err", err)
	default:
		storeErr = r.store.Finish(ctx, d.ID, store.Failed, err.Error(), now)
		r.metrics.forwarded.WithLabelValues(d.Receiver, integName, store.Failed).Inc()
		logger.Error("delivery failed permanently", "attempt", d.Attempts+1, "err", err)
	}
	if storeErr != nil && ctx.Err() == nil {
		logger.Error("record delivery outcome", "err", storeErr)
	}
}

// retryable is an error that Alertmanager's integration deems worth
// another attempt, after at least delay.
type retryable struct {
	err   error
	delay time.Duration
}

func (e retryable) Error() string { return e.err.Error() }
func (e retryable) Unwrap() error { return e.err }

// attempt sends a delivery once. It returns the final state (Delivered or
// Skipped) on success, a retryable error, or another error when retrying
// cannot help.
func (r *Receiver) attempt(ctx context.Context, st *state, d store.Delivery) (string, error) {
	b, err := r.store.Enriched(ctx, d.NotificationID)
	if err != nil {
		return "", retryable{err: err}
	}
	msg, err := enrichedMessage(b)
	if err != nil {
		return "", err
	}
	integ, err := st.integrations.lookup(d.Receiver, d.Integration, msg.ExternalURL)
	if err != nil {
		return "", err
	}
	alerts := make([]*alert.Alert, 0, len(msg.Alerts))
	for _, a := range modelAlerts(msg.Alerts) {
		if isHeldBack(a) {
			continue
		}
		al := alert.New(a, r.now(), false)
		// Alertmanager filters resolved alerts for integrations with
		// send_resolved: false before Notify; so must augur.
		if !integ.SendResolved() && al.Resolved() {
			continue
		}
		alerts = append(alerts, al)
	}
	if len(alerts) == 0 {
		return store.Skipped, nil
	}
	ctx, cancel := context.WithTimeout(notifyContext(ctx, d.Receiver, msg, r.now()), time.Duration(st.cfg.Forward.Timeout))
	defer cancel()
	verdict := integ.Notify(ctx, alerts...)
	if err := verdict.Err(); err != nil {
		if verdict.ShouldRetry() {
			return "", retryable{err: err, delay: verdict.Delay()}
		}
		return "", err
	}
	return store.Delivered, nil
}

// isHeldBack reports whether triage recorded an alert as not to forward.
func isHeldBack(a model.Alert) bool {
	for _, name := range []model.LabelName{AnnotationSuppressed, AnnotationLowScore, AnnotationFlapHeld} {
		if _, ok := a.Annotations[name]; ok {
			return true
		}
	}
	return false
}

// notifyContext carries what Alertmanager's integrations expect from its
// dispatcher: group key, receiver, group and route labels, notification
// reason and the time.
func notifyContext(ctx context.Context, receiver string, msg *webhook.Message, now time.Time) context.Context {
	ctx = notify.WithGroupKey(ctx, msg.GroupKey)
	ctx = notify.WithReceiverName(ctx, receiver)
	ctx = notify.WithGroupLabels(ctx, labelSet(msg.GroupLabels))
	ctx = notify.WithRouteLabels(ctx, labelSet(msg.RouteLabels))
	ctx = notify.WithNotificationReason(ctx, parseReason(msg.NotificationReason))
	return notify.WithNow(ctx, now)
}

// parseReason maps the notification_reason of a webhook payload back to
// Alertmanager's value; payloads from Alertmanager ≤ 0.31 have none.
func parseReason(s string) notify.NotifyReason {
	for r := notify.ReasonDoNotNotify; r < notify.ReasonUnknown; r++ {
		if r.String() == s {
			return r
		}
	}
	return notify.ReasonUnknown
}

// backoff returns how long to wait after the given number of failed
// attempts: initial·2^attempts capped at max, with full jitter over its upper
// half, and never less than what the far end asked for.
func (r *Receiver) backoff(c config.ForwardConfig, attempts int, atLeast time.Duration) time.Duration {
	d := time.Duration(c.MaxBackoff)
	if attempts < 30 {
		d = min(d, time.Duration(c.InitialBackoff)<<attempts)
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, atLeast)
}

// integrationType returns "slack" for "slack[1]".
func integrationType(name string) string {
	if i := strings.LastIndexByte(name, '['); i >= 0 {
		return name[:i]
	}
	return name
}
