package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLoad measures augur on loopback: intake throughput against the real
// Alertmanager's own POST /api/v2/alerts in the same run, the latency augur
// adds between intake and the receiver, and its memory with 100,000 alerts
// stored. It takes about a minute and runs only with AUGUR_LOAD=1
// (`make load`); it reports numbers and fails only when a run breaks or
// the memory bound of 200 MB is exceeded.
func TestLoad(t *testing.T) {
	if os.Getenv("AUGUR_LOAD") != "1" {
		t.Skip("load run: set AUGUR_LOAD=1 (make load)")
	}
	const (
		senders  = 4
		duration = 10 * time.Second
		perBody  = 100
	)
	var (
		latMu     sync.Mutex
		latencies []time.Duration
	)
	sinkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		for _, a := range m.Alerts {
			if ns, err := strconv.ParseInt(a.Annotations["sent_at"], 10, 64); err == nil {
				latMu.Lock()
				latencies = append(latencies, now.Sub(time.Unix(0, ns)))
				latMu.Unlock()
				break
			}
		}
	}))
	defer sinkSrv.Close()

	a := startAugur(t, fmt.Sprintf(`
receivers:
  - name: bulk
  - name: timed
    webhook_configs:
      - url: %s
`, sinkSrv.URL))
	_, amURL := startAlertmanager(t, a.url("/api/v1/webhook/bulk"))

	augurBody := func(i int, sentAt time.Time) []byte { return webhookBody(i, perBody, sentAt) }
	amBody := func(i int, _ time.Time) []byte { return postableAlerts(i, perBody) }

	augurRes := hammer(t, a.url("/api/v1/webhook/bulk"), senders, duration, augurBody)
	t.Logf("augur intake (SQLite, synchronous=FULL): %s", augurRes.summary(perBody))
	amRes := hammer(t, amURL+"/api/v2/alerts", senders, duration, amBody)
	t.Logf("alertmanager v0.28.1 POST /api/v2/alerts (in memory): %s", amRes.summary(perBody))

	stored := augurRes.requests * perBody
	require.GreaterOrEqual(t, stored, 100_000, "the intake run stored fewer than 100,000 alerts")
	eventually(t, 5*time.Minute, func() bool { return a.metric(t, "augur_outbox_depth") == 0 }, "augur did not process its backlog")
	rss := rssBytes(t, a.cmd.Process.Pid)
	t.Logf("augur RSS with %d alerts stored (backlog processed): %.1f MB", stored, float64(rss)/1e6)
	require.Less(t, rss, int64(200e6), "RSS after 100,000 stored alerts")

	// Added latency: notifications of 10 alerts at a steady 50/s, from the
	// moment augur's intake is called to the moment the receiver has it.
	client := &http.Client{}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	const paced = 500
	for i := range paced {
		<-tick.C
		body := webhookBody(1_000_000+i, 10, time.Now())
		resp, err := client.Post(a.url("/api/v1/webhook/timed"), "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	eventually(t, time.Minute, func() bool {
		latMu.Lock()
		defer latMu.Unlock()
		return len(latencies) == paced
	}, "not every paced notification arrived")
	p := percentiles(latencies)
	t.Logf("added latency intake→receiver, %d notifications at 50/s (enrichers on, no Prometheus for them to query): p50 %s, p99 %s, max %s",
		paced, p(0.50), p(0.99), p(1))
}

type loadResult struct {
	requests int
	elapsed  time.Duration
	lat      []time.Duration
}

func (r loadResult) summary(perBody int) string {
	p := percentiles(r.lat)
	return fmt.Sprintf("%d requests in %s = %.0f alerts/s; latency p50 %s, p99 %s",
		r.requests, r.elapsed.Round(time.Millisecond), float64(r.requests*perBody)/r.elapsed.Seconds(),
		p(0.50), p(0.99))
}

// hammer posts bodies to url from n senders for d and records each request.
func hammer(t *testing.T, url string, n int, d time.Duration, body func(i int, sentAt time.Time) []byte) loadResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
		seq int
	)
	start := time.Now()
	for range n {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for ctx.Err() == nil {
				mu.Lock()
				seq++
				i := seq
				mu.Unlock()
				b := body(i, time.Now())
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(b))
				if err != nil {
					t.Errorf("post to %s: %v", url, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body) //nolint:errcheck
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("post to %s: %s", url, resp.Status)
					return
				}
				mu.Lock()
				res.requests++
				res.lat = append(res.lat, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func percentiles(d []time.Duration) func(q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return func(q float64) time.Duration {
		if len(s) == 0 {
			return 0
		}
		i := int(q * float64(len(s)-1))
		return s[i].Round(10 * time.Microsecond)
	}
}

// webhookBody is an Alertmanager v4 notification of n distinct alerts.
func webhookBody(i, n int, sentAt time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"version":"4","groupKey":"{}:{alertname=\"Load%d\"}","status":"firing","receiver":"bulk","groupLabels":{"alertname":"Load%d"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","alerts":[`, i%500, i%500)
	for j := range n {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"Load%d","instance":"10.1.%d.%d:9100","job":"node","severity":"warning","service":"svc-%d"},"annotations":{"summary":"load alert","sent_at":"%d"},"startsAt":"2026-11-28T14:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph","fingerprint":"%016x"}`,
			i%500, j/250, j%250, j%20, sentAt.UnixNano(), i*n+j)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// postableAlerts is a body for Alertmanager's POST /api/v2/alerts with the
// same alerts webhookBody carries.
func postableAlerts(i, n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for j := range n {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"Load%d","instance":"10.1.%d.%d:9100","job":"node","severity":"warning","service":"svc-%d"},"annotations":{"summary":"load alert"},"generatorURL":"http://prometheus:9090/graph"}`,
			i%500, j/250, j%250, j%20)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// rssBytes reads a process's resident set size from /proc.
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb * 1024
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}
