//go:build windows

package echoserver

// The sockets of the Go servers on Windows: Winsock's calls on SOCKET
// handles, non-blocking; sock_unix.go has Unix's. Package syscall has no
// accept, recv or send for Windows, so those come from ws2_32.dll.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

var (
	ws2        = syscall.NewLazyDLL("ws2_32.dll")
	procAccept = ws2.NewProc("accept")
	procRecv   = ws2.NewProc("recv")
	procSend   = ws2.NewProc("send")
	procIoctl  = ws2.NewProc("ioctlsocket")
)

// setNonblock makes s non-blocking (ioctlsocket FIONBIO): package
// syscall's SetNonblock does nothing on Windows.
func setNonblock(s syscall.Handle) error {
	const fionbio = 0x8004667e
	on := uint32(1)
	_, err := wsaInt(procIoctl, uintptr(s), fionbio, uintptr(unsafe.Pointer(&on)))
	return err
}

// Winsock's codes that package syscall does not name.
const (
	wsaEWOULDBLOCK  = syscall.Errno(10035)
	wsaEINVAL       = syscall.Errno(10022)
	wsaECONNABORTED = syscall.Errno(10053)
	wsaECONNRESET   = syscall.Errno(10054)
	wsaENETDOWN     = syscall.Errno(10050)
	wsaEHOSTUNREACH = syscall.Errno(10065)
	msgOOB          = 1
	socketError     = ^uintptr(0) // INVALID_SOCKET
)

// wsaCall calls a ws2_32 procedure whose failure is INVALID_SOCKET (all
// 64 bits set: accept) and WSAGetLastError.
func wsaCall(p *syscall.LazyProc, args ...uintptr) (uintptr, error) {
	r, _, e := p.Call(args...)
	return r, wsaError(r == socketError, e)
}

// wsaInt calls a ws2_32 procedure that returns a C int (recv, send,
// ioctlsocket), SOCKET_ERROR (-1) on failure: only the low 32 bits of the
// register are the result, so it is read as an int32.
func wsaInt(p *syscall.LazyProc, args ...uintptr) (int, error) {
	r, _, e := p.Call(args...)
	n := int(int32(r))
	if err := wsaError(n == -1, e); err != nil {
		return 0, err
	}
	return n, nil
}

// wsaError is the error of a failed ws2_32 call: the Errno Call read
// with GetLastError, which is WSAGetLastError.
func wsaError(failed bool, e error) error {
	if failed {
		if errno, ok := e.(syscall.Errno); ok && errno != 0 {
			return errno
		}
		return syscall.EINVAL
	}
	return nil
}

func bufArgs(p []byte) (uintptr, uintptr) {
	if len(p) == 0 {
		return 0, 0
	}
	return uintptr(unsafe.Pointer(&p[0])), uintptr(len(p))
}

func rawRead(fd int, p []byte) (int, error) {
	b, n := bufArgs(p)
	return wsaInt(procRecv, uintptr(fd), b, n, 0)
}

func rawWrite(fd int, p []byte) (int, error) {
	b, n := bufArgs(p)
	return wsaInt(procSend, uintptr(fd), b, n, 0)
}

// isAgain: the socket has nothing to read, or no room to write, now.
func isAgain(err error) bool { return err == wsaEWOULDBLOCK }

// isIntr: Windows interrupts no socket call with a signal.
func isIntr(error) bool { return false }

// recvUrgent reads the TCP urgent byte (MSG_OOB); the socket is non-blocking.
func recvUrgent(fd int, p []byte) (int, error) {
	b, n := bufArgs(p)
	return wsaInt(procRecv, uintptr(fd), b, n, msgOOB)
}

// isNoUrgent: there was no urgent byte to read after all.
func isNoUrgent(err error) bool { return err == wsaEINVAL || err == wsaEWOULDBLOCK }

// CloseSocket closes a socket of the servers'.
func CloseSocket(fd int) error { return syscall.Closesocket(syscall.Handle(fd)) }

// Listen opens a non-blocking TCP listener on addr (HOST:PORT) with backlog
// SOMAXCONN and returns its socket.
func Listen(ctx context.Context, addr string) (int, error) {
	ip, p, err := listenAddr(ctx, addr)
	if err != nil {
		return -1, err
	}
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	sa := &syscall.SockaddrInet4{Port: p, Addr: ip}
	if err = syscall.Bind(s, sa); err != nil {
		err = os.NewSyscallError("bind", err)
	} else if err = syscall.Listen(s, syscall.SOMAXCONN); err != nil {
		err = os.NewSyscallError("listen", err)
	} else if err = setNonblock(s); err != nil {
		err = os.NewSyscallError("ioctlsocket", err)
	}
	if err != nil {
		syscall.Closesocket(s)
		return -1, fmt.Errorf("listen %s: %w", addr, err)
	}
	return int(s), nil
}

// acceptOne accepts one connection from the non-blocking listener ln and
// makes it ready to serve (non-blocking, no Nagle). It returns errAgain
// when the queue is empty. A socket is never refused for its value:
// Winsock's FD_SETSIZE counts sockets (selectc refuses a full set).
func acceptOne(ln int) (*Conn, error) {
	var sa syscall.RawSockaddrAny
	n := int32(unsafe.Sizeof(sa))
	r, err := wsaCall(procAccept, uintptr(ln), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&n)))
	switch {
	case err == wsaEWOULDBLOCK:
		return nil, errAgain
	case err != nil:
		return nil, os.NewSyscallError("accept", err)
	}
	s := syscall.Handle(r)
	peer := "unknown"
	if sa.Addr.Family == syscall.AF_INET {
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&sa))
		port := int(a.Port>>8 | a.Port<<8)
		peer = net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(port))
	}
	if err := setNonblock(s); err != nil {
		syscall.Closesocket(s)
		return nil, os.NewSyscallError("ioctlsocket", err)
	}
	syscall.SetsockoptInt(s, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	return &Conn{Fd: int(s), Peer: peer}, nil
}

// connGone reports whether accept failed for the one connection at the
// head of the queue (Winsock's names for sock_unix.go's list).
func connGone(err error) bool {
	for _, e := range []error{wsaECONNABORTED, wsaECONNRESET, wsaENETDOWN, wsaEHOSTUNREACH} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
