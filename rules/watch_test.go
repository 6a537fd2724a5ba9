package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readSpecs(t *testing.T) Specs {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "rules", "watches.yml"))
	require.NoError(t, err)
	specs, err := ParseSpecs("watches.yml", data)
	require.NoError(t, err)
	return specs
}

func TestPredictiveAndBaselineGolden(t *testing.T) {
	specs := readSpecs(t)
	pred, err := GeneratePredictive(specs.Watches, Options{})
	require.NoError(t, err)
	base, err := GenerateBaselines(specs.Baselines, Options{})
	require.NoError(t, err)
	dir := filepath.Join("testdata", "golden", "watches")
	for _, f := range []File{pred, base} {
		path := filepath.Join(dir, f.Name)
		if *update {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./rules -update to create the golden files")
		require.Equal(t, string(want), string(f.Data), f.Name)
	}
	require.Contains(t, string(pred.Data), "--enable-feature=promql-experimental-functions")
	require.Equal(t, "AnomalyCheck", camel("anomaly_check"))
}

// TestPromtoolCheckPredictiveAndBaseline loads the generated files with
// the real promtool; the predictive file needs the experimental functions.
func TestPromtoolCheckPredictiveAndBaseline(t *testing.T) {
	bin := promtool(t)
	specs := readSpecs(t)
	pred, err := GeneratePredictive(specs.Watches, Options{})
	require.NoError(t, err)
	base, err := GenerateBaselines(specs.Baselines, Options{})
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range []File{pred, base} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644))
	}
	runPromtool(t, bin, dir, "check", "rules", "--enable-feature=promql-experimental-functions", pred.Name, base.Name)
}

func TestSpecErrors(t *testing.T) {
	cases := []struct {
		name, yaml, err string
	}{
		{"comparator", "watches:\n  - name: X\n    query: up\n    comparator: '=='\n    threshold: 1\n",
			`w.yml: watch "X": comparator "==": must be one of >, >=, <, <=`},
		{"method", "watches:\n  - name: X\n    query: up\n    comparator: '>'\n    threshold: 1\n    method: arima\n",
			`w.yml: watch "X": method "arima": must be predict_linear or double_exponential_smoothing`},
		{"query", "watches:\n  - name: X\n    query: up{\n    comparator: '>'\n    threshold: 1\n",
			`w.yml: watch "X": query: 1:4: parse error: unexpected end of input inside braces`},
		{"weeks", "baselines:\n  - name: rps\n    query: up\n    weeks: 9\n",
			`w.yml: baseline "rps": weeks 9: must be in [1, 8]`},
		{"unknown", "baselines:\n  - name: rps\n    query: up\n    wekks: 2\n",
			"w.yml: baseline \"rps\": yaml: unmarshal errors:\n  line 4: field wekks not found in type rules.plain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpecs("w.yml", []byte(tc.yaml))
			require.Error(t, err)
			require.Equal(t, tc.err, strings.TrimSpace(err.Error()))
		})
	}
}
