//go:build cgo && linux

package selectc

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// What differs on Linux, behind the names the portable files use; the
// package doc says it once for users, and system_windows.go has Windows'.

// fdRangeRule is ErrFdRange's rule: an fd_set is a bit mask indexed by the
// descriptor.
const fdRangeRule = "0 <= fd < FD_SETSIZE"

// fdInRange reports whether fd can go in an fd_set.
func fdInRange(fd int) bool { return uint(fd) < uint(FdSetSize) }

// wakeOp names what opens the wake descriptor, in its errors.
const wakeOp = "eventfd"

// errBadFd is what select says of a closed descriptor; errFull what C says
// of a full set, which only Winsock's count can be (never on Linux).
const (
	errBadFd = syscall.EBADF
	errFull  = syscall.ENOSPC
)

// isBadFd reports whether select's errno says one of its descriptors is
// bad, for badFds to find which.
func isBadFd(e syscall.Errno) bool { return e == syscall.EBADF }

// cErrno is the Errno of a -errno from selectc's C.
func cErrno(rc int32) syscall.Errno { return syscall.Errno(-rc) }

// isClosedFd reports whether fd is no open descriptor, for badFds: the
// kernel's EBADF says only that one of a select's is bad, so each is asked
// with fcntl(F_GETFD).
func isClosedFd(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == unix.EBADF
}
