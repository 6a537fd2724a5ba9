package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSLOStatus runs `augur slo status` against a stand-in Prometheus
// whose recording rules say the checkout SLO burns 21.3x over 1h.
func TestSLOStatus(t *testing.T) {
	ratios := map[string]string{"5m": "0.0301", "30m": "0.012", "1h": "0.0213", "2h": "0.015", "6h": "0.0081", "1d": "0.002", "3d": "0.0009", "30d": "0.00038"}
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		require.Equal(t, "/api/v1/query", r.URL.Path)
		q := r.Form.Get("query")
		result := "[]"
		for window, v := range ratios {
			if strings.HasPrefix(q, "slo:sli_error:ratio_rate"+window+"{") {
				result = fmt.Sprintf(`[{"metric":{},"value":[1764338400,%q]}]`, v)
			}
		}
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":%s}}`, result)
	}))
	defer prom.Close()
	file := filepath.Join(t.TempDir(), "augur.yml")
	require.NoError(t, os.WriteFile(file, []byte(`
prometheus:
  url: `+prom.URL+`
slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
`), 0o600))

	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, cli([]string{"slo", "status", "--config.file", file}, &stdout, &stderr), stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, []string{"SLO", "SERVICE", "OBJECTIVE", "BURN", "5m", "BURN", "1h", "BURN", "6h", "BURN", "1d", "BURN", "3d", "BUDGET", "LEFT", "EXHAUSTED", "IN", "SEVERITY", "WOULD", "FIRE"}, strings.Fields(lines[0]))
	require.Equal(t, []string{"checkout-availability", "checkout", "99.9%", "30.1x", "21.3x", "8.1x", "2x", "0.9x", "62.0%", "21h", "critical",
		"page", "14.4x", "(5m", "&", "1h),", "page", "6x", "(30m", "&", "6h)"}, strings.Fields(lines[1]))

	stdout.Reset()
	require.Equal(t, 0, cli([]string{"slo", "status", "--config.file", file, "--output", "json"}, &stdout, &stderr), stderr.String())
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, "critical", rows[0]["severity"])
	require.InDelta(t, 21.3, rows[0]["burn_rates"].(map[string]any)["1h"], 1e-9)

	require.Equal(t, 2, cli([]string{"slo", "status", "--config.file", file, "--output", "yaml"}, &stdout, &stderr))
}
