package rootcause

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/rootcause/cause"
)

// scenariosPerCause is how many scenarios of each cause the suite runs.
const scenariosPerCause = 40

// scenarioConfig is the config of the suite: the default signals and
// causes, the shop's graph.
func scenarioConfig(t testing.TB) *config.Config {
	var b strings.Builder
	b.WriteString("topology:\n  static:\n")
	for _, s := range scenarioServices {
		if deps := scenarioGraph[s]; len(deps) > 0 {
			fmt.Fprintf(&b, "    %s: [%s]\n", s, strings.Join(deps, ", "))
		}
	}
	cfg, err := config.Load([]byte(b.String()), t.TempDir())
	require.NoError(t, err)
	return cfg
}

// outcome is what the enricher made of a scenario.
type outcome struct {
	sc         scenario
	causes     []enrich.RootCause
	origin     string
	confidence float64 // of the top cause, 0 for none
}

// runScenario enriches the alert of a scenario.
func runScenario(t testing.TB, cfg *config.Config, sc scenario) outcome {
	q, err := newScenarioQuerier(sc, cfg.Signals)
	require.NoError(t, err)
	e, err := New(cfg, scenarioChanges(sc.changes), func() time.Time { return scenarioNow })
	require.NoError(t, err)
	in := enrich.Input{
		Alert:    model.Alert{Labels: model.LabelSet{"alertname": "HighLatency", "service": model.LabelValue(sc.alerting)}},
		Services: []string{sc.alerting},
		Querier:  q,
	}
	apply, err := e.Enrich(context.Background(), in)
	require.NoError(t, err, sc.String())
	var out enrich.Enrichment
	apply(&out)
	o := outcome{sc: sc, causes: out.RootCauses}
	if out.Topology != nil {
		o.origin = out.Topology.Origin
	}
	if len(out.RootCauses) > 0 {
		o.confidence = out.RootCauses[0].Confidence
	}
	return o
}

// TestScenarioSuite runs the enricher on generated incidents of every
// cause and on incidents with no fault, and scores its top-1 and top-3
// causes, its origin, and its silence when nothing is wrong.
func TestScenarioSuite(t *testing.T) {
	cfg := scenarioConfig(t)
	type tally struct{ n, top1, top3, origin, silent int }
	byCause := map[string]*tally{}
	var outcomes []outcome
	for k, c := range scenarioCauses {
		byCause[c] = &tally{}
		for i := range scenariosPerCause {
			rng := rand.New(rand.NewPCG(20261129, uint64(k*1000+i)))
			o := runScenario(t, cfg, generate(c, rng))
			outcomes = append(outcomes, o)
			tl := byCause[c]
			tl.n++
			if c == noFault {
				if len(o.causes) == 0 {
					tl.silent++
				}
				continue
			}
			for rank, rc := range o.causes[:min(3, len(o.causes))] {
				if rc.Cause == c {
					if rank == 0 {
						tl.top1++
					}
					tl.top3++
					break
				}
			}
			if o.origin == o.sc.origin {
				tl.origin++
			}
		}
	}
	t.Logf("%-22s %4s %6s %6s %7s %7s", "cause", "n", "top-1", "top-3", "origin", "silent")
	var all tally
	for _, c := range scenarioCauses {
		tl := byCause[c]
		t.Logf("%-22s %4d %6.2f %6.2f %7.2f %7.2f", c, tl.n, ratio(tl.top1, tl.n), ratio(tl.top3, tl.n), ratio(tl.origin, tl.n), ratio(tl.silent, tl.n))
		if c != noFault {
			all.n += tl.n
			all.top1 += tl.top1
			all.top3 += tl.top3
			all.origin += tl.origin
		}
	}
	t.Logf("%-22s %4d %6.2f %6.2f %7.2f", "all faults", all.n, ratio(all.top1, all.n), ratio(all.top3, all.n), ratio(all.origin, all.n))
	logCalibration(t, outcomes)

	require.GreaterOrEqual(t, ratio(all.top1, all.n), 0.8, "top-1 cause accuracy")
	require.GreaterOrEqual(t, ratio(all.origin, all.n), 0.8, "origin accuracy")
	require.GreaterOrEqual(t, ratio(byCause[noFault].silent, byCause[noFault].n), 0.9, "no confident hypothesis without a fault")
}

// logCalibration bins the top hypotheses by confidence and logs how
// often each bin was right.
func logCalibration(t *testing.T, outcomes []outcome) {
	t.Helper()
	type bin struct {
		n, right int
		sum      float64
	}
	bins := make([]bin, 5)
	for _, o := range outcomes {
		if len(o.causes) == 0 {
			continue
		}
		i := min(4, int((o.confidence-0.5)/0.1))
		if i < 0 {
			continue
		}
		bins[i].n++
		bins[i].sum += o.confidence
		if o.causes[0].Cause == o.sc.cause {
			bins[i].right++
		}
	}
	var rows []string
	for i, b := range bins {
		if b.n > 0 {
			rows = append(rows, fmt.Sprintf("[%.1f,%.1f): %d, mean confidence %.2f, right %.2f", 0.5+0.1*float64(i), 0.6+0.1*float64(i), b.n, b.sum/float64(b.n), ratio(b.right, b.n)))
		}
	}
	t.Logf("calibration of the top hypothesis: %s", strings.Join(rows, "; "))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// calibrationSamples runs the scenarios of seed and returns a sample of
// every hypothesis, at any confidence: right when it names the injected
// cause at the origin.
func calibrationSamples(t *testing.T, cfg *config.Config, seed uint64, perCause int) []cause.Sample {
	t.Helper()
	var out []cause.Sample
	for k, c := range scenarioCauses {
		for i := range perCause {
			sc := generate(c, rand.New(rand.NewPCG(seed, uint64(k*1000+i))))
			q, err := newScenarioQuerier(sc, cfg.Signals)
			require.NoError(t, err)
			e, err := New(cfg, scenarioChanges(sc.changes), func() time.Time { return scenarioNow })
			require.NoError(t, err)
			a, err := e.analyse(context.Background(), enrich.Input{
				Alert:    model.Alert{Labels: model.LabelSet{"service": model.LabelValue(sc.alerting)}},
				Services: []string{sc.alerting}, Querier: q,
			}, 0)
			require.NoError(t, err)
			for _, h := range a.hypotheses {
				out = append(out, cause.SampleOf(h, h.Cause == sc.cause && h.Service == sc.origin))
			}
		}
	}
	return out
}

// TestCalibration fits the calibration on scenarios of one seed and
// checks DefaultCalibration on scenarios of another: of the hypotheses
// given a confidence around p, about p must be right.
func TestCalibration(t *testing.T) {
	cfg := scenarioConfig(t)
	fitted, err := cause.FitCalibration(calibrationSamples(t, cfg, 1, 60))
	require.NoError(t, err)
	t.Logf("fitted on seed 1: FitWeight %.2f, MarginWeight %.2f, Bias %.2f (DefaultCalibration: %+v)", fitted.FitWeight, fitted.MarginWeight, fitted.Bias, cause.DefaultCalibration())

	cal := cause.DefaultCalibration()
	type bin struct {
		n, right int
		sum      float64
	}
	var bins [10]bin
	for _, s := range calibrationSamples(t, cfg, 2, 60) {
		p := cal.Confidence(s.Fit, s.Coverage, s.Margin)
		b := &bins[min(9, int(p*10))]
		b.n++
		b.sum += p
		if s.Right {
			b.right++
		}
	}
	for i, b := range bins {
		if b.n == 0 {
			continue
		}
		mean, acc := b.sum/float64(b.n), ratio(b.right, b.n)
		t.Logf("confidence [%.1f, %.1f): %4d hypotheses, mean confidence %.2f, right %.2f", float64(i)/10, float64(i+1)/10, b.n, mean, acc)
		if b.n >= 30 {
			require.InDelta(t, mean, acc, 0.12, "bin [%.1f, %.1f)", float64(i)/10, float64(i+1)/10)
		}
	}
}

// BenchmarkAnalysis is one alert's full analysis on the shop: seven
// signals of seven services read (from memory), their signatures, the
// origin and the causes.
func BenchmarkAnalysis(b *testing.B) {
	cfg := scenarioConfig(b)
	sc := generate("database_issue", rand.New(rand.NewPCG(1, 1)))
	q, err := newScenarioQuerier(sc, cfg.Signals)
	require.NoError(b, err)
	e, err := New(cfg, scenarioChanges(sc.changes), func() time.Time { return scenarioNow })
	require.NoError(b, err)
	in := enrich.Input{Alert: model.Alert{Labels: model.LabelSet{"service": model.LabelValue(sc.alerting)}}, Services: []string{sc.alerting}, Querier: q}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.analyse(context.Background(), in, 0.5); err != nil {
			b.Fatal(err)
		}
	}
}
