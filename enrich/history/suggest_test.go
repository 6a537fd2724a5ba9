package history

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSuggest(t *testing.T) {
	match := func(id string, sim float64, minutes float64, worked, failed []string) Match {
		return Match{ID: id, Similarity: sim, Resolution: Resolution{
			Type: "manual_fix", EffectiveActions: worked, IneffectiveActions: failed, TimeToResolveSeconds: minutes * 60,
		}}
	}
	for _, tc := range []struct {
		name       string
		similar    []Match
		actions    []Action
		didNotHelp []Action
		minutes    float64
		texts      []string
	}{
		{
			name:  "none",
			texts: []string{},
		},
		{
			name: "weighted success ranks the actions",
			similar: []Match{
				match("a", 0.9, 14, []string{"Rollback"}, []string{"restart pods"}),
				match("b", 0.8, 20, []string{"rollback "}, nil),
				match("c", 0.7, 10, []string{"restart pods"}, []string{"rollback"}),
				match("d", 0.65, 90, []string{"rollback", "flush cache"}, []string{"scale out"}),
			},
			actions: []Action{
				{Name: "Rollback", Score: 0.9 + 0.8 - 0.7 + 0.65, Worked: 3, Tried: 4},
				{Name: "flush cache", Score: 0.65, Worked: 1, Tried: 1},
			},
			didNotHelp: []Action{
				{Name: "scale out", Score: -0.65, Worked: 0, Tried: 1},
				{Name: "restart pods", Score: 0.7 - 0.9, Worked: 1, Tried: 2},
			},
			// Weights 0.7 (10m), 0.9 (14m), 0.8 (20m), 0.65 (90m): half of
			// 3.05 is reached at 14m.
			minutes: 14,
			texts:   []string{"Rollback — worked in 3 of 4 similar incidents", "flush cache — worked in 1 of 1 similar incident"},
		},
		{
			name: "listed as worked and not in one incident: worked",
			similar: []Match{
				match("a", 0.9, 14, []string{"rollback"}, []string{"Rollback"}),
			},
			actions: []Action{{Name: "rollback", Score: 0.9, Worked: 1, Tried: 1}},
			minutes: 14,
			texts:   []string{"rollback — worked in 1 of 1 similar incident"},
		},
		{
			name: "resolved by itself",
			similar: []Match{
				{ID: "a", Similarity: 0.7, Resolution: Resolution{Type: AutoResolved, TimeToResolveSeconds: 300}},
			},
			minutes: 5,
			texts:   []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Suggest(tc.similar)
			require.Equal(t, len(tc.similar) > 0, s.Found())
			require.Len(t, s.Actions, len(tc.actions))
			for i, a := range tc.actions {
				require.Equal(t, a.Name, s.Actions[i].Name)
				require.InDelta(t, a.Score, s.Actions[i].Score, 1e-9)
				require.Equal(t, [2]int{a.Worked, a.Tried}, [2]int{s.Actions[i].Worked, s.Actions[i].Tried})
			}
			require.Len(t, s.DidNotHelp, len(tc.didNotHelp))
			for i, a := range tc.didNotHelp {
				require.Equal(t, a.Name, s.DidNotHelp[i].Name)
				require.InDelta(t, a.Score, s.DidNotHelp[i].Score, 1e-9)
			}
			require.Equal(t, time.Duration(tc.minutes*float64(time.Minute)), s.TimeToResolve())
			require.Equal(t, tc.texts, s.Texts())
		})
	}
}

func TestSuggestionsLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		similar []Match
		want    string
	}{
		{name: "none", want: "no similar past incident"},
		{
			name: "what worked",
			similar: []Match{{ID: "inc-2026-10-02-0007", Similarity: 0.834, Resolution: Resolution{
				Type: "rollback", EffectiveActions: []string{"rollback"}, TimeToResolveSeconds: 840,
			}}},
			want: "inc-2026-10-02-0007 (0.83): rollback worked, resolved in 14m",
		},
		{
			name: "what did not help",
			similar: []Match{{ID: "inc-1", Similarity: 0.7, Resolution: Resolution{
				Type: "scaling", EffectiveActions: []string{"scale out", "enable rate limiting"}, IneffectiveActions: []string{"restart pods"}, TimeToResolveSeconds: 7500,
			}}},
			want: "inc-1 (0.70): scale out, enable rate limiting worked, restart pods did not help, resolved in 2h05m",
		},
		{
			name:    "only the type",
			similar: []Match{{ID: "inc-1", Similarity: 0.7, Resolution: Resolution{Type: "manual_fix", TimeToResolveSeconds: 45}}},
			want:    "inc-1 (0.70): manual_fix, resolved in 45s",
		},
		{
			name:    "by itself",
			similar: []Match{{ID: "inc-1", Similarity: 0.65, Resolution: Resolution{Type: AutoResolved, TimeToResolveSeconds: 3 * 86400}}},
			want:    "inc-1 (0.65): resolved by itself in 3d0h",
		},
		{
			name:    "nothing known",
			similar: []Match{{ID: "inc-1", Similarity: 0.65}},
			want:    "inc-1 (0.65)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Suggest(tc.similar).Line())
		})
	}
}

func TestShort(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{59*time.Second + 600*time.Millisecond, "1m"},
		{14*time.Minute + 20*time.Second, "14m"},
		{59*time.Minute + 40*time.Second, "1h00m"},
		{2*time.Hour + 5*time.Minute, "2h05m"},
		{26*time.Hour + 40*time.Minute, "1d3h"},
	} {
		require.Equal(t, tc.want, short(tc.d), "%s", tc.d)
	}
}

func TestMatchJSON(t *testing.T) {
	m := Match{ID: "inc-1", Similarity: 0.83, Resolution: Resolution{Type: "rollback", EffectiveActions: []string{"rollback"}, TimeToResolveSeconds: 840}}
	data, err := json.Marshal(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"inc-1","similarity":0.83,"resolution_type":"rollback","effective_actions":["rollback"],"time_to_resolve_seconds":840}`, string(data),
		"the similar_incidents entry of the enrichment schema")
}
