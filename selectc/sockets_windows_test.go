//go:build windows

package selectc

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"
)

// nonblockingConnect starts a non-blocking connect to 127.0.0.1:port and
// returns its socket, closed when the test ends.
func nonblockingConnect(t testing.TB, port int) FD {
	t.Helper()
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Closesocket(s) })
	// ioctlsocket FIONBIO: package syscall's SetNonblock does nothing on Windows.
	on := uint32(1)
	if r, _, err := syscall.NewLazyDLL("ws2_32.dll").NewProc("ioctlsocket").Call(uintptr(s), 0x8004667e, uintptr(unsafe.Pointer(&on))); int32(r) != 0 {
		t.Fatal(err)
	}
	const wsaEWOULDBLOCK = syscall.Errno(10035)
	err = syscall.Connect(s, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	if err != nil && err != wsaEWOULDBLOCK && err != wsaECONNREFUSED {
		t.Fatal(err)
	}
	return FD(s)
}

// wsaECONNREFUSED is Winsock's ECONNREFUSED (package syscall names none).
const wsaECONNREFUSED = syscall.Errno(10061)

// socketError is the socket's pending error (SO_ERROR).
func socketError(fd FD) error {
	var n int32
	l := int32(unsafe.Sizeof(n))
	const soError = 0x1007 // SO_ERROR
	if err := syscall.Getsockopt(syscall.Handle(fd), syscall.SOL_SOCKET, soError, (*byte)(unsafe.Pointer(&n)), &l); err != nil {
		return err
	}
	if n != 0 {
		return syscall.Errno(n)
	}
	return nil
}

func isConnRefused(err error) bool { return errors.Is(err, wsaECONNREFUSED) }

// unsafePointer is p as an unsafe.Pointer, for ToC and TimevalFromC.
func unsafePointer(p *[4]int64) unsafe.Pointer { return unsafe.Pointer(p) }

// The tests that need Unix descriptors (pipes, fork, /proc, signals,
// rlimits, x/sys/unix's FdSet) are built for Linux alone; this names them,
// so a Windows run says what it leaves out and why.
func TestUnixOnlyTests(t *testing.T) {
	for _, f := range []struct{ files, why string }{
		{"select_test, context_test, poller_test, loop_test, loop_stress_test, mutated_test, conn_test",
			"pipes and socketpair(2), dup'd descriptors, FD_SETSIZE as a descriptor range (sockets_test and winsock_windows_test cover the same entry points on sockets)"},
		{"eintr_test", "signals (SIGALRM, SIGURG): Windows has no EINTR"},
		{"fdset_test, fuzz_test", "the fd_set as x/sys/unix's bit mask"},
		{"errors_test", "EBADF through fcntl, and descriptor ranges filled with dup2"},
		{"cinterop_test", "mmap and x/sys/unix's Timeval"},
		{"netpoll_test, loop_cleanup_test", "RLIMIT_NOFILE, /proc/self/fd"},
		{"consumer_test", "builds with the go command and a Unix module cache"},
		{"example_test, example_pty_test", "pipes and a pty"},
		{"bench_test, loop_bench_test, poller_bench_test", "benchmarks on pipes (and wine timings are not Windows timings)"},
	} {
		t.Run(f.files, func(t *testing.T) { t.Skip("Unix only: " + f.why) })
	}
}
