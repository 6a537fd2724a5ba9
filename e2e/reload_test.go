package e2e

import (
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func postWebhook(t *testing.T, url string) int {
	t.Helper()
	body, err := os.ReadFile("../examples/payload.json")
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	return resp.StatusCode
}

// TestReload checks both reload paths of the real binary: a bad config is
// refused with the old one kept running, and a good one takes effect.
func TestReload(t *testing.T) {
	a := startAugur(t, "receivers:\n  - name: first\n")
	require.Equal(t, 1.0, a.metric(t, "augur_config_last_reload_successful"))
	require.Equal(t, http.StatusOK, postWebhook(t, a.url("/api/v1/webhook/first")))
	require.Equal(t, http.StatusNotFound, postWebhook(t, a.url("/api/v1/webhook/second")))

	// A broken config through POST /-/reload: refused, reported, counted.
	require.NoError(t, os.WriteFile(a.cfgPath, []byte("receivers:\n  - name: first\n    webhook_configs:\n      - url: not a url\n"), 0o600))
	resp, err := http.Post(a.url("/-/reload"), "", nil)
	require.NoError(t, err)
	msg, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, string(msg), "receivers[0]")
	require.Equal(t, 0.0, a.metric(t, "augur_config_last_reload_successful"))
	require.Equal(t, 1.0, a.metric(t, `augur_config_reloads_total{result="failure"}`))
	require.Equal(t, http.StatusOK, postWebhook(t, a.url("/api/v1/webhook/first")), "the old config keeps running")

	// A good config through SIGHUP.
	require.NoError(t, os.WriteFile(a.cfgPath, []byte("receivers:\n  - name: first\n  - name: second\n"), 0o600))
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGHUP))
	eventually(t, 10*time.Second, func() bool { return a.metric(t, "augur_config_last_reload_successful") == 1 }, "SIGHUP did not reload")
	require.Equal(t, 2.0, a.metric(t, `augur_config_reloads_total{result="success"}`))
	require.Equal(t, http.StatusOK, postWebhook(t, a.url("/api/v1/webhook/second")))

	resp, err = http.Get(a.url("/-/reload"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
