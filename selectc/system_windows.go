//go:build cgo && windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

import (
	"math"
	"syscall"
	"unsafe"
)

// What differs on Windows, behind the names the portable files use; the
// package doc's "Windows" section says it once for users, and
// system_linux.go has Linux's.

// fdRangeRule is ErrFdRange's rule: an fd_set is Winsock's list of
// SOCKETs, any value of which may go in (Windows keeps them in 32 bits).
const fdRangeRule = "0 <= fd <= 2^31-1, a SOCKET"

// fdInRange reports whether fd can go in an fd_set: whether it is a SOCKET
// value selectc's C (which passes an int) can hold. A full set is a count,
// checked where a set is filled.
func fdInRange(fd int) bool { return uint(fd) <= math.MaxInt32 }

// wakeOp names what opens the wake descriptor, in its errors.
const wakeOp = "socket"

// errBadFd is what Winsock's select says of a closed socket or a handle
// that is no socket (WSAENOTSOCK); errFull what C says of a full set.
const (
	errBadFd = syscall.Errno(10038) // WSAENOTSOCK
	errFull  = syscall.ENOSPC
)

// isBadFd reports whether select's errno says one of its sockets is bad,
// for badFds to find which: WSAENOTSOCK, or the WSAEOPNOTSUPP wine gives
// for a handle that is a file's.
func isBadFd(e syscall.Errno) bool { return e == errBadFd || e == syscall.Errno(10045) }

// cErrno is the Errno of a -errno from selectc's C: Winsock's codes
// (WSAGetLastError, 10000 and up) are Windows error codes already, which
// syscall.Errno names as they are; the C library's errno values the shims
// and the registry return are mapped to the Errno Go gives them.
func cErrno(rc int32) syscall.Errno {
	switch code := -rc; code {
	case C.ERANGE:
		return syscall.ERANGE
	case C.EINVAL:
		return syscall.EINVAL
	case C.EEXIST:
		return syscall.EEXIST
	case C.ENOENT:
		return syscall.ENOENT
	case C.EBUSY:
		return syscall.EBUSY
	case C.ENOMEM:
		return syscall.ENOMEM
	case C.ENOSPC:
		return syscall.ENOSPC
	case C.ESHUTDOWN:
		return syscall.ESHUTDOWN
	default:
		return syscall.Errno(code)
	}
}

// isClosedFd reports whether fd is no socket (closed, or a file's or a
// pipe's handle), for badFds: Winsock's select says only that one of its
// sockets is bad, so each is asked for its socket type.
func isClosedFd(fd int) bool {
	var typ int32
	n := int32(unsafe.Sizeof(typ))
	const soType = 0x1008 // SO_TYPE
	return syscall.Getsockopt(syscall.Handle(fd), syscall.SOL_SOCKET, soType, (*byte)(unsafe.Pointer(&typ)), &n) != nil
}

// init starts Winsock (WSAStartup), which every socket call needs and
// which package net does only when a program uses it.
func init() {
	var d syscall.WSAData
	if err := syscall.WSAStartup(0x0202, &d); err != nil {
		panic("selectc: WSAStartup: " + err.Error())
	}
}
