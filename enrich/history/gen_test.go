package history

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kind is a recurring kind of incident: what it looks like and what
// resolves it.
type kind struct {
	name       string
	services   []string
	alertnames []string
	signature  map[string]string
	cause      string
	// from and to are the hours (UTC, weekdays) it usually opens in.
	from, to   int
	priorities []string
	// minutes is the median time to resolve.
	minutes     float64
	resolution  string
	effective   []string
	ineffective []string
	// selfHeal is the share of its incidents that resolve by themselves.
	selfHeal float64
}

// kinds returns the eight recurring kinds of the synthetic history. Some
// are close on purpose: the checkout deploy and the payment provider
// outage share a service and an alert; the memory leak and the traffic
// surge both raise latency; the cert expiry and the DNS config push both
// step the error rate up and the traffic down.
func kinds() []kind {
	return []kind{
		{
			name: "checkout_bad_deploy", services: []string{"checkout"},
			alertnames: []string{"CheckoutHighErrorRate", "CheckoutHighLatency"},
			signature:  map[string]string{"error_rate": "sudden_increase", "latency": "sudden_increase", "request_rate": "stable", "cpu": "stable"},
			cause:      "deployment_regression", from: 9, to: 17, priorities: []string{"P3", "P2", "P1"}, minutes: 15,
			resolution: "rollback", effective: []string{"rollback"}, ineffective: []string{"restart pods", "scale out"},
		},
		{
			name: "db_lock_contention", services: []string{"orders", "postgres"},
			alertnames: []string{"PostgresSlowQueries", "OrdersHighLatency"},
			signature:  map[string]string{"database_latency": "sudden_increase", "latency": "gradual_increase", "cpu": "stable", "error_rate": "gradual_increase"},
			cause:      "database_issue", from: 0, to: 24, priorities: []string{"P3", "P2"}, minutes: 25,
			resolution: "manual_fix", effective: []string{"kill blocking query"}, ineffective: []string{"restart orders", "scale out"},
		},
		{
			name: "search_memory_leak", services: []string{"search"},
			alertnames: []string{"SearchMemoryHigh", "SearchOOMKilled"},
			signature:  map[string]string{"memory": "gradual_increase", "latency": "gradual_increase", "error_rate": "spike", "request_rate": "stable"},
			cause:      "resource_contention", from: 0, to: 8, priorities: []string{"P4", "P3"}, minutes: 10,
			resolution: "restart", effective: []string{"restart pods"}, ineffective: []string{"scale out"},
		},
		{
			name: "traffic_surge", services: []string{"api-gateway", "catalog"},
			alertnames: []string{"HighRequestRate", "CatalogHighLatency"},
			signature:  map[string]string{"request_rate": "sudden_increase", "latency": "sudden_increase", "cpu": "sudden_increase", "error_rate": "stable"},
			cause:      "traffic_anomaly", from: 18, to: 23, priorities: []string{"P3", "P2"}, minutes: 20,
			resolution: "scaling", effective: []string{"scale out", "enable rate limiting"}, ineffective: []string{"restart pods"}, selfHeal: 0.25,
		},
		{
			name: "cert_expiry", services: []string{"payments-api"},
			alertnames: []string{"CertificateExpiringSoon", "PaymentsTLSHandshakeErrors"},
			signature:  map[string]string{"error_rate": "step_change", "request_rate": "sudden_decrease", "latency": "stable"},
			cause:      "dependency_failure", from: 0, to: 24, priorities: []string{"P1"}, minutes: 40,
			resolution: "manual_fix", effective: []string{"renew certificate"}, ineffective: []string{"rollback", "restart pods"},
		},
		{
			name: "disk_full", services: []string{"logging", "elasticsearch"},
			alertnames: []string{"DiskSpaceLow", "ElasticsearchWriteRejected"},
			signature:  map[string]string{"error_rate": "gradual_increase", "latency": "gradual_increase", "request_rate": "stable"},
			cause:      "capacity_exhaustion", from: 0, to: 24, priorities: []string{"P4", "P3", "P2"}, minutes: 35,
			resolution: "manual_fix", effective: []string{"delete old indices", "expand volume"}, ineffective: []string{"restart pods"},
		},
		{
			name: "payment_provider_outage", services: []string{"checkout", "payments-api"},
			alertnames: []string{"CheckoutHighErrorRate", "PaymentProviderErrors"},
			signature:  map[string]string{"dependency_latency": "sudden_increase", "error_rate": "sudden_increase", "request_rate": "stable"},
			cause:      "dependency_failure", from: 0, to: 24, priorities: []string{"P2", "P1"}, minutes: 30,
			resolution: "failover", effective: []string{"fail over to secondary provider"}, ineffective: []string{"rollback", "restart pods"}, selfHeal: 0.2,
		},
		{
			name: "dns_config_push", services: []string{"edge-proxy", "auth"},
			alertnames: []string{"AuthHighErrorRate", "DNSResolutionFailures"},
			signature:  map[string]string{"error_rate": "step_change", "request_rate": "sudden_decrease", "dependency_latency": "spike"},
			cause:      "deployment_regression", from: 10, to: 16, priorities: []string{"P2", "P1"}, minutes: 12,
			resolution: "rollback", effective: []string{"revert dns config"}, ineffective: []string{"restart pods", "scale out"},
		},
	}
}

// The pools the noise draws from.
func infraServices() []string {
	return []string{"api-gateway", "auth", "postgres", "redis", "frontend", "kafka", "checkout", "search"}
}

func genericAlerts() []string {
	return []string{"HighErrorRate", "HighLatency", "KubePodCrashLooping", "TargetDown", "SLOBurnRateHigh"}
}

func signals() []string {
	return []string{"request_rate", "error_rate", "latency", "cpu", "memory", "database_latency", "dependency_latency"}
}

func patterns() []string {
	return []string{"stable", "step_change", "sudden_increase", "gradual_increase", "sudden_decrease", "gradual_decrease", "spike"}
}

func causes() []string {
	return []string{"deployment_regression", "capacity_exhaustion", "dependency_failure", "database_issue", "traffic_anomaly", "resource_contention"}
}

func actions() []string {
	return []string{"rollback", "restart pods", "scale out", "kill blocking query", "renew certificate", "delete old indices", "flush cache", "fail over to secondary provider", "revert dns config"}
}

// pick returns a random element of values.
func (g *generator) pick(values []string) string {
	return values[g.rng.IntN(len(values))]
}

// generator makes synthetic incidents. Novel incidents get services and
// alert names of their own (numbered), with the same noise as the kinds:
// shared infrastructure services, generic alerts, a random cause and a
// random signature.
type generator struct {
	tb    testing.TB
	rng   *rand.Rand
	kinds []kind
	seq   int
}

// newGenerator returns a generator seeded with seed.
func newGenerator(tb testing.TB, seed uint64) *generator {
	return &generator{tb: tb, rng: rand.New(rand.NewPCG(seed, 7)), kinds: kinds()}
}

// labelled is a generated incident with the kind it was made of, "" for a
// novel one.
type labelled struct {
	kind string
	inc  Incident
}

// past returns a resolved incident of kind k (nil: novel).
func (g *generator) past(k *kind) labelled {
	return g.incident(k, false)
}

// fresh returns a new incident of kind k (nil: novel), open for 2–20
// minutes so far, not yet at its peak priority, half the time with one
// alert only, and three times in ten without a cause yet.
func (g *generator) fresh(k *kind) labelled {
	return g.incident(k, true)
}

// incident returns an incident of kind k (nil: novel), open or resolved.
func (g *generator) incident(k *kind, open bool) labelled {
	g.seq++
	r := g.rng
	in := Input{}
	var res *Resolution
	name := ""
	if k == nil {
		in.Services = []string{fmt.Sprintf("novel-svc-%d", g.seq)}
		in.Alertnames = []string{fmt.Sprintf("NovelAlert%d", g.seq)}
		in.Signature = map[string]string{}
		for _, s := range signals() {
			if r.Float64() < 0.6 {
				in.Signature[s] = g.pick(patterns())
			}
		}
		if r.Float64() < 0.7 {
			in.Cause = g.pick(causes())
		}
		in.OpenedAt = g.opening(0, 24)
		in.Priorities = []string{fmt.Sprintf("P%d", 1+r.IntN(4))}
		a := g.pick(actions())
		res = &Resolution{Type: "manual_fix", EffectiveActions: []string{a}, TimeToResolveSeconds: g.minutes(30) * 60}
	} else {
		name = k.name
		in.Services = g.some(k.services, 0.9)
		in.Alertnames = g.some(k.alertnames, 0.8)
		in.Signature = map[string]string{}
		// In a fixed order, so that a seed makes the same history.
		for _, s := range slices.Sorted(maps.Keys(k.signature)) {
			switch x := r.Float64(); {
			case x < 0.2: // missing
			case x < 0.35:
				in.Signature[s] = g.pick(patterns())
			default:
				in.Signature[s] = k.signature[s]
			}
		}
		for _, s := range signals() {
			if _, ok := k.signature[s]; !ok && r.Float64() < 0.4 {
				in.Signature[s] = "stable"
				if r.Float64() < 0.15 {
					in.Signature[s] = g.pick(patterns())
				}
			}
		}
		switch x := r.Float64(); {
		case x < 0.7:
			in.Cause = k.cause
		case x < 0.85:
			in.Cause = g.pick(causes())
		}
		if r.Float64() < 0.6 {
			in.OpenedAt = g.opening(k.from, k.to)
		} else {
			in.OpenedAt = g.opening(0, 24)
		}
		in.Priorities = slices.Clone(k.priorities)
		if r.Float64() < 0.3 {
			in.Priorities = in.Priorities[r.IntN(len(in.Priorities)):]
		}
		res = g.resolution(k)
	}
	if r.Float64() < 0.3 {
		in.Services = append(in.Services, g.pick(infraServices()))
	}
	if r.Float64() < 0.4 {
		in.Alertnames = append(in.Alertnames, g.pick(genericAlerts()))
	}
	if open {
		// Early on, an incident often has one alert so far and no cause
		// yet.
		if r.Float64() < 0.5 {
			in.Alertnames = []string{g.pick(in.Alertnames)}
		}
		if r.Float64() < 0.3 {
			in.Cause = ""
		}
		in.Now = in.OpenedAt.Add(time.Duration(2+r.IntN(19)) * time.Minute)
		in.Priorities = in.Priorities[:1+r.IntN(len(in.Priorities))]
		res = nil
	} else {
		in.ResolvedAt = in.OpenedAt.Add(time.Duration(res.TimeToResolveSeconds * float64(time.Second)))
		in.ResolutionType = res.Type
	}
	fp, err := New(in)
	require.NoError(g.tb, err)
	id := fmt.Sprintf("inc-%s-%04d", in.OpenedAt.Format(time.DateOnly), g.seq)
	return labelled{kind: name, inc: Incident{ID: id, Fingerprint: fp, Resolution: res}}
}

// resolution returns how an incident of kind k was resolved: by itself
// (k.selfHeal of them), or by a non-empty share of its effective actions,
// with each ineffective one tried before half the time. One in ten also
// credits an unrelated action, and one in twenty swaps what worked and
// what did not (wrong feedback).
func (g *generator) resolution(k *kind) *Resolution {
	r := g.rng
	took := g.minutes(k.minutes) * 60
	if r.Float64() < k.selfHeal {
		return &Resolution{Type: AutoResolved, TimeToResolveSeconds: took}
	}
	res := &Resolution{Type: k.resolution, EffectiveActions: g.some(k.effective, 0.5), TimeToResolveSeconds: took}
	for _, a := range k.ineffective {
		if r.Float64() < 0.5 {
			res.IneffectiveActions = append(res.IneffectiveActions, a)
		}
	}
	if r.Float64() < 0.1 {
		res.EffectiveActions = append(res.EffectiveActions, g.pick(actions()))
	}
	if r.Float64() < 0.05 && len(res.IneffectiveActions) > 0 {
		res.EffectiveActions, res.IneffectiveActions = res.IneffectiveActions, res.EffectiveActions
	}
	return res
}

// some returns each of values with probability p, at least one.
func (g *generator) some(values []string, p float64) []string {
	var out []string
	for _, v := range values {
		if g.rng.Float64() < p {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = append(out, values[g.rng.IntN(len(values))])
	}
	return out
}

// opening returns a time in 2026 at an hour within [from, to) UTC, on a
// weekday when the range is narrower than the whole day.
func (g *generator) opening(from, to int) time.Time {
	r := g.rng
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(300))
	for to-from < 24 && (day.Weekday() == time.Saturday || day.Weekday() == time.Sunday) {
		day = day.AddDate(0, 0, 1)
	}
	return day.Add(time.Duration(from+r.IntN(to-from))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
}

// minutes returns a log-normal number of minutes around median.
func (g *generator) minutes(median float64) float64 {
	return max(1, math.Round(median*math.Exp(0.5*g.rng.NormFloat64())))
}

// history returns n past incidents: a share novel of novel ones, the
// others of the kinds in turn.
func (g *generator) history(n int, novel float64) []labelled {
	out := make([]labelled, n)
	for i := range out {
		if g.rng.Float64() < novel {
			out[i] = g.past(nil)
		} else {
			out[i] = g.past(&g.kinds[i%len(g.kinds)])
		}
	}
	return out
}
