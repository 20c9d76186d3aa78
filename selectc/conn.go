//go:build cgo && (linux || windows)

package selectc

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// ConnFD returns the descriptor behind c (a *net.TCPConn, *net.UnixConn,
// *net.UDPConn, *os.File, or anything else with a SyscallConn method), for
// Select, Poller.Register and the other calls that take an FD. It reads the
// number through SyscallConn().Control: unlike os.File.Fd it leaves the
// descriptor in non-blocking mode, so c's deadlines and the Go runtime's
// poller keep working.
//
// The FD is only a number, and it names c's file only while c is open: c
// must outlive every select that watches the FD. Keep c reachable (a
// connection that the garbage collector finalizes is closed), and close it
// only after taking the FD out of every list, Poller and Loop: after
// Close the number is free, and the next file opened may get it. A closed c
// gives an error that says so (errors.Is os.ErrClosed or net.ErrClosed).
func ConnFD(c syscall.Conn) (FD, error) {
	fd, err := connFd("SyscallConn", c)
	return FD(fd), err
}

// connFd reads c's descriptor through Control. Errors name op; a closed
// *os.File says "file already closed" (os.ErrClosed), where Control itself
// says only "use of closed file".
func connFd(op string, c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("%s: %T: %w", op, c, err)
	}
	fd := -1
	if err := rc.Control(func(s uintptr) { fd = int(s) }); err != nil {
		if f, ok := c.(*os.File); ok {
			return -1, &os.PathError{Op: op, Path: f.Name(), Err: os.ErrClosed}
		}
		return -1, fmt.Errorf("%s: %w", op, err)
	}
	return fd, nil
}

// fdKind says how a Selector finds the descriptor of its elements.
type fdKind uint8

const (
	kindUnknown fdKind = iota // not looked at yet
	kindFD                    // T is FD: the elements are the descriptors
	kindFd                    // the element's own Fd method: other plain Filers
	kindConn                  // a syscall.Conn (*os.File): through Control, never Fd
	kindEach                  // T is an interface type: decided element by element
)

// kindOf decides, once per element type, whether T's Fd method may be
// called. os.File.Fd switches the file to blocking mode, after which its
// deadlines stop working: a type that is also a syscall.Conn is read
// through Control instead.
func kindOf[T Filer]() fdKind {
	var zero T
	switch any(zero).(type) {
	case nil:
		return kindEach
	case FD:
		return kindFD
	case syscall.Conn:
		return kindConn
	}
	return kindFd
}

// asFDs is list itself, seen as the []FD it is; only for kindFD.
func asFDs[T Filer](list []T) []FD {
	return unsafe.Slice((*FD)(unsafe.Pointer(unsafe.SliceData(list))), len(list))
}

// fdOf returns f's descriptor the way kind says.
func fdOf[T Filer](f T, kind fdKind) (int, error) {
	if kind == kindConn || kind == kindEach {
		if c, ok := any(f).(syscall.Conn); ok {
			return connFd("select", c)
		}
	}
	return int(f.Fd()), nil
}
