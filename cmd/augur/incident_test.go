package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIncidentResolve(t *testing.T) {
	var got struct {
		path, auth, contentType string
		body                    map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.auth, got.contentType = r.Method+" "+r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &got.body))
		if r.URL.Path == "/api/v1/incidents/inc-nope/resolution" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"incident inc-nope: not found"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("s3cret\n"), 0o600))

	var stdout, stderr bytes.Buffer
	code := cli([]string{"incident", "resolve", "inc-2026-11-28-0042", "--type", "rollback", "--worked", "rollback to v2.13", "--worked", "drain node",
		"--did-not-work", "restart pods", "--root-cause", "v2.14 broke the cart", "--augur.url", srv.URL, "--auth.bearer-token-file", token}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	require.Equal(t, "recorded: inc-2026-11-28-0042 resolved by rollback\n", stdout.String())
	require.Equal(t, "POST /api/v1/incidents/inc-2026-11-28-0042/resolution", got.path)
	require.Equal(t, "Bearer s3cret", got.auth)
	require.Equal(t, "application/json", got.contentType)
	require.Equal(t, map[string]any{
		"resolution_type": "rollback", "root_cause": "v2.14 broke the cart", "notes": "",
		"effective_actions": []any{"rollback to v2.13", "drain node"}, "ineffective_actions": []any{"restart pods"},
	}, got.body)

	stdout.Reset()
	code = cli([]string{"incident", "resolve", "inc-nope", "--type", "manual_fix", "--augur.url", srv.URL}, &stdout, &stderr)
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "augur: record resolution of inc-nope: 404 Not Found: incident inc-nope: not found")
	require.Equal(t, map[string]any{"resolution_type": "manual_fix", "root_cause": "", "notes": "", "effective_actions": []any{}, "ineffective_actions": []any{}}, got.body)

	stderr.Reset()
	require.Equal(t, 2, cli([]string{"incident", "resolve", "inc-1"}, &stdout, &stderr), "--type is required")
	require.Contains(t, stderr.String(), "required flag(s) '--type' not provided")
}
