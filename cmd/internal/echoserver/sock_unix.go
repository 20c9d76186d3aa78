//go:build unix

package echoserver

// The sockets of the Go servers on Unix: raw non-blocking system calls on
// descriptors; sock_windows.go has Winsock's.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawRead and rawWrite are read(2) and write(2) on a non-blocking socket,
// made with RawSyscall: such a call never blocks, so the scheduler's syscall
// bookkeeping (entersyscall/exitsyscall, ~170 instructions a call under
// callgrind) buys nothing. The C server pays for neither.
func rawRead(fd int, p []byte) (int, error) {
	return rawIO(unix.SYS_READ, fd, p)
}

func rawWrite(fd int, p []byte) (int, error) {
	return rawIO(unix.SYS_WRITE, fd, p)
}

func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	var buf unsafe.Pointer
	if len(p) > 0 {
		buf = unsafe.Pointer(&p[0])
	}
	// syscall's own, not x/sys/unix's wrapper of it: one call fewer per echo.
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(buf), uintptr(len(p)))
	if errno != 0 {
		return 0, syscall.Errno(errno)
	}
	return int(n), nil
}

// isAgain: the socket has nothing to read, or no room to write, now.
func isAgain(err error) bool { return err == unix.EAGAIN }

// isIntr: a signal interrupted the call; make it again. The nil test is
// inlined into the echo path, which calls it after every read and write.
func isIntr(err error) bool { return err != nil && errors.Is(err, unix.EINTR) }

// recvUrgent reads the TCP urgent byte (MSG_OOB) without blocking.
func recvUrgent(fd int, p []byte) (int, error) {
	n, _, err := unix.Recvfrom(fd, p, unix.MSG_OOB|unix.MSG_DONTWAIT)
	return n, err
}

// isNoUrgent: there was no urgent byte to read after all (EINVAL: already
// read or never there; EAGAIN: its pointer came before the byte).
func isNoUrgent(err error) bool {
	return err == unix.EINVAL || err == unix.EAGAIN || err == unix.EINTR
}

// CloseSocket closes a socket of the servers'.
func CloseSocket(fd int) error { return unix.Close(fd) }

// Listen opens a non-blocking TCP listener on addr (HOST:PORT) with backlog
// SOMAXCONN and returns its raw descriptor.
func Listen(ctx context.Context, addr string) (int, error) {
	ip, p, err := listenAddr(ctx, addr)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	sa := &unix.SockaddrInet4{Port: p, Addr: ip}
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
