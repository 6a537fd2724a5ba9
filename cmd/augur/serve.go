package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/augur-sre/augur/config"
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/baseline"
	"github.com/augur-sre/augur/enrich/forecast"
	"github.com/augur-sre/augur/enrich/forecast/watcher"
	"github.com/augur-sre/augur/enrich/history"
	"github.com/augur-sre/augur/enrich/rootcause"
	"github.com/augur-sre/augur/enrich/runbook"
	"github.com/augur-sre/augur/enrich/slo"
	"github.com/augur-sre/augur/examples"
	"github.com/augur-sre/augur/querier"
	"github.com/augur-sre/augur/receiver"
	"github.com/augur-sre/augur/receiver/store"
)

type serveOptions struct {
	configFile    string
	configSet     bool
	listenAddress string
	externalURL   string
	webConfigFile string
	storagePath   string
	storageSet    bool
}

func runServe(o serveOptions, logger *slog.Logger) int {
	logger.Info("starting augur", "version", version.Info(), "build_context", version.BuildContext())

	var extURL *url.URL
	if o.externalURL != "" {
		u, err := url.Parse(o.externalURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			logger.Error("--web.external-url must be an absolute URL", "url", o.externalURL)
			return 2
		}
		extURL = u
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("augur"),
	)

	// The config is read before the store is opened, since it may say
	// where the store is.
	rl := newReloader(o, reg, logger)
	cfg, err := rl.load()
	if err != nil {
		logger.Error("load config", "err", err)
		return 1
	}
	path := o.storagePath
	if !o.storageSet && cfg.Storage.Path != "" {
		path = cfg.Storage.Path
	}
	st, err := store.Open(path)
	if err != nil {
		logger.Error("open store", "err", err)
		return 1
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("close store", "err", err)
		}
	}()
	logger.Info("store open", "path", path)

	rcv := receiver.New(receiver.Options{
		Store:       st,
		Registry:    reg,
		Logger:      logger.With("component", "receiver"),
		ExternalURL: extURL,
	})
	rl.receiver = rcv
	rl.storagePath = path
	if err := rl.apply(cfg); err != nil {
		rl.record(err)
		return 1
	}
	rl.record(nil)

	webReload := make(chan chan error)
	mux := http.NewServeMux()
	rcv.Register(mux)
	mux.Handle("GET /api/v1/predictions", rl.watcher)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// Go's profiles, as Prometheus and Alertmanager serve them.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "augur is Healthy.")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !rcv.Ready() {
			http.Error(w, "augur is not ready.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "augur is Ready.")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
			return
		}
		reply := make(chan error)
		select {
		case webReload <- reply:
		case <-req.Context().Done():
			return
		}
		if err := <-reply; err != nil {
			http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "config reloaded")
	})

	var g run.Group
	g.Add(run.SignalHandler(context.Background(), os.Interrupt, syscall.SIGTERM))
	{
		ctx, cancel := context.WithCancel(context.Background())
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		g.Add(func() error {
			for {
				select {
				case <-hup:
					_ = rl.reload() //nolint:errcheck // logged and counted by reload.
				case reply := <-webReload:
					reply <- rl.reload()
				case <-ctx.Done():
					return nil
				}
			}
		}, func(error) {
			signal.Stop(hup)
			cancel()
		})
	}
	{
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			return rcv.Run(ctx)
		}, func(error) {
			cancel()
		})
	}
	{
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			return rl.watcher.Run(ctx)
		}, func(error) {
			cancel()
		})
	}
	{
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		addrs := []string{o.listenAddress}
		flags := &web.FlagConfig{WebListenAddresses: &addrs, WebConfigFile: &o.webConfigFile}
		g.Add(func() error {
			logger.Info("listening", "address", o.listenAddress)
			if err := web.ListenAndServe(srv, flags, logger.With("component", "web")); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve http: %w", err)
			}
			return nil
		}, func(error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				logger.Error("shut down http server", "err", err)
			}
		})
	}
	if err := g.Run(); err != nil {
		var sig *run.SignalError
		if errors.As(err, &sig) {
			logger.Info("shutting down", "signal", sig.Signal)
			return 0
		}
		logger.Error("augur stopped", "err", err)
		return 1
	}
	return 0
}

// reloader is the one path by which a config gets into force, at start, on
// SIGHUP and on POST /-/reload.
type reloader struct {
	opts           serveOptions
	logger         *slog.Logger
	receiver       *receiver.Receiver
	watcher        *watcher.Watcher
	enrichMetrics  *enrich.Metrics
	querierMetrics *querier.Metrics
	// storagePath is the store in use; it cannot change without a restart.
	storagePath string

	lastSuccess     prometheus.Gauge
	lastSuccessTime prometheus.Gauge
	reloads         *prometheus.CounterVec
}

func newReloader(o serveOptions, reg prometheus.Registerer, logger *slog.Logger) *reloader {
	rl := &reloader{
		opts:           o,
		logger:         logger,
		enrichMetrics:  enrich.NewMetrics(reg),
		querierMetrics: querier.NewMetrics(reg),
		watcher:        watcher.New(watcher.NewMetrics(reg), logger.With("component", "watcher"), nil),
		lastSuccess: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
			Namespace: "augur",
			Name:      "config_last_reload_successful",
			Help:      "Whether the last configuration reload attempt was successful.",
		}),
		lastSuccessTime: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
			Namespace: "augur",
			Name:      "config_last_reload_success_timestamp_seconds",
			Help:      "Timestamp of the last successful configuration reload.",
		}),
		reloads: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "augur",
			Name:      "config_reloads_total",
			Help:      "Configuration loads and reloads, by result (success, failure).",
		}, []string{"result"}),
	}
	rl.reloads.WithLabelValues("success")
	rl.reloads.WithLabelValues("failure")
	return rl
}

// load reads the config file, or the built-in example config.
func (rl *reloader) load() (*config.Config, error) {
	return loadConfig(rl.opts.configFile, rl.opts.configSet, rl.logger)
}

// apply puts a loaded config into force, or leaves the old one running.
func (rl *reloader) apply(cfg *config.Config) error {
	if p := cfg.Storage.Path; !rl.opts.storageSet && p != "" && p != rl.storagePath {
		rl.logger.Warn("storage.path changed: it takes effect at the next start", "in_use", rl.storagePath, "configured", p)
	}
	q, err := applyConfig(rl.receiver, cfg, rl.enrichMetrics, rl.querierMetrics, time.Now, rl.logger)
	if err != nil {
		return err
	}
	return rl.watcher.ApplyConfig(cfg, q)
}

// loadConfig reads the config file, or the built-in example config when no
// file was named and it does not exist.
func loadConfig(file string, named bool, logger *slog.Logger) (*config.Config, error) {
	if !named {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			logger.Info("no config file given and ./augur.yml absent: using the built-in example config (examples/augur.yml)")
			return config.Load(examples.DefaultConfig, ".")
		}
	}
	return config.LoadFile(file)
}

// applyConfig builds what a config needs (querier, enrichers) and applies
// it to the receiver; now is the enrichers' clock. It returns the querier
// for the others that query Prometheus.
func applyConfig(rcv *receiver.Receiver, cfg *config.Config, m *enrich.Metrics, qm *querier.Metrics, now func() time.Time, logger *slog.Logger) (*querier.Querier, error) {
	q, err := querier.New(cfg.Prometheus, qm, logger.With("component", "querier"))
	if err != nil {
		return nil, err
	}
	var enrichers []enrich.Enricher
	if cfg.Enrich.Forecast.Enabled {
		enrichers = append(enrichers, forecast.New(cfg.Enrich.Forecast, now))
	}
	if cfg.Enrich.Baseline.Enabled {
		enrichers = append(enrichers, baseline.New(cfg.Enrich.Baseline, now))
	}
	if cfg.Enrich.SLO.Enabled && len(cfg.SLOs) > 0 {
		se, err := slo.New(cfg, now)
		if err != nil {
			return nil, err
		}
		enrichers = append(enrichers, se)
	}
	if cfg.Enrich.History.Enabled {
		he, err := history.NewEnricher(cfg.Enrich.History.Options, rcv, cfg.Enrich.History.Location, now)
		if err != nil {
			return nil, err
		}
		enrichers = append(enrichers, he)
	}
	if len(cfg.Runbooks.ByAlertname)+len(cfg.Runbooks.ByCause) > 0 {
		rb, err := runbook.New(cfg.Runbooks, runbook.Options{Followup: rcv.RecordDiagnostics, Now: now})
		if err != nil {
			return nil, err
		}
		enrichers = append(enrichers, rb)
	}
	var topology receiver.Topology
	if cfg.Enrich.RootCause.Enabled {
		rc, err := rootcause.New(cfg, rcv, now)
		if err != nil {
			return nil, err
		}
		enrichers = append(enrichers, rc)
		topology = rc
	}
	o := enrich.NewOrchestrator(enrichers, time.Duration(cfg.Enrich.Deadline), m, logger.With("component", "enrich"))
	return q, rcv.ApplyConfig(cfg, o, q, topology)
}

// reload loads and applies the config; on any error the running config
// stays in force.
func (rl *reloader) reload() error {
	cfg, err := rl.load()
	if err == nil {
		err = rl.apply(cfg)
	}
	rl.record(err)
	return err
}

// record counts and logs the outcome of a load.
func (rl *reloader) record(err error) {
	if err != nil {
		rl.lastSuccess.Set(0)
		rl.reloads.WithLabelValues("failure").Inc()
		rl.logger.Error("load config: keeping the running config", "file", rl.opts.configFile, "err", err)
		return
	}
	rl.lastSuccess.Set(1)
	rl.lastSuccessTime.SetToCurrentTime()
	rl.reloads.WithLabelValues("success").Inc()
	rl.logger.Info("configuration loaded", "file", rl.opts.configFile)
}
