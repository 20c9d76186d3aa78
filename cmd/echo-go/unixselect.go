package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/internal/echoserver"
)

// unixSelector is echoserver.ListSelector on golang.org/x/sys/unix.Select: the
// same select(2) as selectc, reached by a raw system call instead of cgo.
// It builds the fd_sets in Go and keeps its memory between calls.
type unixSelector struct {
	sets    [3]unix.FdSet
	r, w, x []echoserver.FD
}

func (u *unixSelector) Select(rlist, wlist, xlist []echoserver.FD, timeout time.Duration) (r, w, x []echoserver.FD, err error) {
	lists := [3][]echoserver.FD{rlist, wlist, xlist}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		nfds := 0
		for i, list := range lists {
			u.sets[i].Zero()
			for _, fd := range list {
				// x/sys/unix.FdSet.Set panics (or writes a wrong bit) out of range.
				if fd < 0 || int(fd) >= echoserver.FdSetSize {
					return nil, nil, nil, fmt.Errorf("select: fd %d outside 0..%d", fd, echoserver.FdSetSize-1)
				}
				u.sets[i].Set(int(fd))
				nfds = max(nfds, int(fd)+1)
			}
		}
		var tv *unix.Timeval
		if timeout >= 0 {
			t := unix.NsecToTimeval(timeout.Nanoseconds())
			tv = &t
		}
		_, err = unix.Select(nfds, &u.sets[0], &u.sets[1], &u.sets[2], tv)
		if err != unix.EINTR {
			break
		}
		if timeout > 0 {
			if timeout = time.Until(deadline); timeout <= 0 {
				u.sets = [3]unix.FdSet{}
				err = nil
				break
			}
		}
	}
	if err != nil {
		return nil, nil, nil, os.NewSyscallError("select", err)
	}
	u.r, u.w, u.x = u.r[:0], u.w[:0], u.x[:0]
	for i, dst := range [3]*[]echoserver.FD{&u.r, &u.w, &u.x} {
		for _, fd := range lists[i] {
			if u.sets[i].IsSet(int(fd)) {
				*dst = append(*dst, fd)
			}
		}
	}
	return u.r, u.w, u.x, nil
}
