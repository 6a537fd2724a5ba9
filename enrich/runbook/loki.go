package runbook

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// lokiClient speaks the part of Loki's HTTP API that log_query needs.
type lokiClient struct {
	url    *url.URL
	client *http.Client
}

// lokiResponse is the body of Loki's query and query_range answers.
type lokiResponse struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// lokiStream is one stream of a "streams" result: its labels and its
// entries, each [timestamp in ns, line].
type lokiStream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"`
}

// lokiGet sends GET path?params to Loki and decodes the answer.
func (r *Runner) lokiGet(ctx context.Context, path string, params url.Values) (lokiResponse, error) {
	var res lokiResponse
	u := *r.loki.url
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return res, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := r.loki.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return res, fmt.Errorf("loki %s: %w", path, err)
	}
	defer resp.Body.Close() //nolint:errcheck // nothing to do about it.
	body, truncated, err := readCapped(resp.Body, r.maxBytes)
	if err != nil {
		return res, fmt.Errorf("read loki %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("loki %s: HTTP %d: %s", path, resp.StatusCode, shorten(string(body), 200))
	}
	if truncated {
		return res, fmt.Errorf("loki %s: answer larger than runbooks.max_response_bytes (%d)", path, r.maxBytes)
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return res, fmt.Errorf("decode loki %s: %w", path, err)
	}
	if res.Status != "success" {
		return res, fmt.Errorf("loki %s: status %q", path, res.Status)
	}
	return res, nil
}

// logQuery runs a log_query: the latest lines through query_range, and,
// for a log (not metric) query, their number through an instant
// count_over_time.
func (r *Runner) logQuery(ctx context.Context, l *LogQuery, d *templateData) (string, error) {
	query, err := l.Query.render(d)
	if err != nil {
		return "", fmt.Errorf("render query: %w", err)
	}
	if r.loki == nil {
		return "", errors.New("no Loki to query: set runbooks.loki")
	}
	end := r.now()
	since := time.Duration(l.Since)
	res, err := r.lokiGet(ctx, "/loki/api/v1/query_range", url.Values{
		"query":     {query},
		"start":     {strconv.FormatInt(end.Add(-since).UnixNano(), 10)},
		"end":       {strconv.FormatInt(end.UnixNano(), 10)},
		"limit":     {strconv.Itoa(l.Limit)},
		"direction": {"backward"},
	})
	if err != nil {
		return "", err
	}
	switch res.Data.ResultType {
	case "streams":
	case "matrix":
		var m model.Matrix
		if err := json.Unmarshal(res.Data.Result, &m); err != nil {
			return "", fmt.Errorf("decode loki matrix: %w", err)
		}
		return summarise(m), nil
	default:
		return "", fmt.Errorf("loki query_range: unexpected result type %q", res.Data.ResultType)
	}
	var streams []lokiStream
	if err := json.Unmarshal(res.Data.Result, &streams); err != nil {
		return "", fmt.Errorf("decode loki streams: %w", err)
	}
	lines := latest(streams, l.Limit)

	count, err := r.lokiGet(ctx, "/loki/api/v1/query", url.Values{
		"query": {fmt.Sprintf("sum(count_over_time(%s [%s]))", query, l.Since)},
		"time":  {strconv.FormatInt(end.UnixNano(), 10)},
	})
	if err != nil {
		return "", fmt.Errorf("count lines: %w", err)
	}
	var v model.Vector
	if err := json.Unmarshal(count.Data.Result, &v); err != nil {
		return "", fmt.Errorf("decode loki line count: %w", err)
	}
	n := 0
	if len(v) > 0 {
		n = int(v[0].Value)
	}
	if n == 0 && len(lines) == 0 {
		return fmt.Sprintf("no lines in the last %s", l.Since), nil
	}
	return fmt.Sprintf("%d lines in the last %s; latest:\n%s", max(n, len(lines)), l.Since, strings.Join(lines, " | ")), nil
}

// latest returns the newest n lines of the streams, newest first, each cut
// to one short line.
func latest(streams []lokiStream, n int) []string {
	type entry struct {
		ts   int64
		line string
	}
	var all []entry
	for _, s := range streams {
		for _, v := range s.Values {
			ts, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				continue
			}
			all = append(all, entry{ts, v[1]})
		}
	}
	slices.SortStableFunc(all, func(a, b entry) int { return cmp.Compare(b.ts, a.ts) })
	lines := make([]string, 0, min(n, len(all)))
	for _, e := range all[:min(n, len(all))] {
		lines = append(lines, shorten(e.line, 120))
	}
	return lines
}
