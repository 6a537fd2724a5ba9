package receiver

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
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
