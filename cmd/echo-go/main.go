// Command echo-go is the echo server in pure Go, without cgo: the baselines
// that tell the cost of cgo apart from the cost of select.
//
//	echo-go [-addr localhost:8090] [-v] [-engine net|unix]
//
// -engine=net is what most Go programs do: the net package, a goroutine per
// connection, epoll underneath (so no FD_SETSIZE limit). -engine=unix is
// echo-server's select loop, line for line, on golang.org/x/sys/unix.Select
// instead of selectc: the same select(2), reached by a raw system call.
package main

import (
	"flag"
	"fmt"

	"github.com/selectc/selectc/cmd/internal/echoserver"
)

func main() {
	cmd := echoserver.NewCommand(flag.CommandLine)
	engine := flag.String("engine", "net", "`net`: goroutine per connection; unix: select loop on x/sys/unix.Select")
	cmd.SpareP(flag.CommandLine) // applied by -engine=unix only: net's goroutines never block a P in a system call
	flag.Parse()
	ctx, stop := cmd.Context()
	defer stop()

	cmd.Config.Log.Info("starting up", "addr", cmd.Addr, "engine", *engine)
	var err error
	switch *engine {
	case "net":
		err = serveNet(ctx, cmd.Addr, cmd.Config)
	case "unix":
		cmd.ApplyMinProcs()
		var ln int
		if ln, err = echoserver.Listen(ctx, cmd.Addr); err == nil {
			err = echoserver.NewPostLoop(cmd.Config, &unixSelector{}, ln).Serve(ctx)
		}
	default:
		err = fmt.Errorf("unknown -engine %q (want net or unix)", *engine)
	}
	cmd.Exit(err)
}
