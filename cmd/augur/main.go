// Command augur is an alert sidecar for Prometheus Alertmanager: it takes
// Alertmanager's webhook notifications, cuts the noise, enriches each alert
// and forwards it through Alertmanager's own integrations.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli parses the command line and runs the chosen command; it returns the
// process exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("augur", "Alert sidecar for Prometheus Alertmanager: dedup, enrichment, forwarding.")
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	app.HelpFlag.Short('h')

	var (
		s          serveOptions
		logCfg     = &promslog.Config{Writer: stderr}
		serve      = app.Command("serve", "Run augur (the default command).").Default()
		check      = app.Command("check", "Check files.")
		checkC     = check.Command("config", "Validate a config file and print a summary.")
		checkF     = checkC.Arg("file", "Config file.").Required().String()
		versionCmd = app.Command("version", "Print version information.")
		replayCmd  = app.Command("replay", "Run recorded webhook payloads (JSON lines) through triage and enrichment and print each decision and the incidents formed; nothing is forwarded.")
		replayF    = replayCmd.Arg("file", "JSON lines file of Alertmanager webhook payloads, oldest first.").Required().String()
		replayCfg  string
		replaySet  bool
		incident   = app.Command("incident", "Work with incidents.")
		resolveCmd = incident.Command("resolve", "Record what resolved an incident, through a running augur's API (POST /api/v1/incidents/{id}/resolution).")
		resolve    resolveOptions
		sloCmd     = app.Command("slo", "Work with SLOs.")
		sloStat    = sloCmd.Command("status", "Print each SLO's burn rate per window, budget left, time to exhaustion and the alert tiers that would fire, from Prometheus now.")
		sloOpts    sloStatusOptions
		rulesCmd   = app.Command("rules", "Generate and test Prometheus rule files.")
		rulesGen   = rulesCmd.Command("generate", "Write SLO burn-rate rules (with promtool unit tests), predictive and seasonal-baseline rules.")
		genOpts    rulesGenerateOptions
		rulesTst   = rulesCmd.Command("test", "Run promtool check rules and promtool test rules on a directory of generated files.")
		testDir    = rulesTst.Arg("dir", "Directory written by augur rules generate.").Required().String()
		promtool   = rulesTst.Flag("promtool", "promtool binary.").Default("promtool").String()
	)
	rulesGen.Flag("slo.file", "SLO spec file: Sloth prometheus/v1, OpenSLO v1 or augur's short form (repeatable).").StringsVar(&genOpts.sloFiles)
	rulesGen.Flag("watch.file", "Watch spec file with watches: (predictive rules) and baselines: (seasonal-baseline rules) (repeatable).").StringsVar(&genOpts.watchFiles)
	rulesGen.Flag("out", "Output directory.").Required().StringVar(&genOpts.out)
	rulesGen.Flag("format", "rules (Prometheus rule files) or prometheusrule (prometheus-operator resources).").Default("rules").StringVar(&genOpts.format)
	rulesGen.Flag("naming", "Names of the SLO rules and labels: sloth (compatible with Sloth's dashboards) or augur.").Default("sloth").StringVar(&genOpts.naming)
	rulesGen.Flag("interval", "Evaluation interval of the generated groups (default: Prometheus's, unset).").DurationVar(&genOpts.interval)
	sloStat.Flag("config.file", "augur configuration file with the SLOs (default ./augur.yml, else the built-in example config).").
		Default("augur.yml").IsSetByUser(&sloOpts.configNamed).StringVar(&sloOpts.configFile)
	sloStat.Flag("output", "table or json.").Default("table").StringVar(&sloOpts.output)
	resolveCmd.Arg("id", "Incident id, e.g. inc-2026-11-28-0042.").Required().StringVar(&resolve.id)
	resolveCmd.Flag("type", "Resolution type: rollback, manual_fix, scaling, restart, config_change, ...").Required().StringVar(&resolve.resolutionType)
	resolveCmd.Flag("worked", "An action that helped (repeatable).").StringsVar(&resolve.worked)
	resolveCmd.Flag("did-not-work", "An action that did not help (repeatable).").StringsVar(&resolve.didNotWork)
	resolveCmd.Flag("root-cause", "What the cause was, in a sentence.").StringVar(&resolve.rootCause)
	resolveCmd.Flag("notes", "Anything else worth keeping.").StringVar(&resolve.notes)
	resolveCmd.Flag("augur.url", "URL of the running augur.").Default("http://localhost:9096").StringVar(&resolve.augurURL)
	resolveCmd.Flag("auth.bearer-token-file", "File holding the bearer token augur's intake requires, if any.").StringVar(&resolve.bearerTokenFile)
	replayCmd.Flag("config.file", "augur configuration file (default ./augur.yml, else the built-in example config).").
		Default("augur.yml").IsSetByUser(&replaySet).StringVar(&replayCfg)
	serve.Flag("config.file", "augur configuration file. Without it, ./augur.yml is used if present, else the built-in example config.").
		Default("augur.yml").IsSetByUser(&s.configSet).StringVar(&s.configFile)
	serve.Flag("web.listen-address", "Address to listen on for the API, webhooks and metrics.").
		Default(":9096").StringVar(&s.listenAddress)
	serve.Flag("web.external-url", "URL under which augur is reachable from outside (links in notifications).").
		StringVar(&s.externalURL)
	serve.Flag("web.config.file", "Path to a web configuration file for TLS and authentication (Prometheus exporter-toolkit format).").
		Default("").StringVar(&s.webConfigFile)
	serve.Flag("storage.path", "Directory of the embedded store. Overrides storage.path of the config file.").
		Default("data/").IsSetByUser(&s.storageSet).StringVar(&s.storagePath)
	promslogflag.AddFlags(app, logCfg)

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "augur: %s; see augur --help\n", err)
		return 2
	}
	switch cmd {
	case checkC.FullCommand():
		return checkConfig(*checkF, stdout, stderr)
	case replayCmd.FullCommand():
		return replay(*replayF, replayCfg, replaySet, stdout, stderr)
	case rulesGen.FullCommand():
		return rulesGenerate(genOpts, stdout, stderr)
	case rulesTst.FullCommand():
		return rulesTest(*testDir, *promtool, stdout, stderr)
	case sloStat.FullCommand():
		return sloStatus(sloOpts, stdout, stderr)
	case resolveCmd.FullCommand():
		return resolveIncident(resolve, stdout, stderr)
	case versionCmd.FullCommand():
		fmt.Fprintln(stdout, versionString())
		return 0
	default:
		return runServe(s, promslog.New(logCfg))
	}
}

func versionString() string {
	return version.Print("augur")
}
