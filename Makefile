# Surge: two commands matter. `make up` runs the whole engine locally in the
# foreground; `make test` runs every test against real servers. Both build
# or install what they need (redis-server through apt, MinIO from a pinned
# module version, PostgreSQL from the machine's binaries).

GO        ?= go
TEST_FLAGS ?= -race -count=1 -timeout 14m

.PHONY: up test vet build clean

## up: start Redis, PostgreSQL, MinIO, the broker, every function and the gateway (Ctrl-C stops; data kept in .surge/)
up:
	$(GO) run ./local/cmd/up

## test: vet, then every test with the race detector
test: vet
	$(GO) test $(TEST_FLAGS) ./...

vet:
	$(GO) vet ./...

## build: every function and the local tools into .surge/bin
build:
	$(GO) build -o .surge/bin/ ./functions/... ./local/cmd/...

## clean: remove local state (data, logs, binaries) under .surge/
clean:
	rm -rf .surge
