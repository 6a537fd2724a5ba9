package runbook

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// Config is the runbooks: section of augur.yml:
//
//	runbooks:
//	  allowed_hosts: [checkout.internal, "*.svc.cluster.local", 127.0.0.1]
//	  max_response_bytes: 65536
//	  step_timeout: 5s
//	  loki: {url: http://loki:3100, http_config: {...}}
//	  by_cause:
//	    deployment_regression: [steps...]
//	  by_alertname:
//	    HighErrorRate: [steps...]
type Config struct {
	// AllowedHosts are the hosts steps may reach: names or IP addresses
	// matched exactly (any port), or "*.domain" for any name below domain.
	// Any step that goes out to the network needs its host here.
	AllowedHosts []string `yaml:"allowed_hosts,omitempty"`
	// MaxResponseBytes caps how much of a response body is read.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// StepTimeout bounds a step that sets no timeout of its own.
	StepTimeout model.Duration `yaml:"step_timeout"`
	// Loki is where log_query steps run; required when there are any.
	Loki *LokiConfig `yaml:"loki,omitempty"`
	// ByCause and ByAlertname map a root cause or an alertname to the steps
	// to run for it.
	ByCause     map[string][]Step `yaml:"by_cause,omitempty"`
	ByAlertname map[string][]Step `yaml:"by_alertname,omitempty"`
}

// DefaultConfig returns the default runbooks section: no steps, 64 KiB of
// response and 5s per step.
func DefaultConfig() Config {
	return Config{
		MaxResponseBytes: 64 << 10,
		StepTimeout:      model.Duration(5 * time.Second),
	}
}

// UnmarshalYAML implements yaml.Unmarshaler: defaults, then the section,
// then validation with errors that name the key path.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultConfig()
	type plain Config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	_, err := c.check()
	return err
}

// check validates the section, parses its templates and returns its
// allow-list.
func (c *Config) check() (hostList, error) {
	switch {
	case c.MaxResponseBytes <= 0:
		return hostList{}, errors.New("runbooks.max_response_bytes: must be positive")
	case c.StepTimeout <= 0:
		return hostList{}, errors.New("runbooks.step_timeout: must be positive")
	}
	allowed, err := parseHostList(c.AllowedHosts)
	if err != nil {
		return hostList{}, err
	}
	if c.Loki != nil {
		if c.Loki.URL.URL == nil {
			return hostList{}, errors.New("runbooks.loki.url: is required")
		}
		if err := checkURL(c.Loki.URL.URL, allowed); err != nil {
			return hostList{}, fmt.Errorf("runbooks.loki.url: %w", err)
		}
	}
	err = c.eachStep(func(path string, s *Step) error {
		return s.validate(path, c.Loki != nil, allowed)
	})
	return allowed, err
}

// eachStep calls f with every step and its key path, in a stable order,
// and stops at the first error. It also refuses a step name used twice in
// one list.
func (c *Config) eachStep(f func(path string, s *Step) error) error {
	for _, section := range []struct {
		key   string
		steps map[string][]Step
	}{{"by_cause", c.ByCause}, {"by_alertname", c.ByAlertname}} {
		keys := make([]string, 0, len(section.steps))
		for k := range section.steps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			steps := section.steps[k]
			names := map[string]bool{}
			for i := range steps {
				path := fmt.Sprintf("runbooks.%s.%s[%d]", section.key, k, i)
				if err := f(path, &steps[i]); err != nil {
					return err
				}
				if names[steps[i].Name] {
					return fmt.Errorf("%s.name: %q is used twice in runbooks.%s.%s", path, steps[i].Name, section.key, k)
				}
				names[steps[i].Name] = true
			}
		}
	}
	return nil
}

// SetDirectory makes the relative file paths of the section (header
// secret files, Loki's http_config files) relative to dir, the config
// file's directory.
func (c *Config) SetDirectory(dir string) {
	if c.Loki != nil {
		c.Loki.HTTPConfig.SetDirectory(dir)
	}
	for _, m := range []map[string][]Step{c.ByCause, c.ByAlertname} {
		for _, steps := range m {
			for _, s := range steps {
				if s.HTTPCheck == nil {
					continue
				}
				for name, h := range s.HTTPCheck.Headers {
					if h.SecretFile != "" && !filepath.IsAbs(h.SecretFile) {
						h.SecretFile = filepath.Join(dir, h.SecretFile)
						s.HTTPCheck.Headers[name] = h
					}
				}
			}
		}
	}
}

// LokiConfig says where log_query steps run.
type LokiConfig struct {
	URL        commoncfg.URL              `yaml:"url"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *LokiConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = LokiConfig{HTTPConfig: commoncfg.DefaultHTTPClientConfig}
	type plain LokiConfig
	if err := unmarshal((*plain)(c)); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// It names its line and key already.
			return err
		}
		return fmt.Errorf("runbooks.loki: %w", err)
	}
	if err := c.HTTPConfig.Validate(); err != nil {
		return fmt.Errorf("runbooks.loki.http_config: %w", err)
	}
	return nil
}

// Step is one diagnostic step: a Name and exactly one of its kinds.
type Step struct {
	Name string `yaml:"name"`
	// Timeout bounds the step; zero means runbooks.step_timeout.
	Timeout model.Duration `yaml:"timeout,omitempty"`

	HTTPCheck       *HTTPCheck       `yaml:"http_check,omitempty"`
	PrometheusQuery *PrometheusQuery `yaml:"prometheus_query,omitempty"`
	LogQuery        *LogQuery        `yaml:"log_query,omitempty"`
	TCPCheck        *TCPCheck        `yaml:"tcp_check,omitempty"`
	DNSLookup       *DNSLookup       `yaml:"dns_lookup,omitempty"`
}

// kind returns the key of the step's kind, or an error when it has not
// exactly one.
func (s *Step) kind() (string, error) {
	var kinds []string
	for k, set := range map[string]bool{
		"http_check":       s.HTTPCheck != nil,
		"prometheus_query": s.PrometheusQuery != nil,
		"log_query":        s.LogQuery != nil,
		"tcp_check":        s.TCPCheck != nil,
		"dns_lookup":       s.DNSLookup != nil,
	} {
		if set {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		return "", errors.New("needs one of http_check, prometheus_query, log_query, tcp_check, dns_lookup")
	case 1:
		return kinds[0], nil
	}
	sort.Strings(kinds)
	return "", fmt.Errorf("has %s: a step does one thing, split it", strings.Join(kinds, " and "))
}

func (s *Step) validate(path string, loki bool, allowed hostList) error {
	if s.Name == "" {
		return fmt.Errorf("%s.name: is required", path)
	}
	kind, err := s.kind()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	path += "." + kind
	switch {
	case s.HTTPCheck != nil:
		return s.HTTPCheck.validate(path, allowed)
	case s.PrometheusQuery != nil:
		return s.PrometheusQuery.Query.compile(path + ".query")
	case s.LogQuery != nil:
		if !loki {
			return fmt.Errorf("%s: needs runbooks.loki", path)
		}
		return s.LogQuery.validate(path)
	case s.TCPCheck != nil:
		return s.TCPCheck.validate(path, allowed)
	default:
		return s.DNSLookup.validate(path, allowed)
	}
}

// HTTPCheck requests URL (GET or HEAD only) and expects a status (any 2xx
// when ExpectStatus is 0) and, optionally, a body containing ExpectBody or
// matching ExpectBodyRegexp (the first max_response_bytes of it).
type HTTPCheck struct {
	URL          Template `yaml:"url"`
	Method       string   `yaml:"method,omitempty"`
	ExpectStatus int      `yaml:"expect_status,omitempty"`
	ExpectBody   Template `yaml:"expect_body,omitempty"`
	// ExpectBodyRegexp is a regular expression (RE2), not a template.
	ExpectBodyRegexp string `yaml:"expect_body_regexp,omitempty"`
	// Headers are sent with the request: a template, or a secret.
	Headers map[string]Header `yaml:"headers,omitempty"`

	bodyRegexp *regexp.Regexp
}

// UnmarshalYAML implements yaml.Unmarshaler: the method defaults to GET.
func (h *HTTPCheck) UnmarshalYAML(unmarshal func(any) error) error {
	*h = HTTPCheck{Method: "GET"}
	type plain HTTPCheck
	return unmarshal((*plain)(h))
}

func (h *HTTPCheck) validate(path string, allowed hostList) error {
	if h.Method != "GET" && h.Method != "HEAD" {
		return fmt.Errorf("%s.method: %q is not allowed: only GET and HEAD", path, h.Method)
	}
	if h.ExpectStatus != 0 && (h.ExpectStatus < 100 || h.ExpectStatus > 599) {
		return fmt.Errorf("%s.expect_status: %d is not an HTTP status", path, h.ExpectStatus)
	}
	if h.ExpectBody.text != "" && h.ExpectBodyRegexp != "" {
		return fmt.Errorf("%s: expect_body and expect_body_regexp are mutually exclusive", path)
	}
	if h.URL.text == "" {
		return fmt.Errorf("%s.url: is required", path)
	}
	if err := h.URL.compile(path + ".url"); err != nil {
		return err
	}
	if !h.URL.templated() {
		// A URL without a template can be checked now rather than at
		// every alert.
		u, err := url.Parse(h.URL.text)
		if err != nil {
			return fmt.Errorf("%s.url: %w", path, err)
		}
		if err := checkURL(u, allowed); err != nil {
			return fmt.Errorf("%s.url: %w", path, err)
		}
	}
	if err := h.ExpectBody.compile(path + ".expect_body"); err != nil {
		return err
	}
	if h.ExpectBodyRegexp != "" {
		re, err := regexp.Compile(h.ExpectBodyRegexp)
		if err != nil {
			return fmt.Errorf("%s.expect_body_regexp: %w", path, err)
		}
		h.bodyRegexp = re
	}
	names := make([]string, 0, len(h.Headers))
	for name := range h.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		hdr := h.Headers[name]
		if err := hdr.validate(fmt.Sprintf("%s.headers.%s", path, name), name); err != nil {
			return err
		}
		h.Headers[name] = hdr
	}
	return nil
}

// Header is the value of a request header: a template (written as a
// plain string or as value:), or a secret given inline (secret:) or, better,
// read from a file at each request (secret_file:).
type Header struct {
	Value      Template         `yaml:"value,omitempty"`
	Secret     commoncfg.Secret `yaml:"secret,omitempty"`
	SecretFile string           `yaml:"secret_file,omitempty"`
}

// UnmarshalYAML implements yaml.Unmarshaler: a plain string is a value.
func (h *Header) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*h = Header{Value: Template{text: s}}
		return nil
	}
	type plain Header
	return unmarshal((*plain)(h))
}

func (h *Header) validate(path, name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) {
		return fmt.Errorf("%s: %q is not a valid header name", path, name)
	}
	if strings.EqualFold(name, "Host") {
		return fmt.Errorf("%s: the Host header cannot be set, the URL's host is used", path)
	}
	set := 0
	for _, v := range []string{h.Value.text, string(h.Secret), h.SecretFile} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("%s: needs exactly one of value, secret and secret_file", path)
	}
	return h.Value.compile(path + ".value")
}

// PrometheusQuery runs Query as an instant query at the time of the run.
type PrometheusQuery struct {
	Query Template `yaml:"query"`
}

// LogQuery runs a LogQL Query over the last Since (default 15m) against
// Loki, and reports the number of lines and the latest Limit (default 5).
type LogQuery struct {
	Query Template       `yaml:"query"`
	Since model.Duration `yaml:"since,omitempty"`
	Limit int            `yaml:"limit,omitempty"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *LogQuery) UnmarshalYAML(unmarshal func(any) error) error {
	*l = LogQuery{Since: model.Duration(15 * time.Minute), Limit: 5}
	type plain LogQuery
	return unmarshal((*plain)(l))
}

// maxLogLines bounds log_query.limit: the lines go into a notification.
const maxLogLines = 20

func (l *LogQuery) validate(path string) error {
	if l.Since <= 0 {
		return fmt.Errorf("%s.since: must be positive", path)
	}
	if l.Limit < 1 || l.Limit > maxLogLines {
		return fmt.Errorf("%s.limit: %d is not within [1, %d]", path, l.Limit, maxLogLines)
	}
	return l.Query.compile(path + ".query")
}

// TCPCheck opens, and closes, a TCP connection to Address (host:port).
type TCPCheck struct {
	Address Template `yaml:"address"`
}

func (t *TCPCheck) validate(path string, allowed hostList) error {
	if err := t.Address.compile(path + ".address"); err != nil {
		return err
	}
	if t.Address.templated() {
		return nil
	}
	if _, err := checkAddress(t.Address.text, allowed); err != nil {
		return fmt.Errorf("%s.address: %w", path, err)
	}
	return nil
}

// DNSLookup resolves Host and, when Expect is set, expects it among the
// addresses.
type DNSLookup struct {
	Host   Template `yaml:"host"`
	Expect Template `yaml:"expect,omitempty"`
}

func (d *DNSLookup) validate(path string, allowed hostList) error {
	if err := d.Host.compile(path + ".host"); err != nil {
		return err
	}
	if err := d.Expect.compile(path + ".expect"); err != nil {
		return err
	}
	if !d.Host.templated() && !allowed.allows(d.Host.text) {
		return fmt.Errorf("%s.host: %w", path, notAllowed(d.Host.text))
	}
	return nil
}

// Template is a string parameter: a Go text/template over the alert's
// Labels and Annotations. A missing key is an error.
type Template struct {
	text string
	tmpl *template.Template
}

// UnmarshalYAML implements yaml.Unmarshaler. The template is parsed when
// the section is validated, so that its error can name the key path.
func (t *Template) UnmarshalYAML(unmarshal func(any) error) error {
	return unmarshal(&t.text)
}

// MarshalYAML implements yaml.Marshaler.
func (t Template) MarshalYAML() (any, error) {
	return t.text, nil
}

// String returns the template's text.
func (t Template) String() string { return t.text }

func (t *Template) compile(path string) error {
	if t.text == "" || !t.templated() {
		return nil
	}
	tmpl, err := template.New(path[strings.LastIndex(path, ".")+1:]).Option("missingkey=error").Parse(t.text)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	t.tmpl = tmpl
	return nil
}

func (t *Template) templated() bool { return strings.Contains(t.text, "{{") }

// templateData is what templates see.
type templateData struct {
	Labels      map[string]string
	Annotations map[string]string
}

// render executes the template; one that was never compiled (a step built
// in code) is parsed here.
func (t *Template) render(d *templateData) (string, error) {
	if !t.templated() {
		return t.text, nil
	}
	tmpl := t.tmpl
	if tmpl == nil {
		c := Template{text: t.text}
		if err := c.compile("template"); err != nil {
			return "", err
		}
		tmpl = c.tmpl
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// hostList is a parsed allowed_hosts: exact hosts, and the suffixes
// (".svc.cluster.local") of the wildcard ones.
type hostList struct {
	exact    map[string]bool
	suffixes []string
}

func parseHostList(hosts []string) (hostList, error) {
	l := hostList{exact: map[string]bool{}}
	for i, h := range hosts {
		n := normalizeHost(h)
		rest, wildcard := strings.CutPrefix(n, "*.")
		ip := net.ParseIP(rest) != nil
		switch {
		case n == "":
			return l, fmt.Errorf("runbooks.allowed_hosts[%d]: must not be empty", i)
		case !ip && (rest == "" || strings.ContainsAny(rest, "*/\\@:?#%[] ")):
			return l, fmt.Errorf("runbooks.allowed_hosts[%d]: %q is not a host name, an IP address or *.domain", i, h)
		case wildcard && ip:
			return l, fmt.Errorf("runbooks.allowed_hosts[%d]: %q: a wildcard covers names, not IP addresses", i, h)
		case wildcard:
			l.suffixes = append(l.suffixes, "."+rest)
		default:
			l.exact[n] = true
		}
	}
	return l, nil
}

// allows says whether host (a name or an IP address, without port) may be
// reached.
func (l hostList) allows(host string) bool {
	h := normalizeHost(host)
	if h == "" {
		return false
	}
	if l.exact[h] {
		return true
	}
	if net.ParseIP(h) != nil {
		return false
	}
	for _, s := range l.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// normalizeHost lower-cases a host, strips IPv6 brackets and a final dot,
// and writes an IP address in its canonical form.
func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

func notAllowed(host string) error {
	return fmt.Errorf("host %q is not in runbooks.allowed_hosts", host)
}

// checkURL refuses a URL that is not http(s), carries user information or
// points at a host that is not allowed.
func checkURL(u *url.URL, allowed hostList) error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: scheme must be http or https", u.Redacted())
	case u.User != nil:
		return fmt.Errorf("%q: user information in the URL is not allowed", u.Redacted())
	case u.Hostname() == "":
		return fmt.Errorf("%q: host is missing", u.Redacted())
	case !allowed.allows(u.Hostname()):
		return notAllowed(u.Hostname())
	}
	return nil
}

// checkAddress checks a host:port and returns the host.
func checkAddress(addr string, allowed hostList) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return "", fmt.Errorf("%q: port %q is not a number in [1, 65535]", addr, port)
	}
	if !allowed.allows(host) {
		return "", notAllowed(host)
	}
	return host, nil
}
