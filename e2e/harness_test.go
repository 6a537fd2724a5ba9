// Package e2e runs augur between the real Prometheus and Alertmanager
// binaries (installed into .bin/ by `make deps`) and httptest servers that
// stand in for the downstream receivers.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// augurBin is the augur binary built once by TestMain.
var augurBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "augur-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	augurBin = filepath.Join(dir, "augur")
	build := exec.Command("go", "build", "-o", augurBin, "../cmd/augur")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build augur:", err)
		return 1
	}
	return m.Run()
}

// binary returns the path of a pinned real binary from .bin/, failing the
// test with the command that installs it when it is missing.
func binary(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("AUGUR_BIN_DIR")
	if dir == "" {
		dir = filepath.Join("..", ".bin")
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	require.NoError(t, err)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found at %s: run `make deps` first (%v)", name, p, err)
	}
	return p
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// process is a real binary running for a test. Its output goes to a log
// file that is printed when the test fails.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func start(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Start(), "start %s", name)
	p := &process{t: t, name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() //nolint:errcheck // a killed process exits non-zero by design.
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// stop ends the process with SIGTERM, then SIGKILL.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited meanwhile.
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill() //nolint:errcheck
		<-p.done
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (p *process) kill() {
	require.NoError(p.t, p.cmd.Process.Kill())
	<-p.done
}

func (p *process) dumpLog() {
	b, err := os.ReadFile(p.log)
	if err != nil {
		p.t.Logf("%s: read log: %v", p.name, err)
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	p.t.Logf("---- last lines of %s's log (%s) ----\n%s", p.name, p.log, strings.Join(lines, "\n"))
}

// waitHTTP polls url until it answers 200 or the timeout passes.
func waitHTTP(t *testing.T, p *process, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s was ready", p.name, url)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) //nolint:errcheck
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s not ready after %s", p.name, url, timeout)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// augur is a running augur with its config and store in a test directory.
type augur struct {
	*process
	port    int
	dir     string
	cfgPath string
}

func startAugur(t *testing.T, config string) *augur {
	t.Helper()
	return startAugurOn(t, freePort(t), config)
}

// startAugurOn starts augur on the given port.
func startAugurOn(t *testing.T, port int, config string) *augur {
	t.Helper()
	dir := t.TempDir()
	a := &augur{port: port, dir: dir, cfgPath: writeFile(t, dir, "augur.yml", config)}
	a.restart(t)
	return a
}

// restart starts augur (again) on the same port, config and store.
func (a *augur) restart(t *testing.T) {
	t.Helper()
	a.process = start(t, "augur", augurBin,
		"--config.file="+a.cfgPath,
		"--storage.path="+filepath.Join(a.dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", a.port),
		"--log.level=debug")
	waitHTTP(t, a.process, a.url("/-/ready"), 30*time.Second)
}

func (a *augur) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", a.port, path)
}

// metric returns the value of one sample of augur's /metrics, matched by
// its name and labels as exposed (e.g. `augur_x_total{code="200"}`).
func (a *augur) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get(a.url("/metrics"))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			_, err := fmt.Sscan(rest, &v)
			require.NoError(t, err)
			return v
		}
	}
	t.Fatalf("series %s not in augur's /metrics", series)
	return 0
}

// startAlertmanager runs the real Alertmanager routing every alert, one
// group per alertname, to augur's receiver.
func startAlertmanager(t *testing.T, augurURL string) (*process, string) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	cfg := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`
route:
  receiver: augur
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: augur
    webhook_configs:
      - url: %s
        send_resolved: true
`, augurURL))
	p := start(t, "alertmanager", binary(t, "alertmanager"),
		"--config.file="+cfg,
		"--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, p, url+"/-/ready", 30*time.Second)
	return p, url
}

// startPrometheus runs the real Prometheus on port with config (written
// to dir, its TSDB there too) and waits until it is ready. Alerts are
// resent every second, not every minute: the first evaluation may come
// before Prometheus has discovered the Alertmanager.
func startPrometheus(t *testing.T, dir string, port int, config string) {
	t.Helper()
	p := start(t, "prometheus", binary(t, "prometheus"),
		"--rules.alert.resend-delay=1s",
		"--config.file="+writeFile(t, dir, "prometheus.yml", config),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	waitHTTP(t, p, fmt.Sprintf("http://127.0.0.1:%d/-/ready", port), 60*time.Second)
}

// postAlerts sends firing alerts on service e2e to Alertmanager's API, as
// Prometheus would.
func postAlerts(ctx context.Context, amURL string, names ...string) error {
	return postAlertsOn(ctx, amURL, "e2e", names...)
}

// postAlertsOn sends firing alerts on a service to Alertmanager's API.
func postAlertsOn(ctx context.Context, amURL, service string, names ...string) error {
	type postable struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
	}
	alerts := make([]postable, len(names))
	for i, n := range names {
		alerts[i] = postable{
			Labels:      map[string]string{"alertname": n, "service": service, "severity": "page"},
			Annotations: map[string]string{"summary": "e2e alert " + n},
			StartsAt:    time.Now(),
		}
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, amURL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body) //nolint:errcheck
		return fmt.Errorf("alertmanager answered %s: %s", resp.Status, b)
	}
	return nil
}

// webhookMessage is what Alertmanager's webhook integration posts (v4).
type webhookMessage struct {
	Version  string `json:"version"`
	GroupKey string `json:"groupKey"`
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		Fingerprint string            `json:"fingerprint"`
	} `json:"alerts"`
}

// sink stands in for a downstream webhook receiver. It refuses payloads
// that Alertmanager's webhook format does not allow, answers 503 (which
// Alertmanager's webhook integration retries) while failing, and records
// what it accepted.
type sink struct {
	srv   *httptest.Server
	delay time.Duration

	mu       sync.Mutex
	failing  bool
	messages []webhookMessage
	refused  []string
	failures int
}

func newSink(t *testing.T, delay time.Duration) *sink {
	s := &sink{delay: delay}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	time.Sleep(s.delay)
	var m webhookMessage
	err := json.NewDecoder(r.Body).Decode(&m)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.refused = append(s.refused, "malformed JSON: "+err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
	case m.Version != "4" || m.GroupKey == "" || len(m.Alerts) == 0:
		s.refused = append(s.refused, fmt.Sprintf("not a v4 webhook payload: version=%q groupKey=%q alerts=%d", m.Version, m.GroupKey, len(m.Alerts)))
		http.Error(w, "bad payload", http.StatusBadRequest)
	case s.failing:
		s.failures++
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
	default:
		s.messages = append(s.messages, m)
	}
}

func (s *sink) setFailing(f bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = f
}

// firing returns how often each alertname arrived firing.
func (s *sink) firing() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, m := range s.messages {
		for _, a := range m.Alerts {
			if a.Status == "firing" {
				out[a.Labels["alertname"]]++
			}
		}
	}
	return out
}

func (s *sink) snapshot() (messages []webhookMessage, refused []string, failures int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhookMessage(nil), s.messages...), append([]string(nil), s.refused...), s.failures
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
