package echoserver

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// DefaultAddr is the seed post's address.
const DefaultAddr = "localhost:8090"

// Command is what every Go echo server's main shares: the -addr and -v
// flags, a logger on stderr, and a context ended by SIGINT or SIGTERM.
type Command struct {
	Addr   string
	Config Config
}

// NewCommand registers -addr and -v on fs.
func NewCommand(fs *flag.FlagSet) *Command {
	c := &Command{}
	fs.StringVar(&c.Addr, "addr", DefaultAddr, "listen on `HOST:PORT`")
	fs.BoolVar(&c.Config.Verbose, "v", false, "log every event, as the seed post prints them")
	c.Config.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	return c
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
