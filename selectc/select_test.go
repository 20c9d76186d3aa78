//go:build linux

package selectc

import (
	"errors"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The ready elements themselves, in input order, duplicates kept, in new slices.
func TestSelectReturnsCallersElementsInOrder(t *testing.T) {
	a, b := readyPipe(t), readyPipe(t)
	idle, _ := pipe(t)
	rlist := []*os.File{b, idle, a, b}
	r, w, x, err := Select(rlist, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []*os.File{b, a, b}; !slices.Equal(r, want) {
		t.Fatalf("readable = %v, want %v", r, want)
	}
	if len(w) != 0 || len(x) != 0 {
		t.Fatalf("writable %v, exceptional %v: want both empty", w, x)
	}
	r[0] = nil // a new slice: writing to it leaves the caller's list alone
	if rlist[0] != b {
		t.Fatal("Select returned the caller's own slice")
	}
}

func TestSelectTimeoutGivesEmptyListsAndNoError(t *testing.T) {
	idle, _ := pipe(t)
	r, w, x, err := Select([]*os.File{idle}, nil, []*os.File{idle}, 20*time.Millisecond)
	if err != nil || r == nil || w == nil || x == nil || len(r)+len(w)+len(x) != 0 {
		t.Fatalf("got %v %v %v %v; want three empty non-nil slices and no error", r, w, x, err)
	}
}

// Nil lists are allowed; three empty lists just sleep.
func TestSelectEmptyListsSleep(t *testing.T) {
	const d = 60 * time.Millisecond
	start := time.Now()
	r, w, x, err := Select[FD](nil, nil, nil, d)
	took := time.Since(start)
	if err != nil || len(r)+len(w)+len(x) != 0 {
		t.Fatalf("got %v %v %v %v", r, w, x, err)
	}
	if took < d*2/3 { // 2/3, as x/sys/unix's TestSelect, to stay honest on a loaded machine
		t.Fatalf("slept %v, want about %v", took, d)
	}
}

// 0 polls; a positive timeout waits about that long; Forever waits for readiness.
func TestSelectTimeouts(t *testing.T) {
	idle, w := pipe(t)
	t.Run("poll", func(t *testing.T) {
		start := time.Now()
		if r, _, _, err := Select([]*os.File{idle}, nil, nil, 0); err != nil || len(r) != 0 {
			t.Fatalf("poll: %v %v", r, err)
		}
		if took := time.Since(start); took > 50*time.Millisecond {
			t.Fatalf("poll took %v", took)
		}
	})
	t.Run("positive", func(t *testing.T) {
		const d = 80 * time.Millisecond
		start := time.Now()
		Select([]*os.File{idle}, nil, nil, d)
		if took := time.Since(start); took < d*2/3 {
			t.Fatalf("waited %v, want about %v", took, d)
		}
	})
	t.Run("forever", func(t *testing.T) {
		const d = 50 * time.Millisecond
		timer := time.AfterFunc(d, func() { w.Write([]byte{1}) })
		defer timer.Stop()
		start := time.Now()
		r, _, _, err := Select([]*os.File{idle}, nil, nil, Forever)
		if err != nil || len(r) != 1 || r[0] != idle {
			t.Fatalf("got %v %v", r, err)
		}
		if took := time.Since(start); took < d*2/3 {
			t.Fatalf("returned after %v, before the write", took)
		}
	})
}

// Out-of-range fds are refused before the kernel is called: with Forever
// and nothing ready, a call that reached select(2) would block.
func TestSelectRefusesOutOfRangeFd(t *testing.T) {
	raiseNoFile(t, 1100)
	idle, _ := pipe(t)
	at1024 := dupTo(t, idle, 1024)
	for _, fd := range []FD{-1, FD(FdSetSize), at1024, 1 << 20} {
		done := make(chan error, 1)
		go func() {
			_, _, _, err := Select([]FD{FD(idle.Fd())}, nil, []FD{fd}, Forever)
			done <- err
		}()
		select {
		case err := <-done:
			var fe *FdError
			if !errors.As(err, &fe) || fe.Fd != int(fd) || !errors.Is(err, ErrFdRange) {
				t.Fatalf("fd %d: err = %v, want an *FdError naming it, wrapping ErrFdRange", fd, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("fd %d: Select blocked: it reached the kernel", fd)
		}
	}
}

func TestSelectTooManyFds(t *testing.T) {
	r := readyPipe(t)
	list := make([]*os.File, FdSetSize+1)
	for i := range list {
		list[i] = r
	}
	if _, _, _, err := Select(nil, list, nil, 0); !errors.Is(err, ErrTooManyFds) {
		t.Fatalf("err = %v, want ErrTooManyFds", err)
	}
	// Exactly FdSetSize entries (duplicates of one fd) are fine.
	got, _, _, err := Select(list[:FdSetSize], nil, nil, 0)
	if err != nil || len(got) != FdSetSize {
		t.Fatalf("FdSetSize entries: %d ready, err %v", len(got), err)
	}
}

// A closed fd: EBADF, and the error names it.
func TestSelectNamesClosedFds(t *testing.T) {
	good := readyPipe(t)
	// Raw pipes, not *os.File: a finalizer must never close these numbers
	// again after another test has reused them.
	var p1, p2 [2]int
	if err := unix.Pipe2(p1[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if err := unix.Pipe2(p2[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	bad1, bad2 := FD(p1[0]), FD(p2[1])
	unix.Close(p1[0])
	unix.Close(p2[1])
	defer unix.Close(p1[1])
	defer unix.Close(p2[0])
	_, _, _, err := Select([]FD{FD(good.Fd()), bad1}, []FD{bad2}, nil, Forever)
	if !errors.Is(err, syscall.EBADF) {
		t.Fatalf("err = %v, want EBADF", err)
	}
	named := map[int]bool{}
	for _, e := range unwrapAll(err) {
		var fe *FdError
		if errors.As(e, &fe) {
			named[fe.Fd] = true
		}
	}
	if !named[int(bad1)] || !named[int(bad2)] || len(named) != 2 {
		t.Fatalf("err = %q names %v, want exactly fds %d and %d", err, named, bad1, bad2)
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// nfds follows the highest fd (1023 works), and the sets are rebuilt
// from the lists on every call.
func TestSelectHighestFdAndRebuild(t *testing.T) {
	raiseNoFile(t, 1100)
	r, w := pipe(t)
	hi := dupTo(t, r, FdSetSize-1)
	zero := FD(0) // stdin: in range whatever it is; only its presence matters
	if _, _, _, err := Select([]FD{zero, hi}, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{1})
	got, _, _, err := Select([]FD{hi}, nil, nil, time.Second)
	if err != nil || !slices.Equal(got, []FD{hi}) {
		t.Fatalf("fd 1023: got %v, %v", got, err)
	}
	buf := make([]byte, 1)
	r.Read(buf)
	got, _, _, err = Select([]FD{hi}, nil, nil, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("after draining: got %v, %v; the set was not rebuilt", got, err)
	}
}

// Readiness on real pipes and loopback sockets. Every call's error is
// checked: a failing Select returns nothing ready, which must not pass for
// "not ready".
func TestSelectReadinessConditions(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		r, w := pipe(t)
		if got, _, _ := mustSelect(t, []*os.File{r}, nil, nil, 0); len(got) != 0 {
			t.Fatal("empty pipe is readable")
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := mustSelect(t, []*os.File{r}, nil, nil, 0); len(got) != 1 {
			t.Fatal("pipe with data is not readable")
		}
	})
	t.Run("socket writable", func(t *testing.T) {
		c, _ := tcpPair(t)
		if _, got, _ := mustSelect(t, nil, []FD{c}, nil, 0); len(got) != 1 {
			t.Fatal("connected socket with buffer space is not writable")
		}
	})
	t.Run("FIN", func(t *testing.T) {
		c, s := tcpPair(t)
		if got, _, _ := mustSelect(t, []FD{s}, nil, nil, 0); len(got) != 0 {
			t.Fatal("readable before the FIN")
		}
		if err := unix.Shutdown(int(c), unix.SHUT_WR); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := mustSelect(t, []FD{s}, nil, nil, time.Second); len(got) != 1 {
			t.Fatal("FIN did not make the socket readable")
		}
	})
	t.Run("RST", func(t *testing.T) {
		c, s := tcpPair(t)
		if err := unix.SetsockoptLinger(int(c), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
			t.Fatal(err)
		}
		// dup2 over the socket closes it (sending the RST) and leaves c
		// holding /dev/null for the cleanup to close.
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		if err := unix.Dup2(int(null.Fd()), int(c)); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := mustSelect(t, []FD{s}, nil, nil, time.Second); len(got) != 1 {
			t.Fatal("RST did not make the socket readable")
		}
		if _, err := unix.Read(int(s), make([]byte, 1)); err != unix.ECONNRESET {
			t.Fatalf("read after RST: %v, want ECONNRESET", err)
		}
	})
	t.Run("OOB", func(t *testing.T) {
		c, s := tcpPair(t)
		if _, _, x := mustSelect(t, nil, nil, []FD{s}, 0); len(x) != 0 {
			t.Fatal("exceptional before urgent data")
		}
		if err := unix.Sendto(int(c), []byte("!"), unix.MSG_OOB, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, x := mustSelect(t, nil, nil, []FD{s}, time.Second); len(x) != 1 {
			t.Fatal("urgent data did not put the socket in the exceptional list")
		}
	})
}

// mustSelect is Select for tests that look only at what is ready: an error
// fails the test instead of reading as "nothing ready".
func mustSelect[T Filer](t *testing.T, rlist, wlist, xlist []T, timeout time.Duration) (r, w, x []T) {
	t.Helper()
	r, w, x, err := Select(rlist, wlist, xlist, timeout)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	return r, w, x
}

// Concurrent use, under -race.
func TestSelectConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		r, w := pipe(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				w.Write([]byte{byte(i)})
				got, _, _, err := Select([]*os.File{r}, []*os.File{w}, nil, time.Second)
				if err != nil || len(got) != 1 || got[0] != r {
					errs <- errors.New("concurrent select lost readiness")
					return
				}
				r.Read(make([]byte, 1))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestSelectorReusesMemory(t *testing.T) {
	a := FD(readyPipe(t).Fd())
	var s Selector[FD]
	list := []FD{a, a, a}
	s.Select(list, list, list, 0) // warm up
	allocs := testing.AllocsPerRun(100, func() {
		if r, _, _, err := s.Select(list, list, list, 0); err != nil || len(r) != 3 {
			t.Fatalf("got %v %v", r, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Selector.Select allocates %.1f times per call, want 0", allocs)
	}
}
