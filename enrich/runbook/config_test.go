package runbook

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"
)

// document stands in for augur.yml, which embeds the section under
// runbooks:.
type document struct {
	Runbooks *Config `yaml:"runbooks"`
}

// parse decodes a document strictly, as augur's config loader does.
func parse(t testing.TB, content string) (Config, error) {
	t.Helper()
	var doc document
	if err := yaml.UnmarshalStrict([]byte(content), &doc); err != nil {
		return Config{}, err
	}
	if doc.Runbooks == nil {
		return DefaultConfig(), nil
	}
	return *doc.Runbooks, nil
}

func TestConfigGood(t *testing.T) {
	content, err := os.ReadFile("testdata/runbooks.good.yml")
	require.NoError(t, err)
	cfg, err := parse(t, string(content))
	require.NoError(t, err)
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)
	cfg.SetDirectory(dir)

	require.Equal(t, int64(65536), cfg.MaxResponseBytes)
	require.Equal(t, model.Duration(5*time.Second), cfg.StepTimeout)
	require.Equal(t, "http://loki:3100", cfg.Loki.URL.String())
	require.Equal(t, filepath.Join(dir, "secrets/token"), cfg.Loki.HTTPConfig.BasicAuth.PasswordFile)

	dr := cfg.ByCause["deployment_regression"]
	require.Len(t, dr, 2)
	h := dr[0].HTTPCheck
	require.Equal(t, "GET", h.Method, "default method")
	require.Equal(t, 200, h.ExpectStatus)
	require.Equal(t, "{{ .Labels.alertname }}", h.Headers["X-Alert"].Value.String(), "a plain string is a header value")
	require.Equal(t, filepath.Join(dir, "secrets/token"), h.Headers["Authorization"].SecretFile, "relative to the config's directory")
	require.Equal(t, model.Duration(15*time.Minute), dr[1].LogQuery.Since, "default since")
	require.Equal(t, 5, dr[1].LogQuery.Limit, "default limit")

	her := cfg.ByAlertname["HighErrorRate"]
	require.Len(t, her, 4)
	require.Equal(t, model.Duration(2*time.Second), her[0].Timeout)
	require.Equal(t, "HEAD", her[3].HTTPCheck.Method)
	require.NotNil(t, her[3].HTTPCheck.bodyRegexp)

	_, err = NewRunner(cfg, nil)
	require.NoError(t, err)
}

func TestConfigDefaults(t *testing.T) {
	for _, content := range []string{"", "runbooks: {}", "runbooks:\n  by_alertname: {}"} {
		cfg, err := parse(t, content)
		require.NoError(t, err, content)
		require.Equal(t, int64(64<<10), cfg.MaxResponseBytes, content)
		require.Equal(t, model.Duration(5*time.Second), cfg.StepTimeout, content)
	}
}

func TestConfigErrors(t *testing.T) {
	const step = "runbooks.by_alertname.A[0]"
	cases := []struct {
		name, yaml, err string
	}{
		{"zero max bytes", "max_response_bytes: 0", "runbooks.max_response_bytes: must be positive"},
		{"zero step timeout", "step_timeout: 0s", "runbooks.step_timeout: must be positive"},
		{"unknown key", "allowed: [x]", "yaml: unmarshal errors:\n  line 2: field allowed not found in type runbook.plain"},
		{"star host", `allowed_hosts: ["*"]`, `runbooks.allowed_hosts[0]: "*" is not a host name, an IP address or *.domain`},
		{"URL as host", `allowed_hosts: [ok, "http://x"]`, `runbooks.allowed_hosts[1]: "http://x" is not a host name, an IP address or *.domain`},
		{"inner star", `allowed_hosts: ["a.*.com"]`, `runbooks.allowed_hosts[0]: "a.*.com" is not a host name, an IP address or *.domain`},
		{"wildcard IP", `allowed_hosts: ["*.10.0.0.1"]`, `runbooks.allowed_hosts[0]: "*.10.0.0.1": a wildcard covers names, not IP addresses`},
		{"empty host", `allowed_hosts: [""]`, `runbooks.allowed_hosts[0]: must not be empty`},
		{"loki without url", "loki: {}", "runbooks.loki.url: is required"},
		{"loki not allowed", "loki: {url: http://loki:3100}", `runbooks.loki.url: host "loki" is not in runbooks.allowed_hosts`},
		{"loki bad http_config", "allowed_hosts: [loki]\nloki: {url: http://loki:3100, http_config: {bearer_token: a, bearer_token_file: b}}",
			"runbooks.loki: at most one of bearer_token & bearer_token_file must be configured"},
		{"no name", "by_alertname: {A: [{tcp_check: {address: 'h:1'}}]}", step + ".name: is required"},
		{"no kind", "by_alertname: {A: [{name: x}]}", step + ": needs one of http_check, prometheus_query, log_query, tcp_check, dns_lookup"},
		{"two kinds", "by_alertname: {A: [{name: x, http_check: {url: 'http://h/'}, tcp_check: {address: 'h:1'}}]}",
			step + ": has http_check and tcp_check: a step does one thing, split it"},
		{"twice", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, tcp_check: {address: 'h:1'}}, {name: x, tcp_check: {address: 'h:2'}}]}",
			`runbooks.by_alertname.A[1].name: "x" is used twice in runbooks.by_alertname.A`},
		{"post", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', method: POST}}]}",
			step + `.http_check.method: "POST" is not allowed: only GET and HEAD`},
		{"no url", "by_alertname: {A: [{name: x, http_check: {method: GET}}]}", step + ".http_check.url: is required"},
		{"status", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', expect_status: 42}}]}",
			step + ".http_check.expect_status: 42 is not an HTTP status"},
		{"url not allowed", "allowed_hosts: [h]\nby_cause: {c: [{name: x, http_check: {url: 'http://evil.example/'}}]}",
			`runbooks.by_cause.c[0].http_check.url: host "evil.example" is not in runbooks.allowed_hosts`},
		{"url userinfo", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h@h/'}}]}",
			step + `.http_check.url: "http://h@h/": user information in the URL is not allowed`},
		{"url scheme", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'file:///etc/passwd'}}]}",
			step + `.http_check.url: "file:///etc/passwd": scheme must be http or https`},
		{"bad template", "by_alertname: {A: [{name: x, http_check: {url: 'http://{{ .Labels.x '}}]}",
			step + ".http_check.url: template: url:1: unclosed action"},
		{"both body checks", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', expect_body: a, expect_body_regexp: b}}]}",
			step + ".http_check: expect_body and expect_body_regexp are mutually exclusive"},
		{"bad regexp", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', expect_body_regexp: '('}}]}",
			step + ".http_check.expect_body_regexp: error parsing regexp: missing closing ): `(`"},
		{"header two values", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', headers: {X-A: {value: a, secret: b}}}}]}",
			step + ".http_check.headers.X-A: needs exactly one of value, secret and secret_file"},
		{"host header", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', headers: {host: evil}}}]}",
			step + ".http_check.headers.host: the Host header cannot be set, the URL's host is used"},
		{"bad header name", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, http_check: {url: 'http://h/', headers: {'a b': c}}}]}",
			step + `.http_check.headers.a b: "a b" is not a valid header name`},
		{"log without loki", "by_alertname: {A: [{name: x, log_query: {query: '{a=\"b\"}'}}]}", step + ".log_query: needs runbooks.loki"},
		{"log limit", "allowed_hosts: [loki]\nloki: {url: http://loki:3100}\nby_alertname: {A: [{name: x, log_query: {query: '{a=\"b\"}', limit: 0}}]}",
			step + ".log_query.limit: 0 is not within [1, 20]"},
		{"log since", "allowed_hosts: [loki]\nloki: {url: http://loki:3100}\nby_alertname: {A: [{name: x, log_query: {query: '{a=\"b\"}', since: 0s}}]}",
			step + ".log_query.since: must be positive"},
		{"tcp no port", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, tcp_check: {address: h}}]}",
			step + `.tcp_check.address: "h" is not host:port: address h: missing port in address`},
		{"tcp bad port", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, tcp_check: {address: 'h:http'}}]}",
			step + `.tcp_check.address: "h:http": port "http" is not a number in [1, 65535]`},
		{"tcp not allowed", "allowed_hosts: [h]\nby_alertname: {A: [{name: x, tcp_check: {address: '10.0.0.1:22'}}]}",
			step + `.tcp_check.address: host "10.0.0.1" is not in runbooks.allowed_hosts`},
		{"dns not allowed", "by_alertname: {A: [{name: x, dns_lookup: {host: exfil.example}}]}",
			step + `.dns_lookup.host: host "exfil.example" is not in runbooks.allowed_hosts`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, "runbooks:\n  "+indent(c.yaml))
			require.EqualError(t, err, c.err)
		})
	}
}

// indent indents the lines after the first by two spaces.
func indent(s string) string {
	out := []rune{}
	for _, r := range s {
		out = append(out, r)
		if r == '\n' {
			out = append(out, ' ', ' ')
		}
	}
	return string(out)
}

func TestAllowedHosts(t *testing.T) {
	l, err := parseHostList([]string{"Checkout.Internal.", "*.svc.cluster.local", "127.0.0.1", "[::1]"})
	require.NoError(t, err)
	cases := []struct {
		host string
		want bool
	}{
		{"checkout.internal", true},
		{"CHECKOUT.internal.", true},
		{"x.checkout.internal", false},
		{"a.svc.cluster.local", true},
		{"a.b.svc.cluster.local", true},
		{"svc.cluster.local", false},
		{"evilsvc.cluster.local", false},
		{"a.svc.cluster.local.evil.com", false},
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", true},
		{"[::1]", true},
		{"0:0:0:0:0:0:0:1", true},
		{"localhost", false},
		{"", false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, l.allows(c.host), c.host)
	}
}

func TestSecretsDoNotLeakFromConfig(t *testing.T) {
	cfg, err := parse(t, `
runbooks:
  allowed_hosts: [h, loki]
  loki: {url: http://loki:3100, http_config: {authorization: {credentials: loki-s3cret}}}
  by_alertname:
    A:
      - name: x
        http_check: {url: 'http://h/', headers: {Authorization: {secret: hdr-s3cret}}}
`)
	require.NoError(t, err)
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	require.NotContains(t, string(out), "s3cret")
	require.Contains(t, string(out), "<secret>")
}

// FuzzConfig checks that no input makes the section's loading panic, and
// that a section that loads gives a runner.
func FuzzConfig(f *testing.F) {
	good, err := os.ReadFile("testdata/runbooks.good.yml")
	require.NoError(f, err)
	f.Add(string(good))
	f.Add("runbooks: {allowed_hosts: ['*.a.b'], by_alertname: {A: [{name: x, tcp_check: {address: 'x.a.b:1'}}]}}")
	f.Fuzz(func(t *testing.T, content string) {
		cfg, err := parse(t, content)
		if err != nil {
			return
		}
		_, err = NewRunner(cfg, nil)
		require.NoError(t, err)
	})
}
