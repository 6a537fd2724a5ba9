# augur's build. `make test` needs the real Prometheus, promtool and
# Alertmanager binaries in .bin/; `make deps` installs them (pinned, once).

GO        ?= go
BIN       := $(CURDIR)/.bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) \
             -X $(VPKG).Branch=$(BRANCH) -X $(VPKG).BuildUser=$(shell whoami)@$(shell hostname) \
             -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

# Pinned versions of the real binaries the end-to-end tests run.
PROMETHEUS_VERSION   := v0.316.0
# The newest Alertmanager that `go install` can build: from v0.32 on, its UI
# assets are missing from the module.
ALERTMANAGER_VERSION := v0.28.1

FUZZTIME  ?= 20s
BENCHTIME ?= 1s

.PHONY: all build run test unit e2e fuzz bench load deps lint clean eval rules

all: build

build: ## build ./augur (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o augur ./cmd/augur

run: build ## run augur with examples/augur.yml and the demo sink
	@echo "demo sink on 127.0.0.1:9097, augur on :9096; send: curl -H 'Content-Type: application/json' --data @examples/payload.json localhost:9096/api/v1/webhook/demo"
	$(GO) build -o $(BIN)/demo-sink ./examples/sink
	$(BIN)/demo-sink & sink=$$!; trap 'kill $$sink' EXIT INT TERM; ./augur --config.file=examples/augur.yml

test: deps unit eval rules fuzz e2e ## everything: unit, evaluation on real data, generated rules through promtool, bounded fuzzing, end to end

unit: deps ## unit tests with the race detector
	AUGUR_BIN_DIR=$(BIN) $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

eval: ## the analytics on real data (../shared/data), without the race detector, which makes them too slow
	$(GO) test -count=1 -v -run . ./enrich/forecast/eval/

rules: deps ## augur rules generate on every example spec, then promtool check rules and test rules on the output
	$(GO) build -o $(BIN)/augur-rules ./cmd/augur
	rm -rf $(BIN)/rules-out
	$(BIN)/augur-rules rules generate --out=$(BIN)/rules-out $(addprefix --slo.file=,$(wildcard examples/slos/*.yml)) --watch.file=examples/rules/watches.yml
	$(BIN)/augur-rules rules test $(BIN)/rules-out --promtool=$(BIN)/promtool

fuzz: ## run each fuzz target for FUZZTIME (new inputs are minimised for at most 5s, not Go's default minute)
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./receiver
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./config
	$(GO) test -run='^$$' -fuzz='^FuzzSplit$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./enrich/expr
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./rules/slo
	$(GO) test -run='^$$' -fuzz='^FuzzConfig$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./enrich/runbook

e2e: deps ## end-to-end tests against the real Prometheus and Alertmanager
	AUGUR_BIN_DIR=$(BIN) $(GO) test -count=1 -v -timeout=20m ./e2e

load: deps ## load run on loopback: intake vs Alertmanager, added latency, RSS
	AUGUR_BIN_DIR=$(BIN) AUGUR_LOAD=1 $(GO) test -count=1 -v -timeout=20m -run='^TestLoad$$' ./e2e

bench: ## Go benchmarks with allocations
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

deps: $(BIN)/prometheus $(BIN)/promtool $(BIN)/alertmanager ## install the pinned real binaries into .bin/

$(BIN)/prometheus:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION)

$(BIN)/promtool:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION)

$(BIN)/alertmanager:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/alertmanager/cmd/alertmanager@$(ALERTMANAGER_VERSION)

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

clean:
	rm -rf augur data
