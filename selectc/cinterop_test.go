//go:build linux

package selectc

import (
	"errors"
	"math"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An fd_set in memory the Go heap does not own (a page from mmap, as a C
// library's malloc would give) is a working FdSet in place: FD_SET through
// it, select(2) on it, the answer read from the same bytes.
func TestFdSetFromCMemory(t *testing.T) {
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(page) })
	cset := unsafe.Pointer(&page[0])

	idle, _ := pipe(t)
	ready := readyPipe(t)
	r := FdSetFromC(cset)
	if r.CPointer() != cset {
		t.Fatalf("FdSetFromC(%p).CPointer() = %p: not the same memory", cset, r.CPointer())
	}
	for _, f := range []int{int(idle.Fd()), int(ready.Fd())} {
		if err := r.Set(f); err != nil {
			t.Fatal(err)
		}
	}
	nfds := max(int(idle.Fd()), int(ready.Fd())) + 1
	n, err := SelectFdSet(nfds, r, nil, nil, &Timeval{Sec: 2})
	if err != nil || n != 1 {
		t.Fatalf("SelectFdSet on a C-owned set: n=%d err=%v, want 1 ready", n, err)
	}
	theirs := (*unix.FdSet)(cset)
	if !theirs.IsSet(int(ready.Fd())) || theirs.IsSet(int(idle.Fd())) {
		t.Fatal("select's answer is not in the C memory: want only the ready pipe set")
	}
	if (*FdSet)(nil).CPointer() != nil || FdSetFromC(nil) != nil {
		t.Fatal("nil does not stay nil")
	}
}

// cTimeval is x/sys/unix's Timeval, generated from the C headers of each
// platform, as an independent witness of struct timeval's layout.
func cTimeval(t *testing.T) *unix.Timeval {
	t.Helper()
	c, err := Timeval{}.toC()
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.Sizeof(c) != unsafe.Sizeof(unix.Timeval{}) {
		t.Fatalf("struct timeval is %d bytes, x/sys/unix's Timeval %d: the witness does not fit this platform",
			unsafe.Sizeof(c), unsafe.Sizeof(unix.Timeval{}))
	}
	return &unix.Timeval{Sec: -7, Usec: -7} // a value no case writes
}

func TestTimevalFromC(t *testing.T) {
	c := cTimeval(t)
	for _, tv := range []Timeval{{0, 0}, {12, 345678}, {math.MaxInt32, 999999}, {-1, 0}, {0, 1000000}} {
		c.Sec, c.Usec = int64OrFail(t, tv.Sec, c.Sec), int64OrFail(t, tv.Usec, c.Usec)
		if got := TimevalFromC(unsafe.Pointer(c)); got != tv {
			t.Errorf("TimevalFromC(%+v) = %+v: want the value as given", *c, got)
		}
	}
}

// int64OrFail converts v to the type of the witness's field like.
func int64OrFail[T int32 | int64](t *testing.T, v int64, like T) T {
	t.Helper()
	if int64(T(v)) != v {
		t.Fatalf("%d does not fit the witness's %T", v, like)
	}
	return T(v)
}

// ToC writes select's timeouts exactly, refuses what select refuses, and
// saturates a Sec the platform's time_t cannot hold (2^31-1 where it is 32
// bits wide): the longest timeval there is, never a wrapped one.
func TestTimevalToC(t *testing.T) {
	c := cTimeval(t)
	maxSec := int64(math.MaxInt64)
	if unsafe.Sizeof(c.Sec) == 4 {
		maxSec = math.MaxInt32
	}
	longest := Timeval{maxSec, 999999}
	sat := func(tv Timeval) Timeval {
		if tv.Sec > maxSec {
			return longest
		}
		return tv
	}
	cases := []struct{ in, want Timeval }{
		{Timeval{}, Timeval{}},
		{Timeval{12, 345678}, Timeval{12, 345678}},
		{NewTimeval(90 * time.Minute), Timeval{5400, 0}},
		{Timeval{math.MaxInt32, 999999}, Timeval{math.MaxInt32, 999999}},
		{Timeval{math.MaxInt32 + 1, 0}, sat(Timeval{math.MaxInt32 + 1, 0})},
		{Timeval{1 << 40, 5}, sat(Timeval{1 << 40, 5})},
		{Timeval{math.MaxInt64, 0}, sat(Timeval{math.MaxInt64, 0})},
		{Timeval{math.MaxInt64, 999999}, longest},
	}
	for _, k := range cases {
		if err := k.in.ToC(unsafe.Pointer(c)); err != nil {
			t.Fatalf("ToC(%+v): %v", k.in, err)
		}
		if got := (Timeval{int64(c.Sec), int64(c.Usec)}); got != k.want {
			t.Errorf("ToC(%+v) wrote %+v, want %+v", k.in, got, k.want)
		}
	}
	*c = unix.Timeval{Sec: 3, Usec: 4}
	for _, bad := range []Timeval{{-1, 0}, {0, -1}, {0, 1000000}, {math.MaxInt64, math.MaxInt64}} {
		if err := bad.ToC(nil); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("ToC(nil): err = %v, want os.ErrInvalid", err)
		}
		if err := bad.ToC(unsafe.Pointer(c)); !errors.Is(err, ErrTimeval) {
			t.Errorf("ToC(%+v): err = %v, want ErrTimeval", bad, err)
		}
		if c.Sec != 3 || c.Usec != 4 {
			t.Fatalf("refused ToC(%+v) wrote %+v", bad, *c)
		}
	}
}
