package runbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
)

// userAgent names augur to the servers its steps reach.
const userAgent = "augur-runbook"

// httpCheck runs an http_check. It also returns the secrets it sent, for
// runStep to scrub from what it reports.
func (r *Runner) httpCheck(ctx context.Context, c *HTTPCheck, d *templateData) (string, []string, error) {
	raw, err := c.URL.render(d)
	if err != nil {
		return "", nil, fmt.Errorf("render url: %w", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("parse url: %w", err)
	}
	if err := checkURL(u, r.allowed); err != nil {
		return "", nil, err
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, u.String(), nil)
	if err != nil {
		return "", nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	secrets, err := setHeaders(req, c.Headers, d)
	if err != nil {
		return "", secrets, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		// Not the *url.Error itself: it would name the URL twice.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", secrets, fmt.Errorf("%s %s: %w", c.Method, u.Redacted(), err)
	}
	// The body is closed without reading the rest past the cap: the
	// connection is dropped, which is the point of the cap.
	defer resp.Body.Close() //nolint:errcheck // nothing to do about it.
	body, truncated, err := readCapped(resp.Body, r.maxBytes)
	if err != nil {
		return "", secrets, fmt.Errorf("read response of %s: %w", u.Redacted(), err)
	}
	out := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if len(body) > 0 {
		out += ": " + shorten(string(body), 100)
	}
	if truncated {
		out += fmt.Sprintf(" (body cut at %d bytes)", r.maxBytes)
	}
	switch {
	case c.ExpectStatus != 0 && resp.StatusCode != c.ExpectStatus:
		return out, secrets, fmt.Errorf("status %d, want %d", resp.StatusCode, c.ExpectStatus)
	case c.ExpectStatus == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299):
		return out, secrets, fmt.Errorf("status %d, want 2xx", resp.StatusCode)
	}
	want, err := c.ExpectBody.render(d)
	if err != nil {
		return out, secrets, fmt.Errorf("render expect_body: %w", err)
	}
	if want != "" && !strings.Contains(string(body), want) {
		return out, secrets, fmt.Errorf("body does not contain %q", want)
	}
	if c.bodyRegexp != nil && !c.bodyRegexp.Match(body) {
		return out, secrets, fmt.Errorf("body does not match %q", c.bodyRegexp)
	}
	return out, secrets, nil
}

// setHeaders sets the check's headers on req, in a stable order, and
// returns the secrets among them.
func setHeaders(req *http.Request, headers map[string]Header, d *templateData) ([]string, error) {
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var secrets []string
	for _, name := range names {
		h := headers[name]
		var v string
		switch {
		case h.SecretFile != "":
			b, err := os.ReadFile(h.SecretFile)
			if err != nil {
				return secrets, fmt.Errorf("read secret of header %s: %w", name, err)
			}
			v = strings.TrimSpace(string(b))
			secrets = append(secrets, v)
		case h.Secret != "":
			v = string(h.Secret)
			secrets = append(secrets, v)
		default:
			var err error
			if v, err = h.Value.render(d); err != nil {
				return secrets, fmt.Errorf("render header %s: %w", name, err)
			}
		}
		req.Header.Set(name, v)
	}
	return secrets, nil
}

// readCapped reads at most max bytes of r and says whether there was more.
func readCapped(r io.Reader, max int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > max {
		return b[:max], true, nil
	}
	return b, false, nil
}
