package echoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Listen opens a non-blocking TCP listener on addr (HOST:PORT) with backlog
// SOMAXCONN and returns its raw descriptor.
func Listen(ctx context.Context, addr string) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return -1, fmt.Errorf("listen %s: no IPv4 address: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return -1, fmt.Errorf("listen %s: bad port: %w", addr, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	sa := &unix.SockaddrInet4{Port: p, Addr: ips[0].As4()}
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		err = os.NewSyscallError("setsockopt", err)
	} else if err = unix.Bind(fd, sa); err != nil {
		err = os.NewSyscallError("bind", err)
	} else if err = unix.Listen(fd, unix.SOMAXCONN); err != nil {
		err = os.NewSyscallError("listen", err)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen %s: %w", addr, err)
	}
	return fd, nil
}

// errAgain means the listener has no more connections waiting.
var errAgain = errors.New("no connection waiting")

// acceptOne accepts one connection from the non-blocking listener ln and
// makes it ready to serve. It returns errAgain when the queue is empty. A
// connection whose descriptor select(2) could not watch (fd >= FD_SETSIZE)
// is closed at once and reported wrapping errFdSetSize.
func acceptOne(ln int) (*Conn, error) {
	fd, sa, err := unix.Accept4(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	switch {
	case err == unix.EAGAIN:
		return nil, errAgain
	case err != nil:
		return nil, os.NewSyscallError("accept", err)
	}
	peer := sockaddrString(sa)
	if fd >= FdSetSize {
		unix.Close(fd)
		return nil, fmt.Errorf("refusing %s: fd %d: %w", peer, fd, errFdSetSize)
	}
	// Echoes are small and latency-bound: send each one now (no Nagle).
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return &Conn{Fd: fd, Peer: peer}, nil
}

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
		case errors.Is(err, unix.EINTR):
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

// connGone reports whether accept failed for the one connection at the head
// of the queue, so that the next can be accepted at once: a connection
// aborted in the backlog, and the network errors Linux passes on from the
// new socket (accept(2), "Error handling").
func connGone(err error) bool {
	for _, e := range []error{unix.ECONNABORTED, unix.EPROTO, unix.EPERM,
		unix.ENETDOWN, unix.ENOPROTOOPT, unix.EHOSTDOWN, unix.ENONET, unix.EHOSTUNREACH,
		unix.EOPNOTSUPP, unix.ENETUNREACH} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return "unknown"
}
