//go:build linux

package selectc

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// nonblockingConnect starts a non-blocking connect to 127.0.0.1:port and
// returns its socket, closed when the test ends.
func nonblockingConnect(t testing.TB, port int) FD {
	t.Helper()
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(s) })
	err = unix.Connect(s, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	if err != nil && err != unix.EINPROGRESS && err != unix.ECONNREFUSED {
		t.Fatal(err)
	}
	return FD(s)
}

// socketError is the socket's pending error (SO_ERROR).
func socketError(fd FD) error {
	n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if n != 0 {
		return unix.Errno(n)
	}
	return nil
}

func isConnRefused(err error) bool { return errors.Is(err, unix.ECONNREFUSED) }
