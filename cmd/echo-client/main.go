// Command echo-client is the seed post's echo client in Go: it opens -n
// connections and, for each of -rounds rounds, sends the post's three
// messages on all of them and checks every echo byte for byte. It exits 1 on
// any mismatch, short read or connection error.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// ioTimeout bounds every dial, write and read, so a stuck server fails the
// run instead of hanging it.
const ioTimeout = 10 * time.Second

func main() {
	addr := flag.String("addr", "localhost:8090", "server address HOST:PORT")
	n := flag.Int("n", 2, "number of connections")
	rounds := flag.Int("rounds", 1, "times to send the three messages")
	verbose := flag.Bool("v", false, "debug logging on stderr (connections, timing)")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	if *n <= 0 || *rounds <= 0 {
		slog.Error("-n and -rounds must be > 0", "n", *n, "rounds", *rounds)
		os.Exit(2)
	}
	if err := mainErr(*addr, *n, *rounds); err != nil {
		slog.Error("echo-client failed", "addr", *addr, "err", err)
		os.Exit(1)
	}
}

// mainErr dials the connections, runs the rounds and closes everything.
func mainErr(addr string, n, rounds int) error {
	// Buffered: with -n 10 -rounds 30 an unbuffered stdout costs a write
	// syscall per line.
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("parse -addr: %w", err)
	}
	fmt.Fprintf(out, "connecting to %s port %s\n", host, port)

	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			fmt.Fprintf(out, "closing socket %s\n", c.LocalAddr())
			if err := c.Close(); err != nil {
				slog.Debug("close", "conn", c.LocalAddr(), "err", err)
			}
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err != nil {
			return fmt.Errorf("dial %s: %w", addr, err)
		}
		slog.Debug("connected", "local", c.LocalAddr(), "remote", c.RemoteAddr())
		conns = append(conns, c)
	}

	start := time.Now()
	if err := run(conns, rounds, out, ioTimeout); err != nil {
		return err
	}
	elapsed := time.Since(start)
	echoes := n * rounds * len(messages)
	slog.Debug("done", "echoes", echoes, "elapsed", elapsed,
		"echoes_per_s", float64(echoes)/elapsed.Seconds())
	return nil
}
