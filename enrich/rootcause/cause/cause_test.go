package cause

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich/rootcause/signature"
)

var onset = time.Date(2026, 11, 28, 14, 2, 0, 0, time.UTC)

func up(pattern string) Observation {
	return Observation{Pattern: pattern, Direction: 1, Onset: onset, Strength: 10, Line: pattern}
}

func stable() Observation { return Observation{Pattern: signature.Stable, Line: "stable"} }

func TestDefaultsAreValid(t *testing.T) {
	sigs, err := Defaults()
	require.NoError(t, err)
	var names []string
	for _, s := range sigs {
		names = append(names, s.Name)
		require.NotEmpty(t, s.Description, s.Name)
		require.NotEmpty(t, s.Investigation, s.Name)
	}
	require.Equal(t, []string{"deployment_regression", "capacity_exhaustion", "dependency_failure", "database_issue", "traffic_anomaly", "resource_contention"}, names)
}

func TestRankKnownScenarios(t *testing.T) {
	sigs, err := Defaults()
	require.NoError(t, err)
	deploy := Change{Service: "checkout", Type: "deployment", At: onset.Add(-4 * time.Minute), Description: "checkout v2.14"}
	for _, tc := range []struct {
		name    string
		obs     map[string]Observation
		changes []Change
		want    string // "" for no confident hypothesis
	}{
		{
			name: "deploy before an error step",
			obs: map[string]Observation{"error_rate": up(signature.StepChange), "latency": stable(), "request_rate": stable(), "cpu": stable(),
				"memory": stable(), "database_latency": stable(), "dependency_latency": stable()},
			changes: []Change{deploy},
			want:    "deployment_regression",
		},
		{
			name: "database slows, latency follows",
			obs: map[string]Observation{"error_rate": stable(), "latency": up(signature.SuddenIncrease), "request_rate": stable(), "cpu": stable(),
				"memory": stable(), "database_latency": up(signature.SuddenIncrease), "dependency_latency": stable()},
			want: "database_issue",
		},
		{
			name: "dependency slows, errors follow",
			obs: map[string]Observation{"error_rate": up(signature.SuddenIncrease), "latency": up(signature.SuddenIncrease), "request_rate": stable(), "cpu": stable(),
				"memory": stable(), "database_latency": stable(), "dependency_latency": up(signature.StepChange)},
			want: "dependency_failure",
		},
		{
			name: "traffic surge",
			obs: map[string]Observation{"error_rate": stable(), "latency": up(signature.SuddenIncrease), "request_rate": up(signature.SuddenIncrease), "cpu": up(signature.SuddenIncrease),
				"memory": stable(), "database_latency": stable(), "dependency_latency": stable()},
			want: "traffic_anomaly",
		},
		{
			name: "leak",
			obs: map[string]Observation{"error_rate": stable(), "latency": up(signature.GradualIncrease), "request_rate": stable(), "cpu": up(signature.GradualIncrease),
				"memory": up(signature.GradualIncrease), "database_latency": stable(), "dependency_latency": stable()},
			want: "capacity_exhaustion",
		},
		{
			name: "noisy neighbour",
			obs: map[string]Observation{"error_rate": stable(), "latency": up(signature.Spike), "request_rate": stable(), "cpu": up(signature.Spike),
				"memory": stable(), "database_latency": stable(), "dependency_latency": stable()},
			want: "resource_contention",
		},
		{
			name: "nothing changed",
			obs: map[string]Observation{"error_rate": stable(), "latency": stable(), "request_rate": stable(), "cpu": stable(),
				"memory": stable(), "database_latency": stable(), "dependency_latency": stable()},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := Rank(sigs, Input{Observations: map[string]map[string]Observation{"checkout": tc.obs}, Changes: tc.changes}, DefaultCalibration(), 0.5)
			if tc.want == "" {
				require.Empty(t, hs)
				return
			}
			require.NotEmpty(t, hs)
			t.Logf("%s %.2f (fit %.2f, coverage %.2f); next %d", hs[0].Cause, hs[0].Confidence, hs[0].Fit, hs[0].Coverage, len(hs)-1)
			require.Equal(t, tc.want, hs[0].Cause, "%+v", hs)
			require.Equal(t, "checkout", hs[0].Service)
			for i := 1; i < len(hs); i++ {
				require.LessOrEqual(t, hs[i].Confidence, hs[0].Confidence)
			}
		})
	}
}

func TestChangeCorrelation(t *testing.T) {
	r := ChangeRule{Types: []string{"deployment"}, Within: DefaultWithin}
	changes := []Change{
		{Service: "checkout", Type: "deployment", At: onset.Add(-25 * time.Minute)},
		{Service: "checkout", Type: "deployment", At: onset.Add(-time.Minute)},
		{Service: "postgres", Type: "deployment", At: onset.Add(-time.Minute)},
		{Service: "checkout", Type: "scaling", At: onset},
		{Service: "checkout", Type: "deployment", At: onset.Add(-time.Hour)},
		{Service: "checkout", Type: "deployment", At: onset.Add(10 * time.Minute)},
		{Service: "search", Type: "deployment", At: onset},
	}
	got := correlate(r, "checkout", []string{"postgres"}, changes, onset)
	require.Len(t, got, 3)
	require.InDelta(t, 1-0.8/30, got[0].Correlation, 1e-9)
	require.Equal(t, "checkout", got[0].Service)
	require.InDelta(t, (1-0.8/30)/2, got[1].Correlation, 1e-9)
	require.Equal(t, "postgres", got[1].Service)
	require.InDelta(t, 1-0.8*25/30, got[2].Correlation, 1e-9)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, err string }{
		{`- {description: x, expect: [{signal: cpu, patterns: [spike]}]}`, "cause without a name"},
		{`- {name: a}`, `cause "a": expect: at least one expectation is required`},
		{`- {name: a, expect: [{signal: cpu, patterns: [wobbly]}]}`, `unknown pattern "wobbly"`},
		{`- {name: a, expect: [{signal: cpu, patterns: [spike], direction: sideways}]}`, `direction "sideways"`},
		{`- {name: a, expect: [{signal: cpu, patterns: [spike]}], change: {within: 5m}}`, "change.types"},
		{`- {name: a, expect: [{signal: cpu, patterns: [spike]}]}` + "\n" + `- {name: a, expect: [{signal: cpu, patterns: [spike]}]}`, `cause "a" is defined twice`},
		{`- {name: a, expect: [{signal: cpu, patterns: [spike], wieght: 2}]}`, "wieght"},
	} {
		_, err := Parse([]byte(tc.yaml))
		require.ErrorContains(t, err, tc.err, tc.yaml)
	}
}
