package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/augur-sre/augur/rules"
	"github.com/augur-sre/augur/rules/slo"
)

// rulesGenerateOptions are the flags of `augur rules generate`.
type rulesGenerateOptions struct {
	sloFiles   []string
	watchFiles []string
	out        string
	format     string
	naming     string
	interval   time.Duration
}

// rulesGenerate writes the rule files (and promtool tests) of the SLO
// specs and of the watch specs into the output directory.
func rulesGenerate(o rulesGenerateOptions, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "augur rules generate: %s\n", err)
		return 1
	}
	if len(o.sloFiles) == 0 && len(o.watchFiles) == 0 {
		fmt.Fprintln(stderr, "augur rules generate: nothing to do: give --slo.file or --watch.file")
		return 2
	}
	opts := rules.Options{Format: rules.Format(o.format), Naming: slo.Naming(o.naming), Interval: o.interval}
	var slos []slo.SLO
	for _, f := range o.sloFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return fail(err)
		}
		s, err := slo.Parse(f, data)
		if err != nil {
			return fail(err)
		}
		slos = append(slos, s...)
	}
	var files []rules.File
	if len(slos) > 0 {
		fs, err := rules.GenerateSLOs(slos, opts)
		if err != nil {
			return fail(err)
		}
		files = append(files, fs...)
	}
	for _, f := range o.watchFiles {
		fs, err := watchRules(f, opts)
		if err != nil {
			return fail(err)
		}
		files = append(files, fs...)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fail(err)
	}
	for _, f := range files {
		path := filepath.Join(o.out, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, path)
	}
	return 0
}

// watchRules generates the predictive and baseline rules of a watch-spec
// file, named after it.
func watchRules(file string, opts rules.Options) ([]rules.File, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	specs, err := rules.ParseSpecs(file, data)
	if err != nil {
		return nil, err
	}
	var out []rules.File
	if len(specs.Watches) > 0 {
		f, err := rules.GeneratePredictive(specs.Watches, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, f)
	}
	if len(specs.Baselines) > 0 {
		f, err := rules.GenerateBaselines(specs.Baselines, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// rulesTestTimeout bounds one promtool run.
const rulesTestTimeout = 2 * time.Minute

// rulesTest runs `promtool check rules` on every rule file of dir and
// `promtool test rules` on every test file, and says which failed.
func rulesTest(dir, promtool string, stdout, stderr io.Writer) int {
	path, err := exec.LookPath(promtool)
	if err != nil {
		fmt.Fprintf(stderr, "augur rules test: promtool not found (%s): put it on PATH or give --promtool\n", err)
		return 1
	}
	ruleFiles, err := filepath.Glob(filepath.Join(dir, "*.rules.yml"))
	if err != nil {
		fmt.Fprintf(stderr, "augur rules test: %s\n", err)
		return 1
	}
	testFiles, err := filepath.Glob(filepath.Join(dir, "*.test.yml"))
	if err != nil {
		fmt.Fprintf(stderr, "augur rules test: %s\n", err)
		return 1
	}
	if len(ruleFiles)+len(testFiles) == 0 {
		fmt.Fprintf(stderr, "augur rules test: no *.rules.yml or *.test.yml in %s: run augur rules generate --out=%s first\n", dir, dir)
		return 1
	}
	var failed []string
	run := func(args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), rulesTestTimeout)
		defer cancel()
		var out bytes.Buffer
		// Predictive rules may use double_exponential_smoothing.
		cmd := exec.CommandContext(ctx, path, append([]string{"--enable-feature=promql-experimental-functions"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		status := "ok"
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			status = "FAILED"
			failed = append(failed, args[len(args)-1])
		case err != nil:
			status = "FAILED: " + err.Error()
			failed = append(failed, args[len(args)-1])
		}
		fmt.Fprintf(stdout, "promtool %s: %s\n", strings.Join(args, " "), status)
		if status != "ok" {
			_, _ = stdout.Write(out.Bytes())
		}
	}
	for _, f := range ruleFiles {
		run("check", "rules", f)
	}
	for _, f := range testFiles {
		run("test", "rules", f)
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "augur rules test: %d of %d failed\n", len(failed), len(ruleFiles)+len(testFiles))
		return 1
	}
	return 0
}
