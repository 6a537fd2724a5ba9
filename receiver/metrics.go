package receiver

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	dto "github.com/prometheus/client_model/go"

	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

type metrics struct {
	webhookRequests *prometheus.CounterVec
	alertsReceived  *prometheus.CounterVec
	forwarded       *prometheus.CounterVec
	retries         *prometheus.CounterVec
	deliveryLatency *prometheus.HistogramVec
	expired         prometheus.Counter
	triage          *prometheus.CounterVec
	incidents       prometheus.Counter
	changes         *prometheus.CounterVec
}

// apiSource is the source label of changes posted to the changes API.
const apiSource = "api"

func newMetrics(reg prometheus.Registerer, s *store.Store, now func() time.Time) *metrics {
	m := &metrics{
		webhookRequests: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "webhook_requests_total",
			Help:      "Webhook requests from Alertmanager, by HTTP status code of the answer.",
		}, []string{"code"}),
		alertsReceived: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "alerts_received_total",
			Help:      "Alerts received in stored notifications, by receiver.",
		}, []string{"receiver"}),
		forwarded: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "notifications_forwarded_total",
			Help:      "Deliveries finished, by receiver, integration and result (delivered; skipped: only resolved alerts for an integration without send_resolved; failed: not retryable).",
		}, []string{"receiver", "integration", "result"}),
		retries: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "notification_retries_total",
			Help:      "Failed delivery attempts that will be retried, by receiver and integration.",
		}, []string{"receiver", "integration"}),
		deliveryLatency: promauto.With(reg).NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "augur",
			Name:      "delivery_latency_seconds",
			Help:      "Time from a notification being queued for an integration to its successful delivery, retries included.",
			Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 120, 600},
		}, []string{"integration"}),
		changes: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "changes_recorded_total",
			Help:      "Change events recorded, by source (api: POST /api/v1/changes).",
		}, []string{"source"}),
		expired: promauto.With(reg).NewCounter(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "deliveries_expired_total",
			Help:      "Deliveries dropped undelivered because their notification outlived storage.retention.",
		}),
	}
	m.incidents = promauto.With(reg).NewCounter(prometheus.CounterOpts{
		Namespace: "augur",
		Name:      "incidents_total",
		Help:      "Incidents opened.",
	})
	m.triage = promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Namespace: "augur",
		Subsystem: "triage",
		Name:      "alerts_total",
		Help:      "Alerts of processed notifications, by triage decision (forwarded; duplicate: same notification within triage.dedup_window; repeat: unchanged and not yet due by triage.repeat_interval; suppressed).",
	}, []string{"decision"})
	for _, d := range triage.Decisions() {
		m.triage.WithLabelValues(string(d))
	}
	promauto.With(reg).NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "augur",
		Subsystem: "triage",
		Name:      "reduction_ratio",
		Help:      "Share of the alerts received since start that triage did not forward (1 - forwarded / processed); 0 before any.",
	}, m.reductionRatio)
	m.changes.WithLabelValues(apiSource)
	for _, code := range []int{200, 400, 401, 404, 405, 413, 415, 500, 503} {
		m.webhookRequests.WithLabelValues(strconv.Itoa(code))
	}
	if reg != nil {
		reg.MustRegister(newBacklogCollector(s, now))
	}
	return m
}

// reductionRatio is 1 - forwarded/processed over the triage counters.
func (m *metrics) reductionRatio() float64 {
	var total, forwarded float64
	for _, d := range triage.Decisions() {
		var v dto.Metric
		if err := m.triage.WithLabelValues(string(d)).Write(&v); err != nil {
			return 0
		}
		n := v.GetCounter().GetValue()
		total += n
		if d == triage.Forward {
			forwarded = n
		}
	}
	if total == 0 {
		return 0
	}
	return 1 - forwarded/total
}

// init pre-creates the series of every configured receiver and integration.
func (m *metrics) initSeries(x *integrations) {
	for name := range x.receivers {
		m.alertsReceived.WithLabelValues(name)
		for _, integ := range x.names(name) {
			t := integrationType(integ)
			for _, result := range []string{store.Delivered, store.Skipped, store.Failed} {
				m.forwarded.WithLabelValues(name, t, result)
			}
			m.retries.WithLabelValues(name, t)
			m.deliveryLatency.WithLabelValues(t)
		}
	}
}

// backlogCollector reads the outbox and open incidents from the store at
// scrape time.
type backlogCollector struct {
	store     *store.Store
	now       func() time.Time
	depthDesc *prometheus.Desc
	ageDesc   *prometheus.Desc
	openDesc  *prometheus.Desc
}

func newBacklogCollector(s *store.Store, now func() time.Time) backlogCollector {
	return backlogCollector{
		store: s,
		now:   now,
		depthDesc: prometheus.NewDesc("augur_outbox_depth",
			"Notifications waiting for processing plus deliveries waiting to be sent.", nil, nil),
		ageDesc: prometheus.NewDesc("augur_outbox_oldest_age_seconds",
			"Age of the oldest notification or delivery not yet done; 0 when there is none.", nil, nil),
		openDesc: prometheus.NewDesc("augur_incidents_open",
			"Incidents not yet resolved.", nil, nil),
	}
}

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depthDesc
	ch <- c.ageDesc
	ch <- c.openDesc
}

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depthDesc, err)
		return
	}
	age := 0.0
	if !b.Oldest.IsZero() {
		age = c.now().Sub(b.Oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.depthDesc, prometheus.GaugeValue, float64(b.Backlog))
	ch <- prometheus.MustNewConstMetric(c.openDesc, prometheus.GaugeValue, float64(b.OpenIncidents))
	ch <- prometheus.MustNewConstMetric(c.ageDesc, prometheus.GaugeValue, age)
}
