package eval

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/enrich/forecast/predict"
)

// Layouts of NAB's timestamps in the CSV files and in the windows.
const (
	nabTime       = "2006-01-02 15:04:05"
	nabWindowTime = "2006-01-02 15:04:05.000000"
)

// nabDir returns the NAB data set, ../shared/data/nab from the module
// root, and skips the test when it is absent (or when the run must be
// short: the replays take seconds, far longer under -race).
func nabDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the replay of the NAB data in -short mode: it fits some 30,000 forecasts (seconds on 2 cores)")
	}
	if raceEnabled {
		t.Skip("skipping the replay of the NAB data under the race detector: it takes minutes there; run without -race")
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Skipf("no go.mod above %s: cannot find the module root, nor the NAB data beside it", wd)
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "data", "nab")
	if _, err := os.Stat(filepath.Join(dir, "combined_windows.json")); err != nil {
		t.Skipf("NAB data set absent (%v): put it at ../shared/data/nab beside the module root to run this evaluation", err)
	}
	return dir
}

// probation is the share of a NAB file's rows in its probationary period.
const probation = 0.15

// nabFile is one NAB series laid on a grid of its usual step, with the
// labelled anomaly windows and the end of its probationary period.
type nabFile struct {
	name    string
	series  predict.Series
	windows []Interval
	// probationEnd is the time of the first row after the probationary
	// period, whose grid slots are the first probationSlots.
	probationEnd   time.Time
	probationSlots int
}

// end is the time of the file's last sample.
func (f nabFile) end() time.Time {
	return f.series.Start.Add(time.Duration(len(f.series.Values)-1) * f.series.Step)
}

// probationRows returns the time NAB's probationary period, the first 15%
// of the rows of a file, ends, and how many slots of the grid it fills.
func probationRows(times []time.Time, s predict.Series) (time.Time, int) {
	end := times[int(math.Floor(probation*float64(len(times))))]
	return end, int(end.Sub(s.Start) / s.Step)
}

// loadNAB reads the named files (paths relative to dir, as keys of
// combined_windows.json) with their windows.
func loadNAB(dir string, names []string) ([]nabFile, error) {
	windows, err := loadWindows(filepath.Join(dir, "combined_windows.json"))
	if err != nil {
		return nil, err
	}
	out := make([]nabFile, 0, len(names))
	for _, name := range names {
		ws, ok := windows[name]
		if !ok {
			return nil, fmt.Errorf("%s: not in combined_windows.json", name)
		}
		s, times, err := loadSeries(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		end, slots := probationRows(times, s)
		out = append(out, nabFile{name: name, series: s, windows: ws, probationEnd: end, probationSlots: slots})
	}
	return out, nil
}

// nabNames lists the CSV files of a NAB category, as keys of
// combined_windows.json.
func nabNames(dir, category string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, category, "*.csv"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no CSV files in %s", filepath.Join(dir, category))
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = category + "/" + filepath.Base(p)
	}
	return names, nil
}

// loadWindows reads NAB's labelled anomaly windows per file.
func loadWindows(path string) (map[string][]Interval, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string][][2]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	out := make(map[string][]Interval, len(raw))
	for name, ws := range raw {
		out[name] = []Interval{}
		for _, w := range ws {
			start, err := time.Parse(nabWindowTime, w[0])
			if err != nil {
				return nil, fmt.Errorf("%s: window of %s: %w", path, name, err)
			}
			end, err := time.Parse(nabWindowTime, w[1])
			if err != nil {
				return nil, fmt.Errorf("%s: window of %s: %w", path, name, err)
			}
			// NAB's windows include their end timestamp.
			out[name] = append(out[name], Interval{Start: start, End: end.Add(time.Second)})
		}
	}
	return out, nil
}

// loadSeries reads a NAB CSV file onto a grid of its most common step
// from its first sample, as the querier's range query would return it:
// samples off the grid go to the nearest slot (a later one winning),
// empty slots are NaN. It also returns the times of the rows.
func loadSeries(path string) (predict.Series, []time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return predict.Series{}, nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	if _, err := r.Read(); err != nil {
		return predict.Series{}, nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	var times []time.Time
	var values []float64
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return predict.Series{}, nil, fmt.Errorf("read %s: %w", path, err)
		}
		ts, err := time.Parse(nabTime, rec[0])
		if err != nil {
			return predict.Series{}, nil, fmt.Errorf("%s: %w", path, err)
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			return predict.Series{}, nil, fmt.Errorf("%s: %w", path, err)
		}
		times, values = append(times, ts), append(values, v)
	}
	if len(times) < 2 {
		return predict.Series{}, nil, fmt.Errorf("%s: %d samples, need at least 2", path, len(times))
	}
	step := commonStep(times)
	start := times[0]
	n := int(times[len(times)-1].Sub(start)/step) + 1
	grid := make([]float64, n)
	for i := range grid {
		grid[i] = math.NaN()
	}
	for k, ts := range times {
		if i := int((ts.Sub(start) + step/2) / step); i >= 0 && i < n {
			grid[i] = values[k]
		}
	}
	return predict.Series{Start: start, Step: step, Values: grid}, times, nil
}

// commonStep is the most common positive time between two samples.
func commonStep(times []time.Time) time.Duration {
	count := map[time.Duration]int{}
	var best time.Duration
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1])
		if d <= 0 {
			continue
		}
		count[d]++
		if count[d] > count[best] || count[d] == count[best] && d < best {
			best = d
		}
	}
	return best
}

// maxOf is the largest of the values that are not NaN.
func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) {
			m = max(m, x)
		}
	}
	return m
}

// parallel runs job(0), ..., job(n-1) on as many goroutines as there are
// CPUs to use and returns the first error by index.
func parallel(n int, job func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				errs[i] = job(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// median is the median of v, NaN for none.
func median(v []float64) float64 { return Quantile(v, 0.5) }

func TestLoadSeriesGrid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	// A 5-minute series with a missing sample, a duplicate and one off the
	// grid.
	data := "timestamp,value\n" +
		"2014-01-01 00:00:00,1\n" +
		"2014-01-01 00:05:00,2\n" +
		"2014-01-01 00:05:00,3\n" +
		"2014-01-01 00:16:00,4\n" +
		"2014-01-01 00:20:00,5\n" +
		"2014-01-01 00:25:00,6\n"
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	s, times, err := loadSeries(path)
	require.NoError(t, err)
	require.Len(t, times, 6)
	require.Equal(t, 5*time.Minute, s.Step)
	require.Len(t, s.Values, 6)
	require.Equal(t, []float64{1, 3}, s.Values[:2])
	require.True(t, math.IsNaN(s.Values[2]))
	require.Equal(t, []float64{4, 5, 6}, s.Values[3:])
}
