package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// resolveOptions are the flags of `augur incident resolve`.
type resolveOptions struct {
	id                 string
	augurURL           string
	resolutionType     string
	rootCause          string
	notes              string
	worked, didNotWork []string
	bearerTokenFile    string
}

// resolveTimeout bounds the request to augur.
const resolveTimeout = 10 * time.Second

// resolveIncident records what resolved an incident through the running
// augur's API, POST /api/v1/incidents/{id}/resolution.
func resolveIncident(o resolveOptions, stdout, stderr io.Writer) int {
	body, err := json.Marshal(map[string]any{
		"resolution_type":     o.resolutionType,
		"root_cause":          o.rootCause,
		"effective_actions":   append([]string{}, o.worked...),
		"ineffective_actions": append([]string{}, o.didNotWork...),
		"notes":               o.notes,
	})
	if err != nil {
		fmt.Fprintf(stderr, "augur: encode resolution: %s\n", err)
		return 1
	}
	base, err := url.Parse(o.augurURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		fmt.Fprintf(stderr, "augur: --augur.url %q: not an absolute URL\n", o.augurURL)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("api/v1/incidents", o.id, "resolution").String(), bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "augur: %s\n", err)
		return 1
	}
	req.Header.Set("Content-Type", "application/json")
	if o.bearerTokenFile != "" {
		token, err := os.ReadFile(o.bearerTokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "augur: --auth.bearer-token-file: %s\n", err)
			return 1
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "augur: record resolution of %s: %s\n", o.id, err)
		return 1
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		fmt.Fprintf(stderr, "augur: record resolution of %s: read answer: %s\n", o.id, err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(answer, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(answer))
		}
		fmt.Fprintf(stderr, "augur: record resolution of %s: %s: %s\n", o.id, resp.Status, e.Error)
		return 1
	}
	fmt.Fprintf(stdout, "recorded: %s resolved by %s\n", o.id, o.resolutionType)
	return 0
}
