# keygate — see README.md. `make help` lists the targets.
GO       ?= go
PKGS     := ./...
# Nested modules, each vetted and tested whole after the main module's PKGS
# (deploy: the compose/Dockerfile checks, whose parsers stay out of go.mod;
# openapicheck: the REST facade's OpenAPI document checked with libopenapi).
MODS     := deploy openapicheck
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: help build run test bench lint fuzz cover load scale-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build ./keygate (static, no cgo)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o keygate ./cmd/keygate

run: ## start keygate on its embedded defaults (SQLite ./keygate.db, in-memory limits)
	$(GO) run ./cmd/keygate serve

test: ## the whole suite, every module: vet, tests with the race detector, every benchmark once
	$(GO) vet $(PKGS)
	for m in $(MODS); do $(GO) -C $$m vet ./... || exit 1; done
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	for m in $(MODS); do $(GO) -C $$m test -race -count=1 -timeout 5m ./... || exit 1; done
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 10m $(PKGS)
	for m in $(MODS); do $(GO) -C $$m test -run '^$$' -bench . -benchtime 1x -timeout 5m ./... || exit 1; done

bench: ## benchmarks with allocations (compare runs with benchstat over COUNT=10)
	$(GO) test -run '^$$' -bench . -benchmem -count $${COUNT:-1} $(PKGS)
	for m in $(MODS); do $(GO) -C $$m test -run '^$$' -bench . -benchmem -count $${COUNT:-1} ./... || exit 1; done

lint: ## gofmt and go vet (every module, and the scale tests' build tag)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags scale ./internal/scale/
	for m in $(MODS); do $(GO) -C $$m vet ./... || exit 1; done

fuzz: ## run each fuzz target for FUZZTIME (default 20s)
	@for p in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-20s} $$p || exit 1; \
	  done; done

cover: ## test coverage report in coverage.out
	$(GO) test -count=1 -coverprofile coverage.out $(PKGS)
	$(GO) tool cover -func coverage.out | tail -1

scale-test: ## Redis Cluster and Sentinel failovers under 3 limiter replicas (needs redis-server, Postgres)
	$(GO) vet -tags scale ./internal/scale/
	$(GO) test -tags scale -count=1 -timeout 5m -v ./internal/scale/

load: ## the shipped binary under wrk: /auth (memory, Redis), /healthz, nginx + keygate, against bare baselines (LOAD_* in scripts/load/run.sh)
	bash scripts/load/run.sh
