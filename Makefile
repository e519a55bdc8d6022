# mapehelper: top-level build. Each area adds its own targets in mk/*.mk and
# appends them to TEST_TARGETS (run by `make test`) so nobody edits this file
# to add a test suite.

GO            ?= go
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOFLAGS_BUILD := -trimpath -gcflags=all=-l -ldflags '-s -w -X main.version=$(VERSION)'
BUILD         := build
GOBIN_DIR     := $(shell $(GO) env GOPATH)/bin
STATICCHECK   := $(GOBIN_DIR)/staticcheck

# Fuzz time per target in `make fuzz` (CI keeps it short).
FUZZTIME      ?= 10s

TEST_TARGETS  := lint unit fuzz

.PHONY: all build deps lint unit fuzz test demo clean
all: build

deps:
	bash .ci/deps.sh

build:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(BUILD)/mapehelper ./cmd/mapehelper

# The README's first command: the calculator on the embedded default table.
demo:
	$(GO) run ./cmd/mapehelper calc 240b:12:3456:7800::/56

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags vmkernel ./...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags vmkernel ./...
	@shfiles="$$(git ls-files '*.sh' 'openwrt/files/*' | xargs -r grep -lE '^#!.*/(ba)?sh' 2>/dev/null)"; \
	  if [ -n "$$shfiles" ]; then echo "shellcheck -x $$shfiles" | tr '\n' ' '; echo; shellcheck -x $$shfiles; fi

unit:
	$(GO) test -count=1 ./...

# Every Fuzz* target runs for FUZZTIME (bounded in CI, long by hand).
fuzz:
	bash .ci/fuzz.sh $(FUZZTIME)

-include mk/*.mk

# The README's test command.
test: deps
	$(MAKE) $(TEST_TARGETS)

clean:
	rm -rf $(BUILD)
