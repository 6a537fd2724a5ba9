package querier

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
)

// request is what the fake Prometheus was asked.
type request struct {
	path           string
	form           url.Values
	user, password string
}

// fakePrometheus answers the query and rules APIs the way Prometheus does
// and records the requests. A gated one holds each request, after saying
// so on arrived, until the test sends on gate or calls release.
type fakePrometheus struct {
	url     string
	gate    chan struct{}
	arrived chan struct{}
	release func()
	// fail makes it answer every request with an execution error.
	fail atomic.Bool

	mu          sync.Mutex
	requests    []request
	inFlight    int
	maxInFlight int
}

func newFake(t testing.TB, gated bool) *fakePrometheus {
	f := &fakePrometheus{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if gated {
		f.gate = make(chan struct{})
		f.arrived = make(chan struct{}, 16)
		f.release = sync.OnceFunc(func() { close(f.gate) })
		// Cleanups run last first: the held requests go before the
		// server waits for them.
		t.Cleanup(f.release)
	}
	f.url = srv.URL
	return f
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	user, password, _ := r.BasicAuth()
	f.mu.Lock()
	f.requests = append(f.requests, request{path: r.URL.Path, form: r.Form, user: user, password: password})
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	if f.gate != nil {
		f.arrived <- struct{}{}
		<-f.gate
	}
	// Out of flight before the answer, so that the querier cannot start
	// its next request while this one still counts.
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if f.fail.Load() {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)) //nolint:errcheck
		return
	}
	switch r.URL.Path {
	case "/api/v1/query":
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"x"},"value":[1764338400,"0.5"]}]}}`)) //nolint:errcheck
	case "/api/v1/query_range":
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"x"},"values":[[1764338400,"1"],[1764338460,"2"]]}]}}`)) //nolint:errcheck
	case "/api/v1/rules":
		_, _ = w.Write([]byte(rulesJSON)) //nolint:errcheck
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"unknown endpoint"}`)) //nolint:errcheck
	}
}

// seen returns the requests so far.
func (f *fakePrometheus) seen() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// clock is a time that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestQuerier returns a querier of f with the default config as edit
// changes it, its metrics and its clock.
func newTestQuerier(t testing.TB, f *fakePrometheus, edit func(*config.PrometheusConfig)) (*Querier, *Metrics, *clock) {
	t.Helper()
	cfg := config.DefaultPrometheusConfig
	u, err := url.Parse(f.url)
	require.NoError(t, err)
	cfg.URL = &config.URL{URL: u}
	if edit != nil {
		edit(&cfg)
	}
	m := NewMetrics(prometheus.NewRegistry())
	c := &clock{t: time.Unix(1764338400, 0)}
	q, err := newQuerier(cfg, m, slog.New(slog.DiscardHandler), c.now)
	require.NoError(t, err)
	return q, m, c
}

// observations is how many durations of the kind m's histogram has.
func observations(t *testing.T, m *Metrics, kind string) uint64 {
	t.Helper()
	var d dto.Metric
	require.NoError(t, m.duration.WithLabelValues(kind).(prometheus.Histogram).Write(&d))
	return d.GetHistogram().GetSampleCount()
}

// ts is a time on a minute boundary.
var ts = time.Unix(1764338400, 0)

func TestQuery(t *testing.T) {
	f := newFake(t, false)
	q, m, _ := newTestQuerier(t, f, nil)

	v, err := q.Query(context.Background(), `rate(x[5m])`, ts.Add(7*time.Second))
	require.NoError(t, err)
	require.Equal(t, model.Vector{{Metric: model.Metric{"job": "x"}, Value: 0.5, Timestamp: model.TimeFromUnix(ts.Unix())}}, v)

	v, err = q.QueryRange(context.Background(), `x`, ts.Add(20*time.Second), ts.Add(time.Hour+50*time.Second), time.Minute)
	require.NoError(t, err)
	require.Len(t, v.(model.Matrix)[0].Values, 2)

	seen := f.seen()
	require.Len(t, seen, 2)
	require.Equal(t, "/api/v1/query", seen[0].path)
	require.Equal(t, "rate(x[5m])", seen[0].form.Get("query"))
	require.Equal(t, "1764338400", seen[0].form.Get("time"), "aligned down to 15s")
	require.Equal(t, "/api/v1/query_range", seen[1].path)
	require.Equal(t, "x", seen[1].form.Get("query"))
	require.Equal(t, "1764338400", seen[1].form.Get("start"), "aligned down to the step")
	require.Equal(t, "1764342000", seen[1].form.Get("end"), "aligned down to the step")
	require.Equal(t, "60", seen[1].form.Get("step"))

	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindInstant, "success")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindRange, "success")))
	require.Equal(t, uint64(1), observations(t, m, kindInstant))
	require.Equal(t, uint64(1), observations(t, m, kindRange))
	require.Zero(t, testutil.ToFloat64(m.inFlight))
}

func TestQueryRangeStepMustBePositive(t *testing.T) {
	f := newFake(t, false)
	q, _, _ := newTestQuerier(t, f, nil)
	_, err := q.QueryRange(context.Background(), `x`, ts, ts.Add(time.Hour), 0)
	require.ErrorContains(t, err, `query range "x": step 0s must be positive`)
	require.Empty(t, f.seen())
}

// ask is one query of TestCacheKey: instant at start when step is 0.
type ask struct {
	query      string
	start, end time.Time
	step       time.Duration
}

func (a ask) run(q *Querier) error {
	var err error
	if a.step == 0 {
		_, err = q.Query(context.Background(), a.query, a.start)
	} else {
		_, err = q.QueryRange(context.Background(), a.query, a.start, a.end, a.step)
	}
	return err
}

func TestCacheKey(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second ask
		requests      int
	}{
		{
			name:     "same instant query",
			first:    ask{query: "up", start: ts},
			second:   ask{query: "up", start: ts},
			requests: 1,
		},
		{
			name:     "instant query within the same 15s",
			first:    ask{query: "up", start: ts.Add(1 * time.Second)},
			second:   ask{query: "up", start: ts.Add(14 * time.Second)},
			requests: 1,
		},
		{
			name:     "instant query in the next 15s",
			first:    ask{query: "up", start: ts.Add(14 * time.Second)},
			second:   ask{query: "up", start: ts.Add(15 * time.Second)},
			requests: 2,
		},
		{
			name:     "other instant query",
			first:    ask{query: "up", start: ts},
			second:   ask{query: "down", start: ts},
			requests: 2,
		},
		{
			name:     "range query within the same step",
			first:    ask{query: "up", start: ts, end: ts.Add(time.Hour), step: time.Minute},
			second:   ask{query: "up", start: ts.Add(50 * time.Second), end: ts.Add(time.Hour + 59*time.Second), step: time.Minute},
			requests: 1,
		},
		{
			name:     "range query ending in the next step",
			first:    ask{query: "up", start: ts, end: ts.Add(time.Hour + 59*time.Second), step: time.Minute},
			second:   ask{query: "up", start: ts, end: ts.Add(time.Hour + 60*time.Second), step: time.Minute},
			requests: 2,
		},
		{
			name:     "range query with another step",
			first:    ask{query: "up", start: ts, end: ts.Add(time.Hour), step: time.Minute},
			second:   ask{query: "up", start: ts, end: ts.Add(time.Hour), step: 30 * time.Second},
			requests: 2,
		},
		{
			name:     "instant and range query",
			first:    ask{query: "up", start: ts},
			second:   ask{query: "up", start: ts, end: ts, step: time.Minute},
			requests: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, false)
			q, _, _ := newTestQuerier(t, f, nil)
			require.NoError(t, tc.first.run(q))
			require.NoError(t, tc.second.run(q))
			require.Len(t, f.seen(), tc.requests)
		})
	}
}

func TestAlignDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
		d    time.Duration
		want time.Time
	}{
		{name: "on a boundary", t: time.Unix(70, 0), d: 7 * time.Second, want: time.Unix(70, 0)},
		{name: "from the epoch, not year 1", t: time.Unix(76, 5), d: 7 * time.Second, want: time.Unix(70, 0)},
		{name: "before the epoch", t: time.Unix(-1, 0), d: 7 * time.Second, want: time.Unix(-7, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.True(t, tc.want.Equal(alignDown(tc.t, tc.d)), "got %s", alignDown(tc.t, tc.d))
		})
	}
}

func TestCacheTTL(t *testing.T) {
	f := newFake(t, false)
	q, m, c := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) {
		cfg.Cache.TTL = model.Duration(time.Minute)
	})
	query := func() {
		t.Helper()
		_, err := q.QueryRange(context.Background(), "up", ts, ts.Add(time.Hour), time.Minute)
		require.NoError(t, err)
	}

	query()
	c.advance(59 * time.Second)
	query()
	require.Len(t, f.seen(), 1, "hit within the TTL")
	c.advance(time.Second)
	query()
	require.Len(t, f.seen(), 2, "miss once the TTL is over")

	require.Equal(t, 1.0, testutil.ToFloat64(m.cacheRequests.WithLabelValues(kindRange, "hit")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.cacheRequests.WithLabelValues(kindRange, "miss")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.queries.WithLabelValues(kindRange, "success")))
}

func TestCacheOff(t *testing.T) {
	f := newFake(t, false)
	q, m, _ := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) { cfg.Cache.Size = 0 })
	for range 2 {
		_, err := q.Query(context.Background(), "up", ts)
		require.NoError(t, err)
	}
	require.Len(t, f.seen(), 2)
	require.Zero(t, testutil.ToFloat64(m.cacheRequests.WithLabelValues(kindInstant, "miss")))
}

func TestErrorsNotCached(t *testing.T) {
	f := newFake(t, false)
	q, m, _ := newTestQuerier(t, f, nil)

	f.fail.Store(true)
	_, err := q.Query(context.Background(), "up", ts)
	var apiErr *v1.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, v1.ErrExec, apiErr.Type)
	require.ErrorContains(t, err, `query "up" at 2025-11-28T14:00:00Z: execution: query processing would load too many samples into memory`)

	f.fail.Store(false)
	_, err = q.Query(context.Background(), "up", ts)
	require.NoError(t, err)
	require.Len(t, f.seen(), 2)
	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindInstant, "error")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindInstant, "success")))
}

func TestCoalescing(t *testing.T) {
	const n = 8
	f := newFake(t, true)
	q, m, _ := newTestQuerier(t, f, nil)

	results := make(chan model.Value, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			v, err := q.QueryRange(context.Background(), "up", ts, ts.Add(time.Hour), time.Minute)
			results <- v
			errs <- err
		}()
	}
	<-f.arrived
	// Every caller has joined the one request before it is answered.
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(m.coalesced.WithLabelValues(kindRange)) == n-1
	}, 10*time.Second, time.Millisecond)
	f.release()

	first := <-results
	require.NotNil(t, first)
	for range n - 1 {
		require.Equal(t, first, <-results)
	}
	for range n {
		require.NoError(t, <-errs)
	}
	require.Len(t, f.seen(), 1)
	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindRange, "success")))
	require.Equal(t, float64(n), testutil.ToFloat64(m.cacheRequests.WithLabelValues(kindRange, "miss")))
}

func TestCoalescedCallerGivesUp(t *testing.T) {
	f := newFake(t, true)
	q, m, _ := newTestQuerier(t, f, nil)

	stays := make(chan error, 1)
	go func() {
		_, err := q.Query(context.Background(), "up", ts)
		stays <- err
	}()
	<-f.arrived
	ctx, cancel := context.WithCancel(context.Background())
	leaves := make(chan error, 1)
	go func() {
		_, err := q.Query(ctx, "up", ts)
		leaves <- err
	}()
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(m.coalesced.WithLabelValues(kindInstant)) == 1
	}, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-leaves, context.Canceled)

	f.release()
	require.NoError(t, <-stays, "the request went on for the caller still waiting")
	require.Len(t, f.seen(), 1)
}

func TestConcurrencyLimit(t *testing.T) {
	const n = 5
	f := newFake(t, true)
	q, m, _ := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) { cfg.MaxConcurrency = 2 })

	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := q.Query(context.Background(), "up", ts.Add(time.Duration(i)*time.Minute))
			errs <- err
		}()
	}
	<-f.arrived
	<-f.arrived
	require.Equal(t, 2.0, testutil.ToFloat64(m.inFlight))
	// Answer one at a time: each answer lets one more in.
	for range n - 2 {
		f.gate <- struct{}{}
		<-f.arrived
	}
	f.release()
	for range n {
		require.NoError(t, <-errs)
	}
	require.Len(t, f.seen(), n)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, 2, f.maxInFlight)
}

func TestWaitHonoursContext(t *testing.T) {
	f := newFake(t, true)
	q, m, _ := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) { cfg.MaxConcurrency = 1 })

	first := make(chan error, 1)
	go func() {
		_, err := q.Query(context.Background(), "up", ts)
		first <- err
	}()
	<-f.arrived

	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := q.Query(ctx, "down", ts)
		waiting <- err
	}()
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(m.cacheRequests.WithLabelValues(kindInstant, "miss")) == 2
	}, 10*time.Second, time.Millisecond)
	cancel()
	err := <-waiting
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, `query "down"`)

	f.release()
	require.NoError(t, <-first)
	require.Len(t, f.seen(), 1, "the abandoned query was never sent")

	// Abandoned, it is forgotten: asked again, it is sent.
	_, err = q.Query(context.Background(), "down", ts)
	require.NoError(t, err)
	require.Len(t, f.seen(), 2)
}

func TestBasicAuth(t *testing.T) {
	f := newFake(t, false)
	q, _, _ := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) {
		cfg.HTTPConfig.BasicAuth = &commoncfg.BasicAuth{Username: "augur", Password: "hunter2"}
	})
	_, err := q.Query(context.Background(), "up", ts)
	require.NoError(t, err)
	require.Equal(t, "augur", f.seen()[0].user)
	require.Equal(t, "hunter2", f.seen()[0].password)
}

func TestTimeout(t *testing.T) {
	f := newFake(t, true)
	q, m, _ := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) {
		cfg.Timeout = model.Duration(20 * time.Millisecond)
	})
	_, err := q.Query(context.Background(), "up", ts)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, `query "up"`)
	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindInstant, "error")))
}

// rulesJSON is /api/v1/rules as Prometheus 3 answers it: a group with a
// recording rule and a firing alerting rule, and one with an inactive
// alerting rule.
const rulesJSON = `{
  "status": "success",
  "data": {
    "groups": [
      {
        "name": "node",
        "file": "/etc/prometheus/rules/node.yml",
        "rules": [
          {
            "name": "instance:node_cpu_utilisation:rate5m",
            "query": "1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job=\"node\",mode=~\"idle|iowait|steal\"}[5m])))",
            "health": "ok",
            "evaluationTime": 0.000612,
            "lastEvaluation": "2025-11-28T14:00:03.218Z",
            "type": "recording"
          },
          {
            "state": "firing",
            "name": "NodeFilesystemAlmostFull",
            "query": "node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"} / node_filesystem_size_bytes{fstype!=\"\",job=\"node\"} * 100 < 5",
            "duration": 1800,
            "keepFiringFor": 0,
            "labels": {"severity": "warning"},
            "annotations": {
              "summary": "Filesystem has less than 5% space left.",
              "runbook_url": "https://runbooks.example.com/NodeFilesystemAlmostFull"
            },
            "alerts": [
              {
                "labels": {"alertname": "NodeFilesystemAlmostFull", "device": "/dev/sda1", "instance": "db-1:9100", "job": "node", "mountpoint": "/", "severity": "warning"},
                "annotations": {"summary": "Filesystem has less than 5% space left."},
                "state": "firing",
                "activeAt": "2025-11-28T13:12:33.218Z",
                "value": "4.213e+00"
              },
              {
                "labels": {"alertname": "NodeFilesystemAlmostFull", "device": "/dev/sdb1", "instance": "db-2:9100", "job": "node", "mountpoint": "/data", "severity": "warning"},
                "annotations": {"summary": "Filesystem has less than 5% space left."},
                "state": "pending",
                "activeAt": "2025-11-28T13:58:03.218Z",
                "value": "4.9e+00"
              }
            ],
            "health": "ok",
            "evaluationTime": 0.001934,
            "lastEvaluation": "2025-11-28T14:00:03.219Z",
            "type": "alerting"
          }
        ],
        "interval": 30,
        "limit": 0,
        "evaluationTime": 0.002611,
        "lastEvaluation": "2025-11-28T14:00:03.218Z"
      },
      {
        "name": "api",
        "file": "/etc/prometheus/rules/api.yml",
        "rules": [
          {
            "state": "inactive",
            "name": "APIHighErrorRate",
            "query": "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > 0.05",
            "duration": 300,
            "keepFiringFor": 0,
            "labels": {"severity": "critical", "service": "api"},
            "annotations": {"summary": "More than 5% of API requests fail."},
            "alerts": [],
            "health": "ok",
            "evaluationTime": 0.000503,
            "lastEvaluation": "2025-11-28T14:00:10.001Z",
            "type": "alerting"
          }
        ],
        "interval": 60,
        "limit": 0,
        "evaluationTime": 0.000521,
        "lastEvaluation": "2025-11-28T14:00:10.001Z"
      }
    ]
  }
}`

func TestRules(t *testing.T) {
	f := newFake(t, false)
	q, m, c := newTestQuerier(t, f, func(cfg *config.PrometheusConfig) {
		cfg.RulesRefresh = model.Duration(time.Minute)
	})

	rules, err := q.Rules(context.Background())
	require.NoError(t, err)
	require.Equal(t, []AlertingRule{
		{
			Group:       "node",
			File:        "/etc/prometheus/rules/node.yml",
			Name:        "NodeFilesystemAlmostFull",
			Query:       `node_filesystem_avail_bytes{fstype!="",job="node"} / node_filesystem_size_bytes{fstype!="",job="node"} * 100 < 5`,
			For:         30 * time.Minute,
			Labels:      model.LabelSet{"severity": "warning"},
			Annotations: model.LabelSet{"summary": "Filesystem has less than 5% space left.", "runbook_url": "https://runbooks.example.com/NodeFilesystemAlmostFull"},
			Alerts: []ActiveAlert{
				{Labels: model.LabelSet{"alertname": "NodeFilesystemAlmostFull", "device": "/dev/sda1", "instance": "db-1:9100", "job": "node", "mountpoint": "/", "severity": "warning"}, State: "firing"},
				{Labels: model.LabelSet{"alertname": "NodeFilesystemAlmostFull", "device": "/dev/sdb1", "instance": "db-2:9100", "job": "node", "mountpoint": "/data", "severity": "warning"}, State: "pending"},
			},
		},
		{
			Group:       "api",
			File:        "/etc/prometheus/rules/api.yml",
			Name:        "APIHighErrorRate",
			Query:       `sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05`,
			For:         5 * time.Minute,
			Labels:      model.LabelSet{"severity": "critical", "service": "api"},
			Annotations: model.LabelSet{"summary": "More than 5% of API requests fail."},
			Alerts:      []ActiveAlert{},
		},
	}, rules)

	c.advance(59 * time.Second)
	_, err = q.Rules(context.Background())
	require.NoError(t, err)
	require.Len(t, f.seen(), 1, "read once per rules_refresh")
	c.advance(time.Second)
	_, err = q.Rules(context.Background())
	require.NoError(t, err)
	require.Len(t, f.seen(), 2)
	require.Equal(t, "/api/v1/rules", f.seen()[1].path)

	require.Equal(t, 1.0, testutil.ToFloat64(m.cacheRequests.WithLabelValues(kindRules, "hit")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.queries.WithLabelValues(kindRules, "success")))
}

func TestRuleExpr(t *testing.T) {
	f := newFake(t, false)
	q, _, _ := newTestQuerier(t, f, nil)
	ctx := context.Background()
	e, err := q.RuleExpr(ctx, model.Alert{Labels: model.LabelSet{"alertname": "APIHighErrorRate", "severity": "critical", "service": "api"}})
	require.NoError(t, err)
	require.Equal(t, `sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05`, e)
	_, err = q.RuleExpr(ctx, model.Alert{Labels: model.LabelSet{"alertname": "APIHighErrorRate", "severity": "warning"}})
	require.ErrorContains(t, err, `no alerting rule "APIHighErrorRate" with the alert's labels`)
}

func TestRulesError(t *testing.T) {
	f := newFake(t, false)
	q, m, _ := newTestQuerier(t, f, nil)
	f.fail.Store(true)
	_, err := q.Rules(context.Background())
	require.ErrorContains(t, err, "read rules: execution: query processing would load too many samples")
	require.Equal(t, 1.0, testutil.ToFloat64(m.queries.WithLabelValues(kindRules, "error")))
}

func TestMetricsPreinitialised(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	for name, series := range map[string]int{
		"augur_querier_queries_total":           6,
		"augur_querier_cache_requests_total":    6,
		"augur_querier_coalesced_queries_total": 3,
		"augur_querier_queries_in_flight":       1,
		"augur_querier_query_duration_seconds":  3,
	} {
		require.Equal(t, series, testutil.CollectAndCount(reg, name), name)
	}
}

func BenchmarkCachedQueryRange(b *testing.B) {
	f := newFake(b, false)
	q, _, _ := newTestQuerier(b, f, nil)
	ctx := context.Background()
	_, err := q.QueryRange(ctx, "up", ts, ts.Add(time.Hour), time.Minute)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.QueryRange(ctx, "up", ts, ts.Add(time.Hour), time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
