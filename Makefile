# selectc: `make` builds every program into bin/, `make run` starts the
# native echo server, `make bench` compares the servers, `make test` tests.

GO      ?= go
CC      ?= gcc
PYTHON  ?= python3
BIN     := bin
ADDR    ?= localhost:8090

# The C flag sets (CFLAGS_COMMON, CFLAGS_OPT, CFLAGS_ASAN, CFLAGS_TSAN) and
# why each: csrc/flags.mk, their one home. selectc's #cgo line is generated
# from the same file (go generate ./selectc, run by go-progs below).
include csrc/flags.mk
CFLAGS ?= $(CFLAGS_OPT)
# The library's C sits in selectc/ beside its Go (the go command copies and
# hashes only a package's folder); the programs and tests in csrc/ include it.
LIBDIR := selectc
CC_C   := $(CC) $(CFLAGS_COMMON) -I$(LIBDIR)

GO_PROGS := echo-server echo-client echo-bench curl-multi
# cmd/curl-multi links libcurl: it is built and tested with the tag libcurl
# when the C compiler finds curl/curl.h; without it, it says how to build it
# and its test skips, saying why (cmd/curl-multi/doc.go).
GO_TAGS ?= $(shell printf '\043include <curl/curl.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo libcurl)
# The pure-Go baselines are what a CGO_ENABLED=0 user runs: no runtime/cgo
# (with cgo on, package net alone would link it for its DNS resolver).
PURE_GO_PROGS := echo-go
C_PROGS  := $(BIN)/echo-server-c $(BIN)/echo-server-c-asan $(BIN)/selectshim-test \
            $(BIN)/selectloop-test $(BIN)/selectloop-test-tsan $(BIN)/selectpoller-test
SHIM     := $(LIBDIR)/selectshim.c $(LIBDIR)/selectshim.h
# echo-bench -calls's workers: selectc's wrappers (cgo), x/sys/unix.Select (no
# cgo, what a pure-Go program pays) and the C baseline with the C server's flags.
GO_PROGS      += echo-bench/internal/selectcalls-go
PURE_GO_PROGS += echo-bench/internal/selectcalls-unix
C_PROGS       += $(BIN)/selectcalls-c

.PHONY: all go-progs test test-c test-cross test-py bench bench-full bench-calls run clean windows

all: go-progs $(C_PROGS)

go-progs:
	@mkdir -p $(BIN)
	$(GO) generate ./selectc
	$(GO) build -tags '$(GO_TAGS)' -o $(BIN)/ $(addprefix ./cmd/,$(GO_PROGS))
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(PURE_GO_PROGS))

$(BIN)/echo-server-c: csrc/echo_server.c $(SHIM)
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS) -pthread csrc/echo_server.c $(LIBDIR)/selectshim.c -o $@

$(BIN)/selectcalls-c: csrc/selectcalls.c
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS) -pthread csrc/selectcalls.c -o $@

$(BIN)/echo-server-c-asan: csrc/echo_server.c $(SHIM)
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS_ASAN) -pthread csrc/echo_server.c $(LIBDIR)/selectshim.c -o $@

$(BIN)/selectshim-test: csrc/selectshim_test.c csrc/check.h $(SHIM)
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS_ASAN) csrc/selectshim_test.c $(LIBDIR)/selectshim.c -o $@

# The loop and the poller each stand on the one registry (selectregistry.c)
# and the shims. The headers: selectloop.c and selectpoller.c include more
# than their own, so any of them changing rebuilds.
REGISTRY := $(LIBDIR)/selectregistry.c $(LIBDIR)/selectshim.c

# selectloop's C harness, once under ASan+UBSan and once under ThreadSanitizer
# (the two cannot share a binary).
$(BIN)/selectloop-test: csrc/selectloop_test.c $(LIBDIR)/selectloop.c $(REGISTRY) $(wildcard $(LIBDIR)/*.h)
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS_ASAN) -pthread csrc/selectloop_test.c $(LIBDIR)/selectloop.c $(REGISTRY) -o $@

$(BIN)/selectloop-test-tsan: csrc/selectloop_test.c $(LIBDIR)/selectloop.c $(REGISTRY) $(wildcard $(LIBDIR)/*.h)
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS_TSAN) -pthread csrc/selectloop_test.c $(LIBDIR)/selectloop.c $(REGISTRY) -o $@

$(BIN)/selectpoller-test: csrc/selectpoller_test.c $(LIBDIR)/selectpoller.c $(REGISTRY) $(wildcard $(LIBDIR)/*.h)
	@mkdir -p $(BIN)
	$(CC_C) $(CFLAGS_ASAN) -pthread csrc/selectpoller_test.c $(LIBDIR)/selectpoller.c $(REGISTRY) -o $@

# The conformance suite and the bench smoke test use the binaries just built.
# -p 1: the conformance suite times shutdowns and idle CPU, so packages run
# one at a time and the others do not steal its two cores.
test: all test-c test-py
	$(GO) vet -tags '$(GO_TAGS)' ./...
	SELECTC_BIN=$(CURDIR)/$(BIN) $(GO) test -tags '$(GO_TAGS)' -race -count=1 -p 1 -timeout 15m ./...

# The C harnesses, then selectc's C as cgo builds it, under ASan and UBSan,
# driven by the Go tests that misuse it (zero values, closes racing calls).
test-c: $(BIN)/selectshim-test $(BIN)/selectloop-test $(BIN)/selectloop-test-tsan $(BIN)/selectpoller-test
	./$(BIN)/selectshim-test
	ASAN_OPTIONS=detect_leaks=1 ./$(BIN)/selectloop-test
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./$(BIN)/selectloop-test-tsan
	ASAN_OPTIONS=detect_leaks=1 ./$(BIN)/selectpoller-test
	CGO_CFLAGS="$(CFLAGS_ASAN)" CGO_LDFLAGS="-fsanitize=address,undefined" \
		$(GO) test -asan -count=1 -run '^(TestMisuse|TestSelectMutatedList|TestPoller|TestLoop|TestFast)' ./selectc

# The platform matrix: selectc's Go tests and the C harnesses, cross-built
# for amd64 (glibc and musl), arm64, armhf and s390x and run (under
# qemu-user off amd64); the table it prints is README's "Platforms".
test-cross:
	CFLAGS_C="$(CFLAGS_COMMON) $(CFLAGS_OPT)" GO=$(GO) .ci/test-cross

# Windows (amd64), cross-built with mingw-w64: the two servers and
# selectc's test binary, run under wine by make test-cross (README,
# "Platforms"). The C server links Winsock; the Go builds take the link
# flags from selectc's #cgo line (csrc/flags.mk's LDFLAGS_WINDOWS).
WIN       := $(BIN)/windows
WIN_CC    ?= x86_64-w64-mingw32-gcc
WIN_GOENV := CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$(WIN_CC)

windows: $(WIN)/echo-server-c.exe
	$(GO) generate ./selectc
	$(WIN_GOENV) $(GO) build -o $(WIN)/echo-server.exe ./cmd/echo-server
	$(WIN_GOENV) $(GO) test -c -o $(WIN)/selectc.test.exe ./selectc

$(WIN)/echo-server-c.exe: csrc/echo_server.c $(SHIM)
	@mkdir -p $(WIN)
	$(WIN_CC) $(CFLAGS_COMMON) $(CFLAGS_WINDOWS) $(CFLAGS_OPT) -I$(LIBDIR) csrc/echo_server.c $(LIBDIR)/selectshim.c \
		$(LDFLAGS_WINDOWS) -o $@

test-py:
	$(PYTHON) -m py_compile cmd/echo-py/echo_server.py cmd/echo-py/echo_client.py

bench: all
	./$(BIN)/echo-bench -quick -bin $(BIN)
	./$(BIN)/echo-bench -calls -bin $(BIN)

# One select call through every wrapper, the full grid (about 2 minutes).
bench-calls: all
	./$(BIN)/echo-bench -calls -calls-grid full -bin $(BIN)

bench-full: all
	./$(BIN)/echo-bench -bin $(BIN)

run: all
	./$(BIN)/echo-server -addr $(ADDR) -v

clean:
	rm -rf $(BIN) bench/results
