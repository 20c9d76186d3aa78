package echoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// listenAddr resolves addr (HOST:PORT) to the IPv4 address and port Listen
// binds (sock_unix.go, sock_windows.go).
func listenAddr(ctx context.Context, addr string) (ip [4]byte, port int, err error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return ip, 0, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return ip, 0, fmt.Errorf("listen %s: no IPv4 address: %w", addr, err)
	}
	if port, err = strconv.Atoi(ps); err != nil {
		return ip, 0, fmt.Errorf("listen %s: bad port: %w", addr, err)
	}
	return ips[0].As4(), port, nil
}

// errAgain means the listener has no more connections waiting.
var errAgain = errors.New("no connection waiting")

// AcceptAll accepts from the non-blocking listener ln until its queue is
// empty, handing each new connection to add: one accept per readiness, as
// in the post, drops connections under a burst. It follows the servers'
// accept-error policy (README, "The servers"): an error that belongs to the
// one connection being accepted (see connGone) is logged and the next one
// accepted at once; a connection whose descriptor select(2) cannot watch is
// closed, logged and skipped; any other error (EMFILE, ENFILE, ENOBUFS,
// ENOMEM, or one nobody expected) is logged and AcceptAll returns false:
// the caller rests the listener for AcceptBackoff, since it stays readable
// and retrying at once would spin.
func (cfg *Config) AcceptAll(ln int, add func(*Conn)) bool {
	for {
		c, err := acceptOne(ln)
		switch {
		case err == errAgain:
			return true
		case isIntr(err):
			continue
		case connGone(err):
			cfg.Log.Warn("accept: the connection failed before it was accepted", "err", err)
			continue
		case errors.Is(err, errFdSetSize):
			cfg.Log.Error("accept", "err", err)
			continue
		case err != nil:
			cfg.Log.Error("accept failed, resting the listener", "err", err, "for", AcceptBackoff)
			return false
		}
		cfg.verbose("connection from", "peer", c.Peer)
		add(c)
	}
}
