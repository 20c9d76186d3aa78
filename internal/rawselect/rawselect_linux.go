// Package rawselect is select(2) for a poll that cannot sleep, made as a
// raw system call: without the handshake (entersyscall/exitsyscall) that
// every cgo call and every syscall.Syscall makes with Go's scheduler so
// that it can run other goroutines while the thread is in the kernel.
// A raw call keeps its P for as long as it runs, so it is only for calls
// that return at once: here a select with a zero timeout. Go's own
// scheduler does the same (a non-blocking netpoll first, the blocking one
// only when there is nothing else to do). The README's "The floor" says
// what that saves, and what no Go program can save.
//
// It is pure Go (no cgo): selectc's fast paths use it, and so does
// echo-bench's call-level worker for a Go program without cgo.
package rawselect

import (
	"math/bits"
	"syscall"
	"unsafe"
)

// Size is FD_SETSIZE, the descriptors a Set holds: 1024 in glibc and musl
// alike (selectc asserts that against its C at compile time).
const Size = 1024

// WordBits is the bits of one word of a Set: C's unsigned long, which on
// Linux is as wide as Go's uint on every architecture.
const WordBits = bits.UintSize

// Set is an fd_set read a word at a time, as the C library's macros lay it
// out: descriptor fd is bit fd%WordBits of word fd/WordBits. The kernel
// reads it as an array of unsigned long, so the layout holds on big-endian
// systems too.
type Set [Size / WordBits]uint

// Add puts fd, which must lie in [0, Size), in s.
func (s *Set) Add(fd int) { s[fd/WordBits] |= 1 << (uint(fd) % WordBits) }

// Has reports whether fd, which must lie in [0, Size), is in s.
func (s *Set) Has(fd int) bool { return s[fd/WordBits]&(1<<(uint(fd)%WordBits)) != 0 }

// Poll asks the kernel which descriptors below nfds in the sets whose
// first words are r, w and x (nil for none) are ready, without waiting,
// and leaves only those in the sets: select(2) with a zero timeout. The
// kernel reads and writes the first (nfds+WordBits-1)/WordBits words of
// each, so a set may be that short: &set[0] of a Set, or of a shorter
// array of words. It returns how many bits are left
// set, or the errno of the call (then the sets say nothing), EINTR
// included: the caller decides what a failure means.
//
// The call is pselect6, what glibc's select makes on every architecture
// (musl's makes select where the kernel has it: the same kernel code). The
// zero timeout is 16 zero bytes, a timespec of 32-bit or 64-bit time alike
// (armhf's pselect6 reads the 32-bit one), with room for the kernel to
// write back the time left; no signal mask is passed.
//
// A set whose words up to nfds are all zero goes to the kernel as nil, the
// empty set: the kernel copies each set it is given in and back out, and on
// a one-descriptor poll those two copies of two empty sets cost a quarter
// of the call. A set of zero words would have come back as it went, so the
// caller cannot tell (selectshim_unix.h's in_use does the same in C).
func Poll(nfds int, r, w, x *uint) (int, syscall.Errno) {
	var zero [2]uint64
	nw := (nfds + WordBits - 1) / WordBits
	n, _, errno := syscall.RawSyscall6(syscall.SYS_PSELECT6, uintptr(nfds),
		inUse(r, nw), inUse(w, nw), inUse(x, nw),
		uintptr(unsafe.Pointer(&zero)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}

// inUse is the set whose first word is p, nw words long, as the kernel's
// argument: 0 (nil) when p is nil or every word is zero.
func inUse(p *uint, nw int) uintptr {
	if p == nil {
		return 0
	}
	any := *p
	for k := 1; k < nw; k++ {
		any |= *(*uint)(unsafe.Add(unsafe.Pointer(p), k*WordBits/8))
	}
	if any == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(p))
}
