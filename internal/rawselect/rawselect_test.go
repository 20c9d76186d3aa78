package rawselect

import (
	"os"
	"syscall"
	"testing"
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
