// Command echo-server is the seed post's echo server in Go on selectc:
// select(2) through cgo, one crossing per round.
//
//	echo-server [-addr localhost:8090] [-v] [-mode select|reactor|poller]
//
// -mode=select (the default) is the post's loop, driven from Go:
//
//	readable, writable, exceptional, err := selectc.Select(inputs, outputs, inputs, timeout)
//
// -mode=reactor turns it inside out: the loop runs in C (selectc.Loop) and
// calls a Go handler per ready descriptor. -mode=poller is the loop in Go
// again, on selectc.Poller: the fd_sets kept in C, and every ready
// descriptor back from one cgo call per round.
package main

import (
	"flag"
	"fmt"

	"github.com/selectc/selectc/cmd/internal/echoserver"
)

func main() {
	cmd := echoserver.NewCommand(flag.CommandLine)
	mode := flag.String("mode", "select", "`select`: the post's loop in Go; reactor: the loop in C calling Go handlers; poller: the loop in Go on selectc.Poller")
	cmd.SpareP(flag.CommandLine)
	flag.Parse()
	cmd.ApplyMinProcs()
	ctx, stop := cmd.Context()
	defer stop()

	ln, err := echoserver.Listen(ctx, cmd.Addr)
	if err != nil {
		cmd.Exit(err)
	}
	cmd.Config.Log.Info("starting up", "addr", cmd.Addr, "mode", *mode)
	switch *mode {
	case "select":
		err = echoserver.NewPostLoop(cmd.Config, &fdLists{}, ln).Serve(ctx)
	case "reactor":
		err = serveReactor(ctx, cmd.Config, ln)
	case "poller":
		err = servePoller(ctx, cmd.Config, ln)
	default:
		err = fmt.Errorf("unknown -mode %q (want select, reactor or poller)", *mode)
	}
	cmd.Exit(err)
}
