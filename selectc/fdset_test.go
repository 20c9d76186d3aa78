//go:build linux

package selectc

import (
	"errors"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestFdSetSizeIsTheCLibrarys(t *testing.T) {
	if FdSetSize != 1024 {
		t.Fatalf("FdSetSize = %d, want glibc's 1024", FdSetSize)
	}
	if got := int(unsafe.Sizeof(FdSet{})) * 8; got != FdSetSize {
		t.Fatalf("an fd_set holds %d bits, want FdSetSize = %d", got, FdSetSize)
	}
}

// bits is the fd_set's memory as x/sys/unix sees it, through the pointer
// selectc hands to C code.
func bits(s *FdSet) *unix.FdSet { return (*unix.FdSet)(s.CPointer()) }

// FdSet agrees bit for bit with x/sys/unix's FdSet for every fd.
func TestFdSetMatchesXSysUnix(t *testing.T) {
	var ours FdSet
	var theirs unix.FdSet
	for fd := 0; fd < FdSetSize; fd++ {
		if err := ours.Set(fd); err != nil {
			t.Fatal(err)
		}
		theirs.Set(fd)
		if *bits(&ours) != theirs {
			t.Fatalf("after Set(%d) the masks differ", fd)
		}
		if !ours.IsSet(fd) || !theirs.IsSet(fd) {
			t.Fatalf("IsSet(%d) false after Set", fd)
		}
		if fd%3 == 0 {
			ours.Clr(fd)
			theirs.Clear(fd)
			if *bits(&ours) != theirs || ours.IsSet(fd) {
				t.Fatalf("after Clr(%d) the masks differ", fd)
			}
		}
	}
	ours.Zero()
	theirs.Zero()
	if *bits(&ours) != theirs || *bits(&ours) != (unix.FdSet{}) {
		t.Fatal("Zero left bits set")
	}
}

// Out of range never touches memory: not the set's, not its neighbours'.
func TestFdSetOutOfRange(t *testing.T) {
	var guarded struct {
		before [64]byte
		set    FdSet
		after  [64]byte
	}
	for i := range guarded.before {
		guarded.before[i], guarded.after[i] = 0xAA, 0x55
	}
	guarded.set.Set(7)
	snapshot := guarded
	for _, fd := range []int{-1, -64, FdSetSize, FdSetSize + 1, FdSetSize + 64, 1 << 30} {
		err := guarded.set.Set(fd)
		var fe *FdError
		if !errors.As(err, &fe) || fe.Fd != fd || fe.Op != "FD_SET" || !errors.Is(err, ErrFdRange) {
			t.Fatalf("Set(%d) = %v, want an *FdError naming fd %d wrapping ErrFdRange", fd, err, fd)
		}
		guarded.set.Clr(fd)
		if guarded.set.IsSet(fd) {
			t.Fatalf("IsSet(%d) = true", fd)
		}
	}
	if guarded != snapshot {
		t.Fatal("an out-of-range fd changed memory")
	}
}

func TestFdSetErrorMessageNamesFd(t *testing.T) {
	var s FdSet
	err := s.Set(1024)
	if want := "FD_SET: fd 1024: "; err == nil || err.Error()[:len(want)] != want {
		t.Fatalf("err = %q, want it to start %q", err, want)
	}
}

// SelectFdSet on real pipes: the raw level, with the time left reported.
func TestSelectFdSet(t *testing.T) {
	idle, _ := pipe(t)
	ready := readyPipe(t)
	nfds := max(int(idle.Fd()), int(ready.Fd())) + 1

	var r FdSet
	r.Set(int(idle.Fd()))
	r.Set(int(ready.Fd()))
	tv := NewTimeval(2 * time.Second)
	n, err := SelectFdSet(nfds, &r, nil, nil, &tv)
	if err != nil || n != 1 || !r.IsSet(int(ready.Fd())) || r.IsSet(int(idle.Fd())) {
		t.Fatalf("n=%d err=%v: want only the ready pipe left in the set", n, err)
	}
	if left := tv.Duration(); left <= time.Second || left > 2*time.Second {
		t.Fatalf("time left = %v, want just under 2s", left)
	}

	r.Zero()
	r.Set(int(idle.Fd()))
	tv = NewTimeval(30 * time.Millisecond)
	n, err = SelectFdSet(nfds, &r, nil, nil, &tv)
	if err != nil || n != 0 || r.IsSet(int(idle.Fd())) || tv != (Timeval{}) {
		t.Fatalf("timeout: n=%d err=%v tv=%v: want 0, the set cleared, no time left", n, err, tv)
	}

	for _, bad := range []int{-1, FdSetSize + 1} {
		if _, err := SelectFdSet(bad, nil, nil, nil, &Timeval{}); !errors.Is(err, ErrFdRange) {
			t.Fatalf("nfds %d: err = %v, want ErrFdRange", bad, err)
		}
	}
	if n, err := SelectFdSet(0, nil, nil, nil, &Timeval{}); n != 0 || err != nil {
		t.Fatalf("all nil: %d %v", n, err)
	}
}

// fd 1024 on a real descriptor: refused everywhere, nothing aborts.
func TestFd1024NeverReachesFD_SET(t *testing.T) {
	raiseNoFile(t, 1100)
	// Fill the table past 1024 as a busy server would.
	var held []*os.File
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()
	for len(held) < 1100 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, f)
	}
	var high *os.File
	for _, f := range held {
		if int(f.Fd()) >= FdSetSize {
			high = f
			break
		}
	}
	if high == nil {
		t.Fatal("no descriptor >= 1024 after opening 1100")
	}
	var s FdSet
	if err := s.Set(int(high.Fd())); !errors.Is(err, ErrFdRange) {
		t.Fatalf("Set(%d) = %v", high.Fd(), err)
	}
	if _, _, _, err := Select([]*os.File{held[0], high}, nil, nil, 0); !errors.Is(err, ErrFdRange) {
		t.Fatalf("Select with fd %d: %v", high.Fd(), err)
	}
	if s != (FdSet{}) {
		t.Fatal("the set changed")
	}
}
