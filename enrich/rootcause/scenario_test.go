package rootcause

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich/rootcause/cause"
)

// The scenario suite: a service graph whose golden signals are generated
// over the rootcause lookback, with noise, a daily season and, from a
// random onset, the fault of a known cause at a known origin, spreading
// to the services that call it. The enricher runs on them through a
// querier that serves the generated series for the queries the signals
// config renders.

// scenarioGraph is the shop: who calls whom.
var scenarioGraph = map[string][]string{
	"frontend":  {"checkout", "search"},
	"checkout":  {"payment", "inventory"},
	"payment":   {"postgres"},
	"inventory": {"postgres"},
	"search":    {"elastic"},
}

// scenarioServices are the graph's services, callers first.
var scenarioServices = []string{"frontend", "checkout", "search", "payment", "inventory", "postgres", "elastic"}

// noFault is the cause of a scenario where nothing is wrong.
const noFault = "none"

// scenarioCauses are the causes scenarios inject, and none.
var scenarioCauses = []string{"deployment_regression", "capacity_exhaustion", "dependency_failure", "database_issue", "traffic_anomaly", "resource_contention", noFault}

// scenario is one generated incident and its known answer.
type scenario struct {
	cause, origin string
	alerting      string // the service whose alert is enriched
	onset         time.Time
	series        map[string]map[string][]float64 // service → signal → values
	changes       []cause.Change
}

// Times of every scenario: the lookback ends at scenarioNow.
var scenarioNow = time.Date(2026, 11, 28, 14, 30, 0, 0, time.UTC)

const (
	scenarioLookback = time.Hour
	scenarioStep     = 30 * time.Second
)

// callers returns the services that call s, directly or not.
func callers(s string) []string {
	var out []string
	for _, c := range scenarioServices {
		if c != s && reaches(c, s) {
			out = append(out, c)
		}
	}
	return out
}

// reaches reports whether a calls b through the graph.
func reaches(a, b string) bool {
	for _, d := range scenarioGraph[a] {
		if d == b || reaches(d, b) {
			return true
		}
	}
	return false
}

// generate makes scenario i of the given cause.
func generate(c string, rng *rand.Rand) scenario {
	n := int(scenarioLookback/scenarioStep) + 1
	start := scenarioNow.Add(-scenarioLookback)
	sc := scenario{cause: c, series: map[string]map[string][]float64{}}
	onsetStep := 20 + rng.IntN(n-40)
	sc.onset = start.Add(time.Duration(onsetStep) * scenarioStep)
	phase := rng.Float64() * 2 * math.Pi
	amplitude := 0.05 + 0.25*rng.Float64()
	for _, s := range scenarioServices {
		rate := 20 + 480*rng.Float64()
		base := map[string]float64{
			"request_rate": rate, "error_rate": 0.002 + 0.008*rng.Float64(), "latency": 0.05 + 0.25*rng.Float64(),
			"cpu": rate / 200, "memory": 2e8 + 8e8*rng.Float64(), "database_latency": 0.005 + 0.015*rng.Float64(),
			"dependency_latency": 0.05 + 0.15*rng.Float64(),
		}
		sc.series[s] = map[string][]float64{}
		for _, name := range slices.Sorted(maps.Keys(base)) {
			b := base[name]
			// Some services do not export every signal.
			if rng.Float64() < missingSignal {
				continue
			}
			v := make([]float64, n)
			noise := 0.02 + 0.08*rng.Float64()
			for i := range v {
				t := float64(i) * scenarioStep.Seconds()
				season := 1 + amplitude*math.Sin(phase+2*math.Pi*t/86400)
				if name == "memory" {
					season, noise = 1, 0.005
				}
				v[i] = b * season * (1 + noise*rng.NormFloat64())
			}
			sc.series[s][name] = v
		}
	}
	if c == noFault {
		sc.alerting = scenarioServices[rng.IntN(len(scenarioServices))]
		if rng.IntN(3) == 0 { // a deploy that broke nothing
			sc.changes = append(sc.changes, cause.Change{Service: sc.alerting, Type: "deployment", At: sc.onset, Description: "harmless"})
		}
		return sc
	}
	origins := map[string][]string{
		"deployment_regression": {"checkout", "payment", "search", "inventory"},
		"capacity_exhaustion":   {"checkout", "payment", "search", "inventory", "postgres"},
		"dependency_failure":    {"payment", "search"},
		"database_issue":        {"payment", "inventory"},
		"traffic_anomaly":       {"frontend", "checkout", "search"},
		"resource_contention":   {"checkout", "payment", "inventory", "search", "postgres"},
	}[c]
	sc.origin = origins[rng.IntN(len(origins))]
	victims := callers(sc.origin)
	sc.alerting = sc.origin
	if len(victims) > 0 && rng.IntN(2) == 0 {
		sc.alerting = victims[rng.IntN(len(victims))]
	}
	factor := 1.3 + 5*rng.Float64()
	o := sc.series[sc.origin]
	lag := 1 + rng.IntN(3)
	switch c {
	case "deployment_regression":
		step(o["error_rate"], onsetStep, factor*3)
		if rng.Float64() >= unreportedDeploy {
			sc.changes = append(sc.changes, cause.Change{Service: sc.origin, Type: "deployment", At: sc.onset.Add(-time.Duration(1+rng.IntN(10)) * time.Minute), Description: sc.origin + " v2.14"})
		}
	case "capacity_exhaustion":
		ramp(o["memory"], onsetStep, 0.3+0.7*rng.Float64())
		ramp(o["cpu"], onsetStep, factor)
		ramp(o["latency"], onsetStep+lag*4, factor)
	case "dependency_failure":
		step(o["dependency_latency"], onsetStep, factor)
		step(o["error_rate"], onsetStep+lag, factor*2)
	case "database_issue":
		step(o["database_latency"], onsetStep, factor*2)
		step(o["latency"], onsetStep+lag, factor)
	case "traffic_anomaly":
		step(o["request_rate"], onsetStep, factor)
		step(o["cpu"], onsetStep, factor)
		step(o["latency"], onsetStep+lag, 1+factor/3)
	case "resource_contention":
		width := 10 + rng.IntN(8)
		bump(o["cpu"], onsetStep, width, factor)
		bump(o["latency"], onsetStep, width, factor)
	}
	// The callers feel it through their calls, a little later each hop.
	for _, v := range victims {
		hop := lag + rng.IntN(2)
		step(sc.series[v]["dependency_latency"], onsetStep+hop, 1+factor/2)
		step(sc.series[v]["latency"], onsetStep+hop, 1+factor/3)
		if c == "deployment_regression" || c == "dependency_failure" {
			step(sc.series[v]["error_rate"], onsetStep+hop, 1+factor)
		}
	}
	if c != "deployment_regression" && rng.Float64() < innocentDeploy {
		// A deploy of the origin shortly before that is not the cause.
		sc.changes = append(sc.changes, cause.Change{Service: sc.origin, Type: "deployment", At: sc.onset.Add(-time.Duration(1+rng.IntN(20)) * time.Minute), Description: "unrelated"})
	}
	return sc
}

// How hard the suite is: the share of signals a service does not export,
// of regressions whose deploy nobody recorded, and of other faults with
// an innocent deploy of the origin shortly before.
const (
	missingSignal    = 0.1
	unreportedDeploy = 0.2
	innocentDeploy   = 0.2
)

// step multiplies v from i on by f.
func step(v []float64, i int, f float64) {
	for j := min(i, len(v)); j < len(v); j++ {
		v[j] *= f
	}
}

// ramp multiplies v from i on by a factor rising linearly to f at the
// end.
func ramp(v []float64, i int, f float64) {
	for j := min(i, len(v)); j < len(v); j++ {
		v[j] *= 1 + (f-1)*float64(j-i+1)/float64(len(v)-i)
	}
}

// bump multiplies width samples of v from i on by f.
func bump(v []float64, i, width int, f float64) {
	for j := min(i, len(v)); j < min(i+width, len(v)); j++ {
		v[j] *= f
	}
}

// scenarioQuerier serves a scenario's series for the queries of the
// signals config.
type scenarioQuerier struct {
	byQuery map[string][]float64
}

func newScenarioQuerier(sc scenario, signals config.Signals) (*scenarioQuerier, error) {
	q := &scenarioQuerier{byQuery: map[string][]float64{}}
	for svc, sigs := range sc.series {
		for name, v := range sigs {
			query, err := signals.Render(name, map[string]string{"service": svc})
			if err != nil {
				return nil, err
			}
			q.byQuery[query] = v
		}
	}
	return q, nil
}

func (q *scenarioQuerier) Query(context.Context, string, time.Time) (model.Value, error) {
	return model.Vector{}, nil
}

func (q *scenarioQuerier) QueryRange(_ context.Context, query string, start, end time.Time, step time.Duration) (model.Value, error) {
	v, ok := q.byQuery[query]
	if !ok {
		return model.Matrix{}, nil
	}
	first := scenarioNow.Add(-scenarioLookback)
	var pts []model.SamplePair
	for i, x := range v {
		ts := first.Add(time.Duration(i) * scenarioStep)
		if ts.Before(start) || ts.After(end) {
			continue
		}
		pts = append(pts, model.SamplePair{Timestamp: model.TimeFromUnixNano(ts.UnixNano()), Value: model.SampleValue(x)})
	}
	return model.Matrix{{Metric: model.Metric{}, Values: pts}}, nil
}

// scenarioChanges serves a scenario's recorded changes.
type scenarioChanges []cause.Change

func (c scenarioChanges) Changes(_ context.Context, services []string, from, to time.Time) ([]cause.Change, error) {
	var out []cause.Change
	for _, ch := range c {
		if slices.Contains(services, ch.Service) && !ch.At.Before(from) && ch.At.Before(to) {
			out = append(out, ch)
		}
	}
	return out, nil
}

// String names a scenario in failure messages.
func (sc scenario) String() string {
	return fmt.Sprintf("%s at %s (alert on %s, onset %s)", sc.cause, sc.origin, sc.alerting, sc.onset.Format("15:04"))
}
