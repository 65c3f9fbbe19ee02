# Chronon in Go. `make` lists the targets.
GO      ?= go
BIN     := bin/chronon
ROOT    := $(CURDIR)
export CHRONON_ROOT := $(ROOT)

.DEFAULT_GOAL := help

.PHONY: help build test quickstart bench lint thrift clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## build bin/chronon
	$(GO) build -o $(BIN) .

test: ## run every test (what CI runs)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

quickstart: build ## run the tutorial end to end on embedded defaults: compile, import, backfill, upload, fetch, log-flattener, consistency
	./$(BIN) quickstart

bench: ## run the benchmarks once each on 10M-row synthetic tables (compile, import, expressions, aggregation, ...)
	CHRONON_BENCH_ROWS=10000000 $(GO) test -run '^$$' -bench . -benchtime 1x -benchmem -timeout 60m ./...

.PHONY: bench-fetch
bench-fetch: ## in-process join fetch p50/p99, `chronon serve` HTTP req/s + p99 over loopback, upload keys/s
	$(GO) test -run '^$$' -bench 'FetchJoin|HTTPJoin' -benchtime 40000x -timeout 5m ./runtime/server
	$(GO) test -run '^$$' -bench 'UploadRate' -benchtime 1x -timeout 10m ./runtime/backfill

.PHONY: bench-backfill
bench-backfill: build ## time the quickstart join backfill vs DuckDB on generated data (BENCH_SCALE=1)
	bench/backfill.sh

lint: ## gofmt and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^thrift/api/'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '^thrift/api/'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

thrift: ## regenerate thrift/api from thrift/api.thrift (needs Debian's thrift-compiler)
	@command -v thrift >/dev/null || { echo "thrift-compiler is missing: apt-get install thrift-compiler"; exit 1; }
	rm -rf thrift/api
	cd thrift && thrift --gen go:package_prefix=github.com/chronon-go/chronon/thrift/,skip_remote -out . api.thrift
	gofmt -w thrift/api

clean: ## remove build output and local state
	rm -rf bin .chronon
