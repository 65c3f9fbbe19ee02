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

quickstart: build ## compile the quickstart repository and show what was written
	./$(BIN) compile --chronon-root $(ROOT)

bench: ## run the benchmarks (compile, ...)
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## gofmt and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^thrift/api/'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '^thrift/api/'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

thrift: ## regenerate thrift/api from thrift/api.thrift (needs Debian's thrift-compiler)
	@command -v thrift >/dev/null || { echo "thrift-compiler is missing: apt-get install thrift-compiler"; exit 1; }
	rm -rf thrift/api
	cd thrift && thrift --gen go:package_prefix=github.com/chronon-go/chronon/thrift/,skip_remote -out . api.thrift

clean: ## remove build output and local state
	rm -rf bin .chronon
