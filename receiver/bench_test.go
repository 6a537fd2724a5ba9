package receiver

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/receiver/store"
	"github.com/augur-sre/augur/receiver/triage"
)

// BenchmarkIntake100 measures the webhook handler with a real SQLite store
// (WAL, synchronous=FULL): decode, validate and durably store a notification
// of 100 alerts, from 4 goroutines as 4 concurrent senders would.
func BenchmarkIntake100(b *testing.B) {
	tr := newTestReceiver(b, twoReceivers)
	body := payload(0, 100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 senders
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/webhook/team", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			tr.mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("intake answered %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "alerts/s")
}

// BenchmarkPipeline measures one notification of 10 alerts from intake
// through processing (no enrichers) to delivery at a webhook receiver.
func BenchmarkPipeline(b *testing.B) {
	var delivered atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { delivered.Add(1) }))
	defer sink.Close()
	tr := newTestReceiver(b, sinkConfig(sink.URL, ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tr.Run(ctx) //nolint:errcheck // ends with the benchmark.
	b.ReportAllocs()
	g := 0
	for b.Loop() {
		// A new group each time: triage would drop a repeat of the same.
		g++
		body := payload(g, 10)
		want := delivered.Load() + 1
		req := httptest.NewRequest(http.MethodPost, "/api/v1/webhook/team", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		tr.mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("intake answered %d: %s", rec.Code, rec.Body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for delivered.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("notification %d not delivered", g)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	b.StopTimer()
	if got := testutil.ToFloat64(tr.metrics.forwarded.WithLabelValues("team", "webhook", "delivered")); got < float64(b.N)-1 {
		b.Fatalf("delivered %v of %d", got, b.N)
	}
}

// BenchmarkIntakeTriage100 measures intake and triage together for a
// notification of 100 alerts, sequentially: decode and validate, store,
// then dedup, flap histories, scores, suppressions and the incident, all
// against the real SQLite store, and the outcome committed. There are no
// enrichers and no deliveries. Every notification is a new group with the
// same 100 alerts, as when Alertmanager regroups them: steady state.
func BenchmarkIntakeTriage100(b *testing.B) {
	tr := newTestReceiver(b, twoReceivers)
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	g := 0
	for b.Loop() {
		g++
		res, err := tr.Replay(ctx, payload(g, 100), at.Add(time.Duration(g)*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if res.Decision != triage.Forward {
			b.Fatalf("notification %d: %s", g, res.Decision)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkActiveAlerts reports what augur keeps per active alert: it
// triages notifications of 100 new firing alerts each, then measures the
// live Go heap (the receiver's cache of alert states, bounded) and the
// store's size, per alert.
func BenchmarkActiveAlerts(b *testing.B) {
	const alerts = 20000
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		st, err := store.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := config.Load([]byte(twoReceivers), dir)
		if err != nil {
			b.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		logger := slog.New(slog.DiscardHandler)
		r := New(Options{Store: st, Registry: reg, Logger: logger})
		if err := r.ApplyConfig(cfg, enrich.NewOrchestrator(nil, time.Second, enrich.NewMetrics(reg), logger), nil, nil); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		at := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
		for g := range alerts / 100 {
			// Group g holds alerts 100g..100g+99, all distinct.
			body := bytes.ReplaceAll(payload(g, 100), []byte(`"instance":"10.0.`), []byte(fmt.Sprintf(`"instance":"g%d-10.0.`, g)))
			if _, err := r.Replay(context.Background(), body, at.Add(time.Duration(g)*time.Second)); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(r) // its caches are what is measured
		open, err := st.Incidents(context.Background(), store.IncidentFilter{State: "open", Limit: 1})
		if err != nil || len(open) != 1 || open[0].Firing != alerts {
			b.Fatalf("want one open incident with %d firing alerts, got %+v (%v)", alerts, open, err)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		size := int64(0)
		files, _ := filepath.Glob(filepath.Join(dir, store.File+"*"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				size += fi.Size()
			}
		}
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/alerts, "heap-B/alert")
		b.ReportMetric(float64(size)/alerts, "store-B/alert")
		b.StartTimer()
	}
}
