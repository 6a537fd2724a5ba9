package history

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Action is an action taken in similar incidents and how it fared.
type Action struct {
	// Name is the action as first written in the most similar incident
	// that names it; actions are told apart regardless of case and
	// spacing.
	Name string `json:"action"`
	// Score is the sum of the similarities of the incidents it worked in
	// minus that of those it did not help in.
	Score float64 `json:"score"`
	// Worked is in how many similar incidents it worked, Tried in how many
	// it was taken (worked or not).
	Worked int `json:"worked"`
	Tried  int `json:"tried"`
}

// String returns the action with its share, "rollback — worked in 3 of 4
// similar incidents", counting the incidents it was tried in.
func (a Action) String() string {
	noun := "incidents"
	if a.Tried == 1 {
		noun = "incident"
	}
	return fmt.Sprintf("%s — worked in %d of %d similar %s", a.Name, a.Worked, a.Tried, noun)
}

// Suggestions are what similar incidents suggest for a new one.
type Suggestions struct {
	// Similar are the similar incidents, most similar first; none means no
	// incident was similar enough to suggest anything.
	Similar []Match `json:"similar_incidents"`
	// Actions are the actions that worked more than they failed, weighted
	// by similarity, best first; DidNotHelp the others, worst first.
	Actions    []Action `json:"actions,omitempty"`
	DidNotHelp []Action `json:"did_not_help,omitempty"`
	// TimeToResolveSeconds is the estimated time to resolve: the
	// similarity-weighted median of the similar incidents' times to
	// resolve (the least time by which half the total similarity had
	// resolved), so that one long outlier does not move it. It is 0 when
	// none is known.
	TimeToResolveSeconds float64 `json:"time_to_resolve_seconds,omitempty"`
}

// Suggest ranks the actions of similar incidents (as Index.Similar
// returns them) by similarity-weighted success and estimates the time to
// resolve.
func Suggest(similar []Match) Suggestions {
	s := Suggestions{Similar: similar}
	var actions []Action
	at := map[string]int{}
	tally := func(name string, sim float64, worked bool) {
		key := actionKey(name)
		if key == "" {
			return
		}
		i, ok := at[key]
		if !ok {
			i = len(actions)
			at[key] = i
			actions = append(actions, Action{Name: strings.Join(strings.Fields(name), " ")})
		}
		a := &actions[i]
		a.Tried++
		if worked {
			a.Worked++
			a.Score += sim
		} else {
			a.Score -= sim
		}
	}
	for _, m := range similar {
		// An action listed as both worked and not in one incident worked.
		worked := map[string]bool{}
		for _, name := range m.EffectiveActions {
			if k := actionKey(name); !worked[k] {
				worked[k] = true
				tally(name, m.Similarity, true)
			}
		}
		for _, name := range m.IneffectiveActions {
			if k := actionKey(name); !worked[k] {
				worked[k] = true
				tally(name, m.Similarity, false)
			}
		}
	}
	slices.SortStableFunc(actions, func(a, b Action) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(b.Worked, a.Worked)
	})
	split := slices.IndexFunc(actions, func(a Action) bool { return a.Score <= 0 })
	if split < 0 {
		split = len(actions)
	}
	s.Actions = actions[:split:split]
	s.DidNotHelp = actions[split:]
	slices.Reverse(s.DidNotHelp)
	if len(s.Actions) == 0 {
		s.Actions = nil
	}
	if len(s.DidNotHelp) == 0 {
		s.DidNotHelp = nil
	}
	s.TimeToResolveSeconds = weightedMedian(similar)
	return s
}

// Found reports whether any incident was similar enough.
func (s Suggestions) Found() bool {
	return len(s.Similar) > 0
}

// TimeToResolve returns the estimated time to resolve, 0 when unknown.
func (s Suggestions) TimeToResolve() time.Duration {
	return time.Duration(s.TimeToResolveSeconds * float64(time.Second))
}

// Texts returns the suggested actions as lines, for the
// suggested_actions part of the enrichment.
func (s Suggestions) Texts() []string {
	out := make([]string, len(s.Actions))
	for i, a := range s.Actions {
		out[i] = a.String()
	}
	return out
}

// Line returns the augur_similar annotation: the most similar incident,
// what worked and what did not, and how long it took, "inc-2026-10-02-0007
// (0.83): rollback worked, resolved in 14m"; or that no past incident was
// similar.
func (s Suggestions) Line() string {
	if !s.Found() {
		return "no similar past incident"
	}
	m := s.Similar[0]
	var parts []string
	switch {
	case len(m.EffectiveActions) > 0:
		parts = append(parts, strings.Join(m.EffectiveActions, ", ")+" worked")
	case m.Type != "" && m.Type != AutoResolved:
		parts = append(parts, m.Type)
	}
	if len(m.IneffectiveActions) > 0 {
		parts = append(parts, strings.Join(m.IneffectiveActions, ", ")+" did not help")
	}
	took := short(time.Duration(m.TimeToResolveSeconds * float64(time.Second)))
	switch {
	case m.Type == AutoResolved:
		parts = append(parts, "resolved by itself in "+took)
	case m.TimeToResolveSeconds > 0:
		parts = append(parts, "resolved in "+took)
	}
	line := fmt.Sprintf("%s (%.2f)", m.ID, m.Similarity)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if len(s.Similar) > 1 && s.TimeToResolveSeconds > 0 {
		line += fmt.Sprintf("; %d similar, typically resolved in ~%s", len(s.Similar), short(s.TimeToResolve()))
	}
	return line
}

// actionKey returns the name of an action in lower case with its spaces
// collapsed, so that "Rollback" and "rollback " count as one.
func actionKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// weightedMedian returns the similarity-weighted median of the known
// times to resolve, 0 when none is known.
func weightedMedian(similar []Match) float64 {
	type point struct{ t, w float64 }
	var points []point
	total := 0.0
	for _, m := range similar {
		if m.TimeToResolveSeconds > 0 && m.Similarity > 0 {
			points = append(points, point{m.TimeToResolveSeconds, m.Similarity})
			total += m.Similarity
		}
	}
	slices.SortFunc(points, func(a, b point) int { return cmp.Compare(a.t, b.t) })
	sum := 0.0
	for _, p := range points {
		sum += p.w
		if sum >= total/2 {
			return p.t
		}
	}
	return 0
}

// short prints a duration for a person: 45s, 14m, 2h05m, 3d4h.
func short(d time.Duration) string {
	if d = d.Round(time.Second); d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	d = d.Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	d = d.Round(time.Hour)
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
