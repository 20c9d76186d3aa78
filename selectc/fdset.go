//go:build linux || windows

package selectc

/*
#include "selectshim.h"
*/
import "C"

// FdSetSize is the FD_SETSIZE selectc's C is compiled with: 1024 on every
// system. On Linux it is the C library's, and an fd_set describes the
// descriptors 0 through FdSetSize-1; on Windows selectc sets it, and it
// counts the sockets a set holds (the package doc's "Windows" says why).
const FdSetSize int = 1024

// The two arrays fail to compile unless FdSetSize equals the C library's
// FD_SETSIZE, so the constant above can never drift from the header.
var (
	_ [FdSetSize - C.FD_SETSIZE]struct{}
	_ [C.FD_SETSIZE - FdSetSize]struct{}
)

// FdSet is a C fd_set: on Linux a 1024-bit mask, bit fd set when fd is a
// member; on Windows Winsock's list of up to FdSetSize sockets. The zero
// value is the empty set. Unlike the C macros, its methods never touch
// memory for a descriptor out of range, nor drop one from a full set. It
// is exactly the C library's fd_set, so C code can fill and read it: see
// CPointer.
//
// Each method is one cgo call into the real macro; to select on many
// descriptors, prefer Select, which builds all three sets in one call.
type FdSet struct {
	set C.fd_set
}

// Zero empties the set (FD_ZERO).
func (s *FdSet) Zero() {
	C.shim_fd_zero(&s.set)
}

// Set adds fd to the set (FD_SET). For fd out of range (ErrFdRange's rule)
// it returns an *FdError wrapping ErrFdRange, and on Windows, for a socket
// not in a set that holds FdSetSize already, one wrapping ErrTooManyFds;
// either way the set is left as it was.
func (s *FdSet) Set(fd int) error {
	if err := checkFd("FD_SET", fd); err != nil {
		return err
	}
	if rc := C.shim_fd_set(C.int(fd), &s.set); rc != 0 {
		return registryError("FD_SET", fd, int32(rc), nil)
	}
	return nil
}

// Clr removes fd from the set (FD_CLR). An fd out of range is never a
// member, so removing it does nothing.
func (s *FdSet) Clr(fd int) {
	if checkFd("FD_CLR", fd) == nil {
		C.shim_fd_clr(C.int(fd), &s.set)
	}
}

// IsSet reports whether fd is in the set (FD_ISSET). An fd out of range is
// never a member.
func (s *FdSet) IsSet(fd int) bool {
	return checkFd("FD_ISSET", fd) == nil && C.shim_fd_isset(C.int(fd), &s.set) != 0
}

// cPtr returns the C view of s for a call into select(2); nil stays nil.
func (s *FdSet) cPtr() *C.fd_set {
	if s == nil {
		return nil
	}
	return &s.set
}
