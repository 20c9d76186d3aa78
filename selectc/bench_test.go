//go:build linux

package selectc

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// readyFds returns n distinct descriptors, each readable: pipe read ends
// holding a byte, their write ends closed so 1000 of them fit below 1024.
// Call done when finished with them.
func readyFds(b testing.TB, n int) (fds []FD, done func()) {
	b.Helper()
	raiseNoFile(b, 2048)
	files := make([]*os.File, 0, n)
	done = func() {
		for _, f := range files {
			f.Close()
		}
	}
	for range n {
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		w.Write([]byte{1})
		w.Close()
		files = append(files, r)
		fds = append(fds, FD(r.Fd()))
		i := len(fds) - 1
		if int(fds[i]) >= FdSetSize {
			b.Fatalf("fd %d >= FD_SETSIZE: close some descriptors", fds[i])
		}
	}
	return fds, done
}

var sizes = []int{1, 64, 1000}

// The price of one cgo crossing, the unit everything else is counted in.
func BenchmarkCgoEmptyCall(b *testing.B) {
	for b.Loop() {
		cgoCall()
	}
}

// One crossing per macro (the C prototype's way, from Go) against one
// crossing for the whole select.
func BenchmarkMacros(b *testing.B) {
	for _, n := range sizes {
		fds, done := readyFds(b, n)
		nfds := 0
		for _, fd := range fds {
			nfds = max(nfds, int(fd)+1)
		}
		b.Run(fmt.Sprintf("per-macro/fds=%d", n), func(b *testing.B) {
			var set FdSet
			for b.Loop() {
				set.Zero()
				for _, fd := range fds {
					set.Set(int(fd))
				}
				tv := Timeval{}
				if _, err := SelectFdSet(nfds, &set, nil, nil, &tv); err != nil {
					b.Fatal(err)
				}
				ready := 0
				for _, fd := range fds {
					if set.IsSet(int(fd)) {
						ready++
					}
				}
				if ready != n {
					b.Fatalf("%d ready, want %d", ready, n)
				}
			}
		})
		b.Run(fmt.Sprintf("batched/fds=%d", n), func(b *testing.B) {
			var s Selector[FD]
			for b.Loop() {
				if r, _, _, err := s.Select(fds, nil, nil, 0); err != nil || len(r) != n {
					b.Fatalf("%d ready, %v", len(r), err)
				}
			}
		})
		done()
	}
}

// Select on n ready descriptors: the Python-level call (new slices), the
// reusing Selector, and x/sys/unix.Select (no cgo) doing the same work:
// build the set, select, collect the ready ones.
func BenchmarkSelect(b *testing.B) {
	for _, n := range sizes {
		fds, done := readyFds(b, n)
		b.Run(fmt.Sprintf("selectc.Select/ready=%d", n), func(b *testing.B) {
			for b.Loop() {
				if r, _, _, err := Select(fds, nil, nil, 0); err != nil || len(r) != n {
					b.Fatalf("%d ready, %v", len(r), err)
				}
			}
		})
		b.Run(fmt.Sprintf("selectc.Selector/ready=%d", n), func(b *testing.B) {
			var s Selector[FD]
			for b.Loop() {
				if r, _, _, err := s.Select(fds, nil, nil, 0); err != nil || len(r) != n {
					b.Fatalf("%d ready, %v", len(r), err)
				}
			}
		})
		b.Run(fmt.Sprintf("unix.Select/ready=%d", n), func(b *testing.B) {
			ready := make([]FD, 0, n)
			for b.Loop() {
				var set unix.FdSet
				nfds := 0
				for _, fd := range fds {
					set.Set(int(fd))
					nfds = max(nfds, int(fd)+1)
				}
				tv := unix.Timeval{}
				if _, err := unix.Select(nfds, &set, nil, nil, &tv); err != nil {
					b.Fatal(err)
				}
				ready = ready[:0]
				for _, fd := range fds {
					if set.IsSet(int(fd)) {
						ready = append(ready, fd)
					}
				}
				if len(ready) != n {
					b.Fatalf("%d ready", len(ready))
				}
			}
		})
		done()
	}
}
