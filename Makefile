# Surge: two commands matter. `make up` runs the whole engine locally in the
# foreground; `make test` runs every test against real servers. Both build
# or install what they need (redis-server through apt, MinIO from a pinned
# module version, PostgreSQL from the machine's binaries).
#
# `make` with no target prints the targets (make help): each is described
# by a `## target: description` comment above it, continued on further
# `## ` lines; docs/docs_test.go fails for a target without one.

GO         ?= go
# -artifacts keeps what tests save in t.ArtifactDir() (the browser tests'
# screenshots) under .surge/test-output/_artifacts/.
TEST_OUTPUT ?= $(CURDIR)/.surge/test-output
TEST_FLAGS ?= -race -count=1 -timeout 14m -artifacts -outputdir=$(TEST_OUTPUT)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help

.PHONY: help up test bench vet lint build clean

## help: list the targets (what `make` with no target does)
help:
	@awk '/^## [a-z][a-z0-9_-]*:/ { sub(/^## /, ""); i = index($$0, ":"); printf "  %-10s %s\n", substr($$0, 1, i - 1), substr($$0, i + 2); next } \
	     /^## / { sub(/^## /, ""); printf "  %-10s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## up: start Redis, PostgreSQL, MinIO, the broker, every function and the gateway (Ctrl-C stops; data kept in .surge/)
up:
	$(GO) run ./local/cmd/up

## test: vet, staticcheck, the offline manifest validation, then every test with the race detector
## (what tests save, such as the browser tests' screenshots, is kept under .surge/test-output/_artifacts/)
test: vet lint validate
	mkdir -p $(TEST_OUTPUT)
	$(GO) test $(TEST_FLAGS) ./...

## bench: baselines, each function as a stage, the click phase (win, sold out and limited, at the gateway and at
## captcha), a crowd of 20,000 users for 2,000 units, an open-loop crowd, a bot flood and a rain, in one run
## (about 6 min, progress on stderr); writes .surge/bench/latest.json and latest.png.
## BENCH_FLAGS=-large: 100,000 users, 10,000 units; -only click: one step
BENCH_FLAGS ?=
bench:
	$(GO) run ./local/cmd/bench $(BENCH_FLAGS)

## vet: go vet over the module
vet:
	$(GO) vet ./...

## lint: staticcheck, pinned, fetched through the Go module proxy
lint:
	$(GO) run $(STATICCHECK) ./...

## build: every function and the local tools into .surge/bin
build:
	$(GO) build -o .surge/bin/ ./functions/... ./local/cmd/...

## clean: remove local state (data, logs, binaries) under .surge/
clean:
	rm -rf .surge

# Kubernetes: offline validation of the manifests, and kind (needs a container engine).
include infra/validate/validate.mk
include infra/kind/kind.mk
