package callworker

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// FdSetSize is glibc's FD_SETSIZE, the bound every wrapper shares, and
// the one home of that number in echo-bench. This package must build
// without cgo, so it cannot ask the C header; a test holds it to selectc's
// FdSetSize, which the C header holds.
const FdSetSize = 1024

// Layout is the watched descriptors of one measurement, the same in every
// worker: First .. First+N-1, each a dup of one of two pipes, an empty one
// and one holding a byte. Dups let 1000 watched descriptors fit below
// FD_SETSIZE (a pipe per descriptor would need two each), and fixed numbers
// give every wrapper the same nfds and the same bits to scan.
type Layout struct {
	Fds   []int // the watched descriptors, ascending
	Ready []int // those that are dups of the full pipe, ascending
	pipes []int // empty read, empty write, full read, full write
}

// NewLayout opens the descriptors: ready is "all", "none" or "one" (the
// last watched descriptor is the ready one). It fails rather than dup2 over
// a descriptor that is already open.
func NewLayout(first, n int, ready string) (l *Layout, err error) {
	if n < 1 || first < 3 || first+n > FdSetSize {
		return nil, fmt.Errorf("descriptors %d..%d outside 3..%d", first, first+n-1, FdSetSize-1)
	}
	var fds []int
	for fd := first; fd < first+n; fd++ {
		fds = append(fds, fd)
	}
	l = &Layout{}
	switch ready {
	case "all":
		l.Ready = fds
	case "one":
		l.Ready = fds[n-1:]
	case "none":
		l.Ready = []int{}
	default:
		return nil, fmt.Errorf("ready %s: want one, all or none", ready)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.Close())
		}
	}()
	var empty, full [2]int
	for _, p := range []*[2]int{&empty, &full} {
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return l, os.NewSyscallError("pipe2", err)
		}
		l.pipes = append(l.pipes, p[0], p[1])
	}
	if _, err := unix.Write(full[1], []byte{'x'}); err != nil {
		return l, os.NewSyscallError("write", err)
	}
	for _, fd := range l.pipes {
		if fd >= first {
			return l, fmt.Errorf("pipe fd %d inside the watched range from %d", fd, first)
		}
	}
	isReady := map[int]bool{}
	for _, fd := range l.Ready {
		isReady[fd] = true
	}
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			return l, fmt.Errorf("fd %d is already open", fd)
		}
		src := empty[0]
		if isReady[fd] {
			src = full[0]
		}
		if err := unix.Dup3(src, fd, unix.O_CLOEXEC); err != nil {
			return l, fmt.Errorf("dup3 %d: %w", fd, err)
		}
		l.Fds = append(l.Fds, fd) // only what is open, for Close
	}
	return l, nil
}

// Nfds is select's first argument for l: the highest watched descriptor + 1.
func (l *Layout) Nfds() int { return l.Fds[len(l.Fds)-1] + 1 }

// Close closes every descriptor of l.
func (l *Layout) Close() error {
	var errs []error
	for _, fd := range append(l.Fds, l.pipes...) {
		if err := unix.Close(fd); err != nil {
			errs = append(errs, fmt.Errorf("close %d: %w", fd, err))
		}
	}
	l.Fds, l.pipes = nil, nil
	return errors.Join(errs...)
}
