package runbook

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// BenchmarkRunbookFanOut runs a runbook of 20 steps against local servers:
// 8 http_checks, 4 tcp_checks, 4 prometheus_queries (a fake querier),
// 2 log_queries (a fake Loki) and 2 dns_lookups of localhost.
func BenchmarkRunbookFanOut(b *testing.B) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `{"status":"UP"}`)
	}))
	defer web.Close()
	loki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loki/api/v1/query" {
			_, _ = fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"42"]}]}}`)
			return
		}
		_, _ = fmt.Fprint(w, `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"checkout"},"values":[["1","level=error msg=timeout"]]}]}}`)
	}))
	defer loki.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	defer ln.Close() //nolint:errcheck // test listener.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()

	var steps strings.Builder
	add := func(format string, args ...any) { fmt.Fprintf(&steps, "      - "+format+"\n", args...) }
	for i := range 8 {
		add(`{name: http%d, http_check: {url: '%s/health/{{ .Labels.service }}', expect_body: UP}}`, i, web.URL)
	}
	for i := range 4 {
		add(`{name: tcp%d, tcp_check: {address: '%s'}}`, i, ln.Addr())
	}
	for i := range 4 {
		add(`{name: prom%d, prometheus_query: {query: 'sum by (pod) (rate(errors{service="{{ .Labels.service }}"}[5m]))'}}`, i)
	}
	for i := range 2 {
		add(`{name: logs%d, log_query: {query: '{app="{{ .Labels.service }}"} |= "error"'}}`, i)
	}
	for i := range 2 {
		add(`{name: dns%d, dns_lookup: {host: localhost}}`, i)
	}
	cfg, err := parse(b, fmt.Sprintf("runbooks:\n  allowed_hosts: [127.0.0.1, localhost]\n  loki: {url: '%s'}\n  by_alertname:\n    A:\n%s", loki.URL, steps.String()))
	require.NoError(b, err)
	r, err := NewRunner(cfg, fixedNow)
	require.NoError(b, err)
	q := &fakeQuerier{answers: map[string]model.Value{
		`sum by (pod) (rate(errors{service="checkout"}[5m]))`: model.Vector{
			{Metric: model.Metric{"pod": "checkout-0"}, Value: 0.01},
			{Metric: model.Metric{"pod": "checkout-1"}, Value: 0.08},
		},
	}}
	run := cfg.ByAlertname["A"]
	require.Len(b, run, 20)

	b.ReportAllocs()
	for b.Loop() {
		for _, res := range r.Run(b.Context(), run, testAlert, q) {
			if !res.OK {
				b.Fatalf("%s: %s", res.Step, res.Error)
			}
		}
	}
}
