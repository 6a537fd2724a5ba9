package runbook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/enrich"
)

// Result is the outcome of one step. Output says what was found in a line
// or two; Error, when OK is false, why the step failed or its expectation
// did not hold.
type Result struct {
	Step     string
	OK       bool
	Output   string
	Error    string
	Duration time.Duration
}

// Runner runs steps. It holds the HTTP clients, whose connections are
// reused across runs, so build one per config.
type Runner struct {
	allowed     hostList
	maxBytes    int64
	stepTimeout time.Duration
	http        *http.Client
	loki        *lokiClient
	dialer      *net.Dialer
	resolver    *net.Resolver
	now         func() time.Time
}

// NewRunner returns a runner for the config; now is its clock (nil:
// time.Now). The config is validated again, so that one built in code
// gets the same checks as one loaded from a file.
func NewRunner(cfg Config, now func() time.Time) (*Runner, error) {
	allowed, err := cfg.check()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	r := &Runner{
		allowed:     allowed,
		maxBytes:    cfg.MaxResponseBytes,
		stepTimeout: time.Duration(cfg.StepTimeout),
		dialer:      &net.Dialer{KeepAlive: 30 * time.Second},
		resolver:    &net.Resolver{},
		now:         now,
	}
	r.http = &http.Client{
		// No Proxy: a proxy from the environment would be reached for
		// every host, past the allow-list.
		Transport: &http.Transport{
			DialContext:         r.dial,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        100,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		CheckRedirect: r.checkRedirect,
	}
	if cfg.Loki != nil {
		c, err := commoncfg.NewClientFromConfig(cfg.Loki.HTTPConfig, "runbook_loki", commoncfg.WithDialContextFunc(r.dial))
		if err != nil {
			return nil, fmt.Errorf("runbooks.loki.http_config: %w", err)
		}
		if cfg.Loki.HTTPConfig.FollowRedirects {
			c.CheckRedirect = r.checkRedirect
		}
		r.loki = &lokiClient{url: cfg.Loki.URL.URL, client: c}
	}
	return r, nil
}

// dial connects only to allowed hosts: the last line of the allow-list,
// behind the checks of each URL and redirect.
func (r *Runner) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if !r.allowed.allows(host) {
		return nil, fmt.Errorf("dial %s: %w", addr, notAllowed(host))
	}
	return r.dialer.DialContext(ctx, network, addr)
}

// maxRedirects bounds the redirects an http_check follows.
const maxRedirects = 5

func (r *Runner) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if err := checkURL(req.URL, r.allowed); err != nil {
		return fmt.Errorf("redirect refused: %w", err)
	}
	return nil
}

// Run runs the steps concurrently, each under its timeout and ctx, and
// returns their results in the order of steps.
func (r *Runner) Run(ctx context.Context, steps []Step, alert model.Alert, q enrich.Querier) []Result {
	p := r.Start(ctx, steps, alert, q)
	<-p.Done()
	res, _ := p.Results()
	return res
}

// Pending is a run in progress.
type Pending struct {
	done    chan struct{}
	mu      sync.Mutex
	results []Result
	ended   []bool
}

// Start starts the steps concurrently, each under its timeout and ctx, and
// returns at once. To let steps outlive a deadline of ctx (and post their
// results later), pass context.WithoutCancel(ctx): each step still ends
// by its own timeout.
func (r *Runner) Start(ctx context.Context, steps []Step, alert model.Alert, q enrich.Querier) *Pending {
	p := &Pending{
		done:    make(chan struct{}),
		results: make([]Result, len(steps)),
		ended:   make([]bool, len(steps)),
	}
	d := &templateData{Labels: stringMap(alert.Labels), Annotations: stringMap(alert.Annotations)}
	var wg sync.WaitGroup
	for i := range steps {
		wg.Go(func() {
			res := r.runStep(ctx, &steps[i], d, q)
			p.mu.Lock()
			p.results[i], p.ended[i] = res, true
			p.mu.Unlock()
		})
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()
	return p
}

// Done is closed when every step has ended.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Results returns the results of the steps that have ended, in the order
// of the steps, and whether that is all of them.
func (p *Pending) Results() (res []Result, complete bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	complete = true
	for i, ok := range p.ended {
		if ok {
			res = append(res, p.results[i])
		} else {
			complete = false
		}
	}
	return res, complete
}

func stringMap(ls model.LabelSet) map[string]string {
	m := make(map[string]string, len(ls))
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m
}

// runStep runs one step under its timeout, turning a panic into a failed
// result: a step must not take the process down.
func (r *Runner) runStep(ctx context.Context, s *Step, d *templateData, q enrich.Querier) (res Result) {
	timeout := cmp.Or(time.Duration(s.Timeout), r.stepTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res.Step = s.Name
	var secrets []string
	defer func() {
		if p := recover(); p != nil {
			res.Output, res.Error = "", fmt.Sprintf("panic: %v", p)
		}
		res.Duration = time.Since(start)
		res.OK = res.Error == ""
		res.Output, res.Error = scrub(res.Output, secrets), scrub(res.Error, secrets)
	}()
	var (
		out string
		err error
	)
	switch {
	case s.HTTPCheck != nil:
		out, secrets, err = r.httpCheck(ctx, s.HTTPCheck, d)
	case s.PrometheusQuery != nil:
		out, err = r.prometheusQuery(ctx, s.PrometheusQuery, d, q)
	case s.LogQuery != nil:
		out, err = r.logQuery(ctx, s.LogQuery, d)
	case s.TCPCheck != nil:
		out, err = r.tcpCheck(ctx, s.TCPCheck, d)
	case s.DNSLookup != nil:
		out, err = r.dnsLookup(ctx, s.DNSLookup, d)
	default:
		_, err = s.kind()
	}
	res.Output = out
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s: %w", enrich.Approx(time.Since(start)), err)
		}
		res.Error = err.Error()
	}
	return res
}

// scrub replaces the secrets in s with <secret>.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "<secret>")
		}
	}
	return s
}

func (r *Runner) prometheusQuery(ctx context.Context, pq *PrometheusQuery, d *templateData, q enrich.Querier) (string, error) {
	query, err := pq.Query.render(d)
	if err != nil {
		return "", fmt.Errorf("render query: %w", err)
	}
	if q == nil {
		return "", errors.New("no Prometheus to query")
	}
	v, err := q.Query(ctx, query, r.now())
	if err != nil {
		return "", fmt.Errorf("query %s: %w", query, err)
	}
	return summarise(v), nil
}

func (r *Runner) tcpCheck(ctx context.Context, t *TCPCheck, d *templateData) (string, error) {
	addr, err := t.Address.render(d)
	if err != nil {
		return "", fmt.Errorf("render address: %w", err)
	}
	if _, err := checkAddress(addr, r.allowed); err != nil {
		return "", err
	}
	conn, err := r.dial(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	if err := conn.Close(); err != nil {
		return "", fmt.Errorf("close connection to %s: %w", addr, err)
	}
	return fmt.Sprintf("%s accepts connections", addr), nil
}

func (r *Runner) dnsLookup(ctx context.Context, l *DNSLookup, d *templateData) (string, error) {
	host, err := l.Host.render(d)
	if err != nil {
		return "", fmt.Errorf("render host: %w", err)
	}
	if !r.allowed.allows(host) {
		// A lookup is a query sent out with the name in it.
		return "", notAllowed(host)
	}
	expect, err := l.Expect.render(d)
	if err != nil {
		return "", fmt.Errorf("render expect: %w", err)
	}
	addrs, err := r.resolver.LookupHost(ctx, host)
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", host, err)
	}
	out := fmt.Sprintf("%s → %s", host, shorten(strings.Join(addrs, ", "), 160))
	if expect == "" {
		return out, nil
	}
	want := net.ParseIP(expect)
	if want == nil {
		return out, fmt.Errorf("expect: %q is not an IP address", expect)
	}
	for _, a := range addrs {
		if want.Equal(net.ParseIP(a)) {
			return out, nil
		}
	}
	return out, fmt.Errorf("%s does not resolve to %s", host, expect)
}

// shorten cuts s to at most n runes, on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
