# Tributary: `make run` runs the streaming pipeline locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
OUT ?= out
# Extra flags for the streaming pipeline, e.g. make run ARGS="--generateEvents=100000".
ARGS ?=
FUZZTIME ?= 10s

.PHONY: all run test unit fuzz lint generate bench bench-micro emulator-check clean

all: lint test

## run: the streaming pipeline on Prism with an in-process Pub/Sub fed by the generator.
run:
	rm -rf $(OUT)/bq $(OUT)/archive
	$(GO) run ./pipelines/streaming/cmd --outputDirectory=$(OUT) $(ARGS)

## test: unit, pipeline and integration tests (the integration tests start the real Pub/Sub
## emulator themselves), then a short fuzz run of the decoder on its seed corpus.
test: emulator-check
	$(GO) test -count=1 ./...
	$(MAKE) fuzz

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./transforms/decode

## emulator-check: the integration tests need gcloud's Pub/Sub emulator (and Java).
emulator-check:
	@command -v gcloud >/dev/null || { echo "gcloud not found: install the Google Cloud CLI with the pubsub-emulator component"; exit 1; }
	@command -v java >/dev/null || { echo "java not found: the Pub/Sub emulator needs a JRE"; exit 1; }
	@root=$$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null); \
	if [ ! -d "$$root/platform/pubsub-emulator" ]; then \
		echo "installing the Pub/Sub emulator"; \
		apt-get install -y google-cloud-cli-pubsub-emulator >/dev/null 2>&1 || gcloud components install pubsub-emulator beta --quiet; \
	fi

## lint: formatting, vet, and Terraform formatting (providers cannot be fetched here, so no validate).
lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	@if command -v terraform >/dev/null; then terraform fmt -check -recursive terraform; fi

## generate: Flex Template metadata, README parameter table and Terraform variables from the options structs.
generate:
	$(GO) run ./cmd/gendocs

# Extra flags for the harness, e.g. make bench BENCH_ARGS="-sizes=100000,1000000,4000000".
BENCH_ARGS ?=

## bench: the streaming core on Prism against a plain-Go loop, steady and burst, each size in its
## own process (cmd/bench); the table BENCHMARKS.md shows.
bench:
	$(GO) run ./cmd/bench $(BENCH_ARGS)

## bench-micro: go test benchmarks of the hot paths.
bench-micro:
	$(GO) test -run='^$$' -bench=. -benchmem ./transforms/...

clean:
	rm -rf $(OUT) bin
