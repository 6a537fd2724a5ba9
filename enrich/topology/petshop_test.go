package topology

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// petshopDir returns the PetShop dataset directory, ../shared/data/petshop
// from the module root, or "" when it is absent.
func petshopDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", "petshop")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// loadAdjacency reads a PetShop graph.csv: an adjacency matrix with the
// caller in the row and the callee in the column.
func loadAdjacency(path string) (*Graph, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	if len(rows) < 1 {
		return nil, fmt.Errorf("read adjacency %s: empty", path)
	}
	header := rows[0]
	var edges []Edge
	for _, row := range rows[1:] {
		for j := 1; j < len(row) && j < len(header); j++ {
			v, err := strconv.ParseFloat(row[j], 64)
			if err != nil {
				return nil, fmt.Errorf("read adjacency %s: row %q column %q: %w", path, row[0], header[j], err)
			}
			if v != 0 {
				edges = append(edges, Edge{Client: row[0], Server: header[j]})
			}
		}
	}
	return FromEdges(edges), nil
}

// column names one series of a PetShop metrics.csv.
type column struct {
	node, metric, stat string
}

// frame is a PetShop metrics.csv: the time of each row and each column's
// values, NaN where empty.
type frame struct {
	times  []time.Time
	series map[column][]float64
}

// loadFrame reads a PetShop metrics.csv with its three header rows (node,
// metric, statistic) and the unix_timestamp row.
func loadFrame(path string) (frame, error) {
	rows, err := readCSV(path)
	if err != nil {
		return frame{}, err
	}
	if len(rows) < 4 || rows[3][0] != "unix_timestamp" {
		return frame{}, fmt.Errorf("read metrics %s: want three header rows and unix_timestamp", path)
	}
	f := frame{series: map[column][]float64{}}
	cols := make([]column, len(rows[0]))
	for j := 1; j < len(rows[0]); j++ {
		cols[j] = column{rows[0][j], rows[1][j], rows[2][j]}
	}
	for _, row := range rows[4:] {
		ts, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			return frame{}, fmt.Errorf("read metrics %s: timestamp %q: %w", path, row[0], err)
		}
		f.times = append(f.times, time.Unix(int64(ts), 0).UTC())
		for j := 1; j < len(row) && j < len(cols); j++ {
			v := math.NaN()
			if row[j] != "" {
				if v, err = strconv.ParseFloat(row[j], 64); err != nil {
					return frame{}, fmt.Errorf("read metrics %s: %v: %w", path, cols[j], err)
				}
			}
			f.series[cols[j]] = append(f.series[cols[j]], v)
		}
	}
	return f, nil
}

// slice returns the rows [from, to) of f.
func (f frame) slice(from, to int) frame {
	out := frame{times: f.times[from:to], series: map[column][]float64{}}
	for c, v := range f.series {
		out.series[c] = v[from:to]
	}
	return out
}

// without returns f with the rows [from, to) left out.
func (f frame) without(from, to int) frame {
	out := frame{series: map[column][]float64{}}
	for c, v := range f.series {
		out.series[c] = slices.Concat(v[:from], v[to:])
	}
	return out
}

func readCSV(path string) ([][]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = fh.Close() }()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// petshopTarget is a PetShop target.json.
type petshopTarget struct {
	Target struct {
		Node   string `json:"node"`
		Metric string `json:"metric"`
	} `json:"target"`
	RootCause struct {
		Node string `json:"node"`
	} `json:"root_cause"`
}

func loadTarget(path string) (petshopTarget, error) {
	var t petshopTarget
	b, err := os.ReadFile(path)
	if err != nil {
		return t, fmt.Errorf("read target: %w", err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("decode target %s: %w", path, err)
	}
	return t, nil
}

// petshopSignals is which series of a node the evaluation judges for a
// target metric, and which way is bad: for latency the average and the
// tail (p90, p99), higher is worse; for availability the average, lower
// is worse.
func petshopSignals(metric string) []struct {
	stat  string
	worse Direction
} {
	type s = struct {
		stat  string
		worse Direction
	}
	switch metric {
	case "latency":
		return []s{{"Average", WorseUp}, {"p90", WorseUp}, {"p99", WorseUp}}
	case "availability":
		return []s{{"Average", WorseDown}}
	}
	return nil
}

// petshopStates assesses every node of g for the target metric, history
// from hist and the current window from cur. Nodes without usable data are
// left out: unknown.
func petshopStates(d Detector, g *Graph, metric string, hist, cur frame) map[string]State {
	states := map[string]State{}
	step := 5 * time.Minute
	if len(cur.times) > 1 {
		step = cur.times[1].Sub(cur.times[0])
	}
	for _, node := range g.Services() {
		var sigs []Signal
		for _, s := range petshopSignals(metric) {
			c := column{node, metric, s.stat}
			h, ok1 := hist.series[c]
			x, ok2 := cur.series[c]
			if !ok1 || !ok2 {
				continue
			}
			sigs = append(sigs, Signal{Name: s.stat, Worse: s.worse, History: slices.Clone(h), Current: x, Start: cur.times[0], Step: step})
		}
		if st, _, err := d.Assess(sigs...); err == nil {
			states[node] = st
		}
	}
	return states
}

// petshopCase is one labelled issue of the PetShop dataset.
type petshopCase struct {
	traffic, split, name string
	target               petshopTarget
	window               frame
}

// petshopScore counts hits for one (traffic, metric) cell.
type petshopScore struct {
	n, top1, top3 int
	misses        []string
}

func (s petshopScore) rate(k int) float64 {
	if s.n == 0 {
		return 0
	}
	return float64(k) / float64(s.n)
}

// TestPetShop runs the dataset's protocol: per issue, history = noissue and
// current = the issue window, candidate origins ranked over the call graph
// from the alerting node; top-1 and top-3 recall of the true root cause per
// (traffic, target metric), and specificity on windows of noissue, each
// judged against the rest of noissue, where no origin must be found.
//
// Constants are the package defaults (Detector's zero value) and one
// choice of signals per metric made up front (latency: average, p90, p99;
// availability: average); nothing is fitted to the issues.
func TestPetShop(t *testing.T) {
	dir := petshopDir(t)
	if dir == "" {
		t.Skip("PetShop dataset absent: want ../shared/data/petshop next to the module root (see ../shared/data/README.md)")
	}
	var d Detector
	scores := map[[2]string]*petshopScore{}
	spec := map[[2]string]*petshopScore{}
	for _, traffic := range []string{"low_traffic", "high_traffic"} {
		g, err := loadAdjacency(filepath.Join(dir, traffic, "graph.csv"))
		require.NoError(t, err)
		hist, err := loadFrame(filepath.Join(dir, traffic, "noissue", "metrics.csv"))
		require.NoError(t, err)
		cases := loadPetshopCases(t, dir, traffic)
		require.NotEmpty(t, cases)
		for _, c := range cases {
			metric := c.target.Target.Metric
			states := petshopStates(d, g, metric, hist, c.window)
			res := Analyze(g, states, Options{Alerting: []string{c.target.Target.Node}})
			key := [2]string{traffic, metric}
			if scores[key] == nil {
				scores[key] = &petshopScore{}
			}
			s := scores[key]
			s.n++
			top := res.TopK(3)
			rc := c.target.RootCause.Node
			switch {
			case len(top) > 0 && top[0] == rc:
				s.top1++
				s.top3++
			case slices.Contains(top, rc):
				s.top3++
				s.misses = append(s.misses, fmt.Sprintf("%s/%s top-1 %s", c.split, c.name, top[0]))
			default:
				s.misses = append(s.misses, fmt.Sprintf("%s/%s top-3 %v", c.split, c.name, top))
			}
		}
		// Specificity: consecutive windows of the issue windows' length
		// across noissue, each against the rest of noissue.
		width := len(cases[0].window.times)
		for _, metric := range []string{"latency", "availability"} {
			key := [2]string{traffic, metric}
			spec[key] = &petshopScore{}
			for from := 0; from+width <= len(hist.times); from += width {
				states := petshopStates(d, g, metric, hist.without(from, from+width), hist.slice(from, from+width))
				res := Analyze(g, states, Options{Alerting: []string{"PetSite"}})
				spec[key].n++
				if res.Origin == "" {
					spec[key].top1++
				} else {
					spec[key].misses = append(spec[key].misses, fmt.Sprintf("%s: %s", hist.times[from].Format(time.DateTime), res.Summary()))
				}
			}
		}
	}

	t.Logf("%-13s %-13s %3s %6s %6s %12s", "traffic", "metric", "n", "top-1", "top-3", "specificity")
	for _, key := range slices.SortedFunc(maps.Keys(scores), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(b[1], a[1]))
	}) {
		s, sp := scores[key], spec[key]
		t.Logf("%-13s %-13s %3d %6.3f %6.3f %5.3f (%d/%d)", key[0], key[1], s.n, s.rate(s.top1), s.rate(s.top3), sp.rate(sp.top1), sp.top1, sp.n)
		for _, m := range s.misses {
			t.Logf("    miss %s", m)
		}
		for _, m := range sp.misses {
			t.Logf("    false origin %s", m)
		}
	}

	for key, s := range scores {
		switch key[1] {
		case "latency":
			// Issue 5's targets: top-1 ≥ 0.75, top-3 ≥ 0.90 (measured:
			// low 0.929 / 1.0, high 0.786 / 1.0).
			require.GreaterOrEqual(t, s.rate(s.top1), 0.75, "%v top-1", key)
			require.GreaterOrEqual(t, s.rate(s.top3), 0.90, "%v top-3", key)
		case "availability":
			// Beat the dataset's traversal baseline, top-1 0.667–0.833
			// and top-3 1.0 (measured: 1.0 / 1.0 on both).
			require.Greater(t, s.rate(s.top1), 0.833, "%v top-1", key)
			require.InDelta(t, 1.0, s.rate(s.top3), 1e-9, "%v top-3", key)
		}
	}
	for key, sp := range spec {
		// Measured 0.88–0.90 on latency and 0.99–1.0 on availability.
		// Nearly every false origin is a StepFunctions lambda whose
		// latency is bursty (cold starts) and tips past z = 5 for two
		// samples about once in four hours; with no alert to start from
		// this is the rate a spurious alert would be pinned on such a
		// service. 0.85 keeps that at most about one 25-minute window in
		// seven on a graph of 40 services, without fitting the threshold
		// to these files.
		require.GreaterOrEqual(t, sp.rate(sp.top1), 0.85, "%v specificity", key)
	}
}

// loadPetshopCases reads every issue of one traffic level, train and test.
func loadPetshopCases(t *testing.T, dir, traffic string) []petshopCase {
	t.Helper()
	var out []petshopCase
	for _, split := range []string{"train", "test"} {
		issues, err := filepath.Glob(filepath.Join(dir, traffic, split, "issue_*"))
		require.NoError(t, err)
		slices.Sort(issues)
		for _, is := range issues {
			tg, err := loadTarget(filepath.Join(is, "target.json"))
			require.NoError(t, err)
			w, err := loadFrame(filepath.Join(is, "metrics.csv"))
			require.NoError(t, err)
			out = append(out, petshopCase{traffic: traffic, split: split, name: filepath.Base(is), target: tg, window: w})
		}
	}
	return out
}
