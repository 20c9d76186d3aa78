package echoserver

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// DefaultAddr is the seed post's address.
const DefaultAddr = "localhost:8090"

// Command is what every Go echo server's main shares: the -addr and -v
// flags, a logger on stderr, and a context ended by SIGINT or SIGTERM.
type Command struct {
	Addr     string
	Config   Config
	MinProcs int // -min-procs, for the servers that call SpareP
}

// NewCommand registers -addr and -v on fs. It also makes the Go runtime
// open its poller now, as importing selectc does: see "Full descriptor
// tables" in selectc's package doc for why a select server must.
func NewCommand(fs *flag.FlagSet) *Command {
	time.AfterFunc(time.Hour, func() {}).Stop()
	c := &Command{}
	fs.StringVar(&c.Addr, "addr", DefaultAddr, "listen on `HOST:PORT`")
	fs.BoolVar(&c.Config.Verbose, "v", false, "log every event, as the seed post prints them")
	c.Config.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	return c
}

// SpareP registers -min-procs on fs, for the servers whose loop blocks in
// select(2): one idle P spares them a P hand-off on every long select
// ("Blocking in C" in selectc's package doc says why, with measurements).
func (c *Command) SpareP(fs *flag.FlagSet) {
	fs.IntVar(&c.MinProcs, "min-procs", 2, "raise GOMAXPROCS to at least `N`, so a select blocked in C does not cost a P hand-off")
}

// ApplyMinProcs raises GOMAXPROCS to -min-procs, if it is lower.
func (c *Command) ApplyMinProcs() {
	if had := runtime.GOMAXPROCS(0); had < c.MinProcs {
		runtime.GOMAXPROCS(c.MinProcs)
		c.Config.Log.Debug("GOMAXPROCS raised", "from", had, "to", c.MinProcs)
	}
}

// Context returns a context that ends on SIGINT or SIGTERM.
func (c *Command) Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// Exit logs err, if any, and ends the process: status 1 on an error.
func (c *Command) Exit(err error) {
	if err != nil {
		c.Config.Log.Error("fatal", "err", err)
		os.Exit(1)
	}
	os.Exit(0)
}
