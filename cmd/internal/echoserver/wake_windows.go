//go:build windows

package echoserver

import (
	"context"
	"os"
	"syscall"
)

// wakePipe is the self-pipe trick, on Winsock, which selects on sockets
// only: a UDP socket bound to 127.0.0.1 and connected to itself. When ctx
// is done it sends itself a datagram, turns readable (it sits in inputs),
// and the loop ends. r and w are the one socket.
type wakePipe struct {
	r, w int
	stop func() bool
}

func newWakePipe(ctx context.Context) (*wakePipe, error) {
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	err = syscall.Bind(s, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	var sa syscall.Sockaddr
	if err == nil {
		sa, err = syscall.Getsockname(s)
	}
	if err == nil {
		err = syscall.Connect(s, sa)
	}
	if err == nil {
		err = setNonblock(s)
	}
	if err != nil {
		syscall.Closesocket(s)
		return nil, os.NewSyscallError("wake socket", err)
	}
	wp := &wakePipe{r: int(s), w: int(s)}
	wp.stop = context.AfterFunc(ctx, func() { rawWrite(wp.w, []byte{0}) })
	return wp, nil
}

func (wp *wakePipe) Close() {
	wp.stop()
	syscall.Closesocket(syscall.Handle(wp.r))
}
