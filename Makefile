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

quickstart: build ## compile, import, backfill the training set, upload, and fetch user 5 (embedded defaults)
	./$(BIN) compile
	for t in purchases returns users checkouts; do ./$(BIN) import --table data.$$t data/quickstart/$$t.csv || exit 1; done
	./$(BIN) run --mode backfill --conf production/joins/quickstart/training_set.v1 --ds 2023-11-30
	./$(BIN) sql --format table "SELECT user_id, ts, quickstart_purchases_v1_purchase_price_sum_30d, quickstart_returns_v1_refund_amt_sum_30d, quickstart_users_v1_email_verified, ds FROM default.quickstart_training_set_v1 ORDER BY user_id, ts LIMIT 5"
	./$(BIN) run --mode upload --conf production/group_bys/quickstart/purchases.v1 --ds 2023-12-01
	./$(BIN) run --mode upload --conf production/group_bys/quickstart/returns.v1 --ds 2023-12-01
	./$(BIN) run --mode metadata-upload --conf production/joins/quickstart/training_set.v2
	./$(BIN) run --mode fetch --type join --name quickstart/training_set.v2 -k '{"user_id":"5"}' --at-millis 1701478800000

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
