package rawselect

import (
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// readyPipe returns a pipe's read end that holds a byte.
func readyPipe(t testing.TB) int {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	return int(r.Fd())
}

// Poll leaves the ready descriptors in the sets and clears the others, as
// select(2) does, and refuses a closed one with EBADF.
func TestPoll(t *testing.T) {
	ready := readyPipe(t)
	idle, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	defer w.Close()
	var r, wr Set
	r.Add(ready)
	r.Add(int(idle.Fd()))
	wr.Add(int(w.Fd()))
	nfds := max(ready, int(idle.Fd()), int(w.Fd())) + 1
	n, errno := Poll(nfds, &r[0], &wr[0], nil)
	if errno != 0 || n != 2 {
		t.Fatalf("Poll = %d, %v; want 2 (the full pipe readable, the write end writable)", n, errno)
	}
	if !r.Has(ready) || r.Has(int(idle.Fd())) || !wr.Has(int(w.Fd())) {
		t.Fatalf("sets after Poll: read %v, write %v", r, wr)
	}
	closed, cw, err := os.Pipe() // the lowest free numbers, within the kernel's table
	if err != nil {
		t.Fatal(err)
	}
	cfd := int(closed.Fd())
	closed.Close()
	cw.Close()
	var bad Set
	bad.Add(cfd)
	if _, errno := Poll(cfd+1, &bad[0], nil, nil); errno != syscall.EBADF {
		t.Fatalf("Poll on a closed descriptor: errno %v, want EBADF", errno)
	}
}

// A set whose words are all zero goes to the kernel as nil: in read-only
// memory, where the kernel could not write its answer back, it draws no
// EFAULT; a set with a bit in it there does.
func TestPollEmptySetIsNil(t *testing.T) {
	fd := readyPipe(t)
	mem, err := syscall.Mmap(-1, 0, 2*Size/8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	ro := (*[2]Set)(unsafe.Pointer(&mem[0]))
	ro[1].Add(fd)
	if err := syscall.Mprotect(mem, syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	var r Set
	r.Add(fd)
	if n, errno := Poll(fd+1, &r[0], &ro[0][0], &ro[0][0]); n != 1 || errno != 0 {
		t.Fatalf("Poll with empty read-only write and except sets = %d, %v; want 1, none (they go as nil)", n, errno)
	}
	if _, errno := Poll(fd+1, &r[0], nil, &ro[1][0]); errno != syscall.EFAULT {
		t.Fatalf("Poll with a read-only except set holding fd %d: errno %v, want EFAULT (the kernel writes its answer back)", fd, errno)
	}
}

// One Poll on one ready descriptor: what selectc's fast paths add to it is
// BenchmarkPollerWait's path=fast less this.
func BenchmarkPoll(b *testing.B) {
	fd := readyPipe(b)
	for b.Loop() {
		var s Set
		s.Add(fd)
		if n, errno := Poll(fd+1, &s[0], nil, nil); n != 1 || errno != 0 {
			b.Fatalf("Poll = %d, %v", n, errno)
		}
	}
}

// What passing empty sets as nil saves: one ready descriptor polled with
// empty write and except sets that Poll passes as nil, against the same
// call made with them passed as they are, which has the kernel copy them
// in and back out.
func BenchmarkPollEmptySets(b *testing.B) {
	fd := readyPipe(b)
	b.Run("as-nil", func(b *testing.B) {
		for b.Loop() {
			var r, w, x Set
			r.Add(fd)
			if n, errno := Poll(fd+1, &r[0], &w[0], &x[0]); n != 1 || errno != 0 {
				b.Fatalf("Poll = %d, %v", n, errno)
			}
		}
	})
	b.Run("passed", func(b *testing.B) {
		for b.Loop() {
			var r, w, x Set
			var zero [2]uint64
			r.Add(fd)
			n, _, errno := syscall.RawSyscall6(syscall.SYS_PSELECT6, uintptr(fd+1), uintptr(unsafe.Pointer(&r)),
				uintptr(unsafe.Pointer(&w)), uintptr(unsafe.Pointer(&x)), uintptr(unsafe.Pointer(&zero)), 0)
			if n != 1 || errno != 0 {
				b.Fatalf("pselect6 = %d, %v", n, errno)
			}
		}
	})
}
