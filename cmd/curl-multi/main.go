//go:build libcurl

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 20, "transfers from the built-in server (when no URL is given)")
	size := flag.Int("size", 100_000, "bytes per transfer from the built-in server")
	timeout := flag.Duration("timeout", 30*time.Second, "limit of each transfer (0: none)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: curl-multi [flags] [URL...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, flag.Args(), *n, *size, *timeout); err != nil {
		slog.Error("curl-multi", "err", err)
		os.Exit(1)
	}
}

// run fetches urls, or n transfers of size bytes from a server of its own
// on 127.0.0.1 (every byte checked), and prints a line per failed transfer
// and a summary.
func run(ctx context.Context, urls []string, n, size int, timeout time.Duration) error {
	local := len(urls) == 0
	if local {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(serveBytes)}
		go srv.Serve(ln)
		defer srv.Close()
		for i := range n {
			urls = append(urls, bytesURL("http://"+ln.Addr().String(), size, i))
		}
	}
	reqs := make([]Request, len(urls))
	for i, u := range urls {
		reqs[i] = Request{URL: u, Timeout: timeout}
	}
	start := time.Now()
	results, st, err := Fetch(ctx, reqs)
	elapsed := time.Since(start)
	var bytes, failed int
	for i, r := range results {
		if r.Err == nil && local {
			r.Err = checkBody(r.Body, i, size)
		}
		if r.Err != nil {
			failed++
			slog.Error("transfer", "url", urls[i], "bytes", len(r.Body), "err", r.Err)
		}
		bytes += len(r.Body)
	}
	checked := ""
	if local {
		checked = ", every byte checked"
	}
	fmt.Printf("%d transfers, %d failed, %d B%s, %d selects, %d performs, %v\n",
		len(results), failed, bytes, checked, st.Selects, st.Performs, elapsed.Round(10*time.Microsecond))
	if err == nil && failed > 0 {
		err = fmt.Errorf("%d of %d transfers failed", failed, len(results))
	}
	return err
}
