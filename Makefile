# Tributary: `make run` runs the streaming pipeline locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
OUT ?= out
# Extra flags for the streaming pipeline, e.g. make run ARGS="--generateEvents=100000".
ARGS ?=
FUZZTIME ?= 10s

.PHONY: all run test unit fuzz lint generate bench bench-micro emulator-check emulator emulator-stop ui chromium tf-validate clean

all: lint test

## run: the streaming pipeline on Prism with an in-process Pub/Sub fed by the generator.
## make run UI=1 runs it on the job server of make ui instead, to watch it on http://localhost:8074.
run:
	rm -rf $(OUT)/bq $(OUT)/archive $(OUT)/summary.json
	$(GO) run ./pipelines/streaming/cmd --outputDirectory=$(OUT) $(if $(UI),$(UI_FLAGS)) $(ARGS)

## ui: Prism's job server (the go.mod version) with its web UI: jobs on localhost:8073, UI on
## http://localhost:8074 (jobs, and per job its transforms and counters). Ctrl-C stops it.
UI ?=
UI_JOB_PORT ?= 8073
UI_WEB_PORT ?= 8074
# prism_disable_sdf_split: Prism's splits of timer bundles stall bursts (README, Known limitations).
UI_FLAGS = --runner=universal --endpoint=localhost:$(UI_JOB_PORT) --environment_type=LOOPBACK \
	--experiments=prism_disable_sdf_split --job_name=tributary-streaming-$(shell date -u +%Y%m%d-%H%M%S)
ui:
	$(GO) run github.com/apache/beam/sdks/v2/go/cmd/prism --job_port=$(UI_JOB_PORT) --web_port=$(UI_WEB_PORT)

## chromium: headless Chromium for the UI test's screenshot (Debian's package), installed when missing.
chromium:
	@command -v chromium >/dev/null || { echo "installing chromium"; apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || echo "chromium not installed: the UI test skips its screenshot"; }

## test: unit, pipeline and integration tests (the integration tests start the real Pub/Sub
## emulator themselves), then a short fuzz run of the decoder on its seed corpus.
test: emulator-check chromium
	$(GO) test -count=1 -timeout=25m ./...
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

## emulator: the Pub/Sub emulator in the background on EMULATOR_HOST, with README's topic and
## subscription (projects/demo/topics/events, projects/demo/subscriptions/events) created; prints
## the export line. make emulator-stop stops it; go run ./cmd/emulator runs it in the foreground.
EMULATOR_HOST ?= localhost:8085
emulator: emulator-check
	@$(GO) run ./cmd/emulator --hostPort=$(EMULATOR_HOST) --background --pidFile=$(OUT)/emulator.pid

emulator-stop:
	@$(GO) run ./cmd/emulator --stop --pidFile=$(OUT)/emulator.pid

## lint: formatting, vet, and Terraform formatting (providers cannot be fetched here, so no validate).
lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	@if command -v terraform >/dev/null; then terraform fmt -check -recursive terraform; fi

## tf-validate: terraform validate of the example root, which needs the providers: it runs
## terraform init -backend=false first and skips, saying so, when they cannot be downloaded.
TF_ROOT ?= terraform/environments/example
tf-validate:
	@command -v terraform >/dev/null || { echo "tf-validate: skipped, terraform not on PATH"; exit 0; }; \
	if [ -d $(TF_ROOT)/.terraform/providers ] || timeout 120 terraform -chdir=$(TF_ROOT) init -backend=false -input=false >/dev/null 2>&1; then \
		terraform -chdir=$(TF_ROOT) validate; \
	else \
		echo "tf-validate: skipped, the Terraform providers could not be installed (no registry access); go test ./terraform checks the files offline"; \
	fi

## generate: Flex Template metadata, README parameter table and Terraform variables from the options structs.
generate:
	$(GO) run ./cmd/gendocs

# Extra flags for the harness, e.g. make bench BENCH_ARGS="-sizes=100000,1000000,4000000".
BENCH_ARGS ?=

## bench: the streaming core on Prism against a plain-Go loop, steady and burst, each size in its
## own process (cmd/bench); the table docs/BENCHMARKS.md shows.
bench:
	$(GO) run ./cmd/bench $(BENCH_ARGS)

## bench-micro: go test benchmarks of the hot paths.
bench-micro:
	$(GO) test -run='^$$' -bench=. -benchmem ./transforms/...

clean:
	rm -rf $(OUT) bin
