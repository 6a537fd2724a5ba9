package rules

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/rules/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// repoRoot walks up from the package directory to the directory of go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "go.mod not found above the package")
		dir = parent
	}
}

// examples parses every example spec of examples/slos, by file name.
func examples(t testing.TB) map[string][]slo.SLO {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "slos", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string][]slo.SLO{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		slos, err := slo.Parse(filepath.Base(f), data)
		require.NoError(t, err)
		out[strings.TrimSuffix(filepath.Base(f), ".yml")] = slos
	}
	return out
}

func TestGolden(t *testing.T) {
	ex := examples(t)
	cases := []struct {
		name    string
		example string
		opts    Options
	}{
		{"checkout.sloth", "checkout.sloth", Options{}},
		{"search.openslo", "search.openslo", Options{}},
		{"inventory.augur", "inventory.augur", Options{}},
		{"checkout.augur-naming.prometheusrule", "checkout.sloth", Options{Naming: slo.NamingAugur, Format: FormatPrometheusRule}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := GenerateSLOs(ex[tc.example], tc.opts)
			require.NoError(t, err)
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				require.NoError(t, os.RemoveAll(dir))
				require.NoError(t, os.MkdirAll(dir, 0o755))
				for _, f := range files {
					require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
				}
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err, "run go test ./rules -update to create the golden files")
			var want []string
			for _, e := range entries {
				want = append(want, e.Name())
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Name)
				exp, err := os.ReadFile(filepath.Join(dir, f.Name))
				require.NoError(t, err)
				require.Equal(t, string(exp), string(f.Data), "%s differs from the golden file; run go test ./rules -update if the change is intended", f.Name)
			}
			slices.Sort(got)
			require.Equal(t, want, got)
		})
	}
}

func TestDeterministic(t *testing.T) {
	for name, slos := range examples(t) {
		a, err := GenerateSLOs(slos, Options{})
		require.NoError(t, err)
		for range 5 {
			b, err := GenerateSLOs(slos, Options{})
			require.NoError(t, err)
			require.Equal(t, a, b, name)
		}
	}
}

// promtool finds the real promtool: in $AUGUR_BIN_DIR when it is set
// (which must then hold it), else in .bin/ at the root of the repository.
func promtool(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("AUGUR_BIN_DIR"); dir != "" {
		p := filepath.Join(dir, "promtool")
		_, err := os.Stat(p)
		require.NoError(t, err, "AUGUR_BIN_DIR is set but holds no promtool")
		return p
	}
	p := filepath.Join(repoRoot(t), ".bin", "promtool")
	if _, err := os.Stat(p); err != nil {
		t.Skip("promtool not found: run make deps")
	}
	return p
}

// TestPromtool runs the real promtool's check rules and test rules on the
// files generated for every example SLO.
func TestPromtool(t *testing.T) {
	bin := promtool(t)
	for name, slos := range examples(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := GenerateSLOs(slos, Options{})
			require.NoError(t, err)
			var ruleFiles, testFiles []string
			for _, f := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
				if strings.HasSuffix(f.Name, ".test.yml") {
					testFiles = append(testFiles, f.Name)
				} else {
					ruleFiles = append(ruleFiles, f.Name)
				}
			}
			runPromtool(t, bin, dir, append([]string{"check", "rules"}, ruleFiles...)...)
			out := runPromtool(t, bin, dir, append([]string{"test", "rules"}, testFiles...)...)
			require.Equal(t, len(testFiles), strings.Count(out, "SUCCESS"), out)
		})
	}
}

func runPromtool(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestPromtoolCatchesWrongThreshold checks that the generated tests do
// test something: with a page factor of 20 instead of 14.4 the page alert
// no longer fires at 18× and promtool must fail.
func TestPromtoolCatchesWrongThreshold(t *testing.T) {
	bin := promtool(t)
	slos := examples(t)["checkout.sloth"]
	files, err := GenerateSLOs(slos[:1], Options{})
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range files {
		data := f.Data
		if strings.HasSuffix(f.Name, ".rules.yml") {
			data = bytes.ReplaceAll(data, []byte("(14.4 * (1 - 0.999))"), []byte("(20 * (1 - 0.999))"))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), data, 0o644))
	}
	cmd := exec.Command(bin, "test", "rules", files[1].Name)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "page alert fires at 18.000× burn")
}

// TestSlothSideBySide compares the rules generated for Sloth's
// getting-started example with Sloth's own output: the same groups, rule
// names, labels, windows and alert thresholds. augur's extra rules (the 5m
// error and total rates) and its extra alert label are allowed; the cmd
// label Sloth's example generator adds and float noise are ignored.
func TestSlothSideBySide(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "..", "shared", "data", "sloth")
	in, err := os.ReadFile(filepath.Join(dir, "getting-started.in.yml"))
	if os.IsNotExist(err) {
		t.Skipf("Sloth's example not found in %s: the shared data set is absent", dir)
	}
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(dir, "getting-started.sloth-out.yml"))
	require.NoError(t, err)

	slos, err := slo.Parse("getting-started.in.yml", in)
	require.NoError(t, err)
	files, err := GenerateSLOs(slos, Options{})
	require.NoError(t, err)

	p := parser.NewParser(parser.Options{})
	wantGroups := parseRules(t, want)
	gotGroups := parseRules(t, files[0].Data)
	require.Len(t, gotGroups.Groups, len(wantGroups.Groups))
	for i, wg := range wantGroups.Groups {
		gg := gotGroups.Groups[i]
		require.Equal(t, wg.Name, gg.Name)
		var gotRecords, gotAlerts []rulefmt.Rule
		for _, r := range gg.Rules {
			if r.Alert != "" {
				gotAlerts = append(gotAlerts, r)
			} else {
				gotRecords = append(gotRecords, r)
			}
		}
		for _, wr := range wg.Rules {
			if wr.Record != "" {
				i := slices.IndexFunc(gotRecords, func(r rulefmt.Rule) bool { return r.Record == wr.Record })
				require.GreaterOrEqual(t, i, 0, "recording rule %s missing", wr.Record)
				gr := gotRecords[i]
				delete(wr.Labels, "cmd")
				if wr.Record == "sloth_slo_info" {
					require.Equal(t, "dev", wr.Labels["sloth_version"])
					wr.Labels["sloth_version"] = "augur"
				}
				require.Equal(t, wr.Labels, gr.Labels, wr.Record)
				if got := ranges(t, p, gr.Expr); len(got) > 0 || wr.Labels["sloth_window"] != "5m" {
					// augur's 5m ratio divides its two 5m recordings.
					require.Equal(t, ranges(t, p, wr.Expr), got, "%s reads other windows", wr.Record)
				}
				continue
			}
			// Alerts come in the same order: page, then ticket.
			require.NotEmpty(t, gotAlerts)
			ga := gotAlerts[0]
			gotAlerts = gotAlerts[1:]
			require.Equal(t, wr.Alert, ga.Alert)
			require.Equal(t, wr.Labels, ga.Labels)
			require.Equal(t, wr.Annotations, ga.Annotations)
			wt, gt := thresholds(t, p, wr.Expr), thresholds(t, p, ga.Expr)
			require.Len(t, gt, len(wt))
			for k, v := range wt {
				require.InDelta(t, v, gt[k], 1e-12, "threshold of %s", k)
			}
		}
	}
}

func parseRules(t *testing.T, data []byte) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
	require.Empty(t, errs)
	return groups
}

// ranges are the distinct ranges an expression reads, sorted.
func ranges(t *testing.T, p parser.Parser, expr string) []time.Duration {
	t.Helper()
	e, err := p.ParseExpr(expr)
	require.NoError(t, err)
	var out []time.Duration
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if ms, ok := n.(*parser.MatrixSelector); ok {
			out = append(out, ms.Range)
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// thresholds maps each "metric > threshold" of an alert to the value of
// its threshold, computed from the expression's numbers.
func thresholds(t *testing.T, p parser.Parser, expr string) map[string]float64 {
	t.Helper()
	e, err := p.ParseExpr(expr)
	require.NoError(t, err)
	out := map[string]float64{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		b, ok := n.(*parser.BinaryExpr)
		if !ok || b.Op != parser.GTR {
			return nil
		}
		vs, ok := b.LHS.(*parser.VectorSelector)
		require.True(t, ok)
		out[vs.Name] = arith(t, b.RHS)
		return nil
	})
	require.NotEmpty(t, out)
	return out
}

func arith(t *testing.T, e parser.Expr) float64 {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val
	case *parser.ParenExpr:
		return arith(t, n.Expr)
	case *parser.BinaryExpr:
		l, r := arith(t, n.LHS), arith(t, n.RHS)
		switch n.Op {
		case parser.MUL:
			return l * r
		case parser.SUB:
			return l - r
		}
	}
	require.Fail(t, fmt.Sprintf("unexpected threshold expression %s", e))
	return 0
}

func TestGenerateErrors(t *testing.T) {
	base := examples(t)["checkout.sloth"]
	cases := []struct {
		name string
		opts Options
		err  string
	}{
		{"format", Options{Format: "json"}, `generate SLO rules: format "json": must be rules or prometheusrule`},
		{"naming", Options{Naming: "pyrra"}, `generate SLO rules: naming "pyrra": must be sloth or augur`},
		{"interval", Options{Interval: 10 * time.Minute}, `generate SLO rules: slo "requests-availability": window 5m is shorter than the rule interval 10m`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GenerateSLOs(base, tc.opts)
			require.EqualError(t, err, tc.err)
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		_, err := GenerateSLOs([]slo.SLO{base[0], base[0]}, Options{})
		require.EqualError(t, err, `generate SLO rules: slo "requests-availability": id "checkout-requests-availability" used twice`)
	})
}

func TestIntervalWrittenOnGroups(t *testing.T) {
	files, err := GenerateSLOs(examples(t)["checkout.sloth"][:1], Options{Interval: 30 * time.Second})
	require.NoError(t, err)
	groups := parseRules(t, files[0].Data)
	for _, g := range groups.Groups {
		require.Equal(t, model.Duration(30*time.Second), g.Interval)
	}
	require.Contains(t, string(files[1].Data), "evaluation_interval: 30s")
}

// BenchmarkGenerateSLOs generates the rules and tests of 1,000 SLOs.
func BenchmarkGenerateSLOs(b *testing.B) {
	tmpl := examples(b)["checkout.sloth"]
	slos := make([]slo.SLO, 1000)
	for i := range slos {
		slos[i] = tmpl[i%len(tmpl)]
		slos[i].Name = fmt.Sprintf("%s-%d", slos[i].Name, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GenerateSLOs(slos, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPromtoolMetaOnly covers an SLI whose queries the test generator
// cannot model (a grouped sum): the test file then checks the metadata
// rules only, and promtool still passes it.
func TestPromtoolMetaOnly(t *testing.T) {
	bin := promtool(t)
	s := slo.SLO{
		Name: "grouped", Service: "api", Objective: 99.5,
		SLI: slo.SLI{Raw: &slo.RawSLI{
			ErrorRatioQuery: `sum by (route) (rate(errors_total[{{.window}}])) / sum by (route) (rate(requests_total[{{.window}}]))`,
		}},
		NoTraffic: slo.NoTrafficAbsent,
	}
	require.NoError(t, s.Validate())
	files, err := GenerateSLOs([]slo.SLO{s}, Options{Naming: slo.NamingAugur})
	require.NoError(t, err)
	require.Contains(t, string(files[1].Data), "metadata rules only (query outside what the test generator can compute: aggregation sum)")
	dir := t.TempDir()
	for _, f := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
	}
	runPromtool(t, bin, dir, "check", "rules", files[0].Name)
	runPromtool(t, bin, dir, "test", "rules", files[1].Name)
}
