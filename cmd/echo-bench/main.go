// Command echo-bench compares the project's echo servers side by side: it
// starts each one from bin/ pinned to its own CPU, drives it with N
// closed-loop connections from an in-process load generator that verifies
// every echoed byte, and reports each server's figures as ratios against the
// C prototype measured in the same round. It writes a Markdown table to
// stdout and JSON, CSV, Go benchmark-format lines and charts to -out.
//
// Usage:
//
//	echo-bench -quick                 # what `make bench` runs (≤ 3 min)
//	echo-bench                        # the full matrix (`make bench-full`)
//	echo-bench -servers c,go-net -conns 1,100 -sizes 64 -rounds 5
//	echo-bench -callgrind             # user-space instructions per echo
//	echo-bench -calls                 # one select call through every wrapper (make bench-calls: -calls-grid full)
//
// It builds nothing: run `make` first. It exits 1 if any echo failed.
package main

// Each benchmark has its package under internal/ (matrix, calls,
// callgrind), the pieces they share theirs (stats, table, chart, env, cpu,
// console, servers); this package is the command line and the dispatch.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/selectc/selectc/cmd/echo-bench/internal/cpu"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))

	// Pin before any goroutine of ours exists (signal.NotifyContext below
	// starts one), so that every thread is on the load generator's CPU.
	pin := pinSelf(o)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	res, err := measure(ctx, o, pin, stderr)
	if res == nil {
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 2
	}
	if err := writeOutputs(o, res, stdout); err != nil {
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 1
	}
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "echo-bench:", err)
		return 1
	case res.Errors() > 0:
		fmt.Fprintf(stderr, "echo-bench: %d error(s); see the Errors section\n", res.Errors())
		return 1
	}
	return 0
}

// pinning is where pinSelf left the load generator, and where the servers
// go.
type pinning struct {
	text        string // why nothing is pinned; "" when pinned (each benchmark says how, once it knows its rows)
	clientCores int    // cores the load generator may use
	serverCPU   int    // -1: unpinned
	measured    []int  // cores whose foreign load is watched; none: all
}

// pinSelf pins this process to -client-cpu unless told not to, or unless
// there is nothing to pin to.
func pinSelf(o *options) pinning {
	p := pinning{text: "none (-no-pin)", clientCores: runtime.GOMAXPROCS(0), serverCPU: -1}
	if o.noPin {
		return p
	}
	if n := cpu.Online(); n < 2 || o.clientCPU == o.serverCPU {
		p.text = fmt.Sprintf("none (%d CPU(s), or client and server CPU equal)", n)
	} else if err := cpu.Pin(o.clientCPU); err != nil {
		slog.Warn("could not pin the load generator; running unpinned", "err", err)
		p.text = "none (pinning failed: " + err.Error() + ")"
	} else {
		p = pinning{clientCores: 1, serverCPU: o.serverCPU, measured: []int{o.clientCPU, o.serverCPU}}
	}
	return p
}
