# selectc: `make` builds every program into bin/, `make run` starts the
# native echo server, `make bench` compares the servers, `make test` tests.

GO      ?= go
CC      ?= gcc
PYTHON  ?= python3
BIN     := bin
ADDR    ?= localhost:8090

# The shims compile with the same flags here as under cgo (selectc/cgo.go):
# FORTIFY turns a missed range check into an abort instead of corruption.
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Icsrc
CFLAGS  ?= -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

# selectc compiles csrc/*.c through one-line #includes, and the go command's
# cache does not look at included files: a fingerprint of csrc/ in the cgo
# flags makes it rebuild when they change.
export CGO_CFLAGS ?= -O2 -g
CGO_CFLAGS += -DSELECTC_CSRC_SUM=$(shell cat csrc/*.c csrc/*.h | cksum | cut -d' ' -f1)

GO_PROGS := echo-server echo-client echo-go echo-bench
C_PROGS  := $(BIN)/echo-server-c $(BIN)/echo-server-c-asan $(BIN)/selectshim-test
SHIM     := csrc/selectshim.c csrc/selectshim.h

.PHONY: all go-progs test test-c test-py bench bench-full run clean

all: go-progs $(C_PROGS)

go-progs:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(GO_PROGS))

$(BIN)/echo-server-c: csrc/echo_server.c $(SHIM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) csrc/echo_server.c csrc/selectshim.c -o $@

$(BIN)/echo-server-c-asan: csrc/echo_server.c $(SHIM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_COMMON) $(SANFLAGS) csrc/echo_server.c csrc/selectshim.c -o $@

$(BIN)/selectshim-test: csrc/selectshim_test.c $(SHIM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_COMMON) $(SANFLAGS) csrc/selectshim_test.c csrc/selectshim.c -o $@

# The conformance suite and the bench smoke test use the binaries just built.
# -p 1: the conformance suite times shutdowns and idle CPU, so packages run
# one at a time and the others do not steal its two cores.
test: all test-c test-py
	$(GO) vet ./...
	SELECTC_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -p 1 -timeout 15m ./...

test-c: $(BIN)/selectshim-test
	./$(BIN)/selectshim-test

test-py:
	$(PYTHON) -m py_compile cmd/echo-py/echo_server.py cmd/echo-py/echo_client.py

bench: all
	./$(BIN)/echo-bench -quick -bin $(BIN)

bench-full: all
	./$(BIN)/echo-bench -bin $(BIN)

run: all
	./$(BIN)/echo-server -addr $(ADDR) -v

clean:
	rm -rf $(BIN) bench/results
