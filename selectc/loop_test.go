//go:build linux

package selectc

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestLoopRegisterErrorsNameTheFd(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	nop := handlerFunc(func(int, Events) {})
	if err := l.Register(p.r, Read, nop); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fd   int
		ev   Events
		h    Handler
		want error
	}{
		{"negative fd", -1, Read, nop, ErrFdRange},
		{"fd at FD_SETSIZE", FdSetSize, Read, nop, ErrFdRange},
		{"fd far beyond int32", math.MaxInt, Read, nop, ErrFdRange},
		{"duplicate", p.r, Write, nop, ErrRegistered},
		{"no events", p.w, 0, nop, ErrEvents},
		{"unknown event bit", p.w, Read | 8, nop, ErrEvents},
		{"nil handler", p.w, Write, nil, ErrNilHandler},
	} {
		before := liveHandles.Load()
		err := l.Register(c.fd, c.ev, c.h)
		wantFdError(t, err, "register", c.fd, c.want)
		if liveHandles.Load() != before || l.handles.Load() != 1 {
			t.Fatalf("%s: a failed Register left a handle behind", c.name)
		}
	}
	if got := l.registered(); !slices.Equal(got, []int{p.r}) {
		t.Fatalf("registered %v, want [%d]", got, p.r)
	}
}

func TestLoopModifyErrorsNameTheFd(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	if err := l.Register(p.r, Read, handlerFunc(func(int, Events) {})); err != nil {
		t.Fatal(err)
	}
	wantFdError(t, l.Modify(p.w, Write), "modify", p.w, ErrNotRegistered)
	wantFdError(t, l.Modify(p.r, 0), "modify", p.r, ErrEvents)
	wantFdError(t, l.Modify(p.r, 16), "modify", p.r, ErrEvents)
	wantFdError(t, l.Modify(-3, Read), "modify", -3, ErrFdRange)
	if err := l.Modify(p.r, Read|Except); err != nil {
		t.Fatal(err)
	}
}

func TestLoopUnregister(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	nop := handlerFunc(func(int, Events) {})
	before := liveHandles.Load()

	wantFdError(t, l.Unregister(p.r), "unregister", p.r, ErrNotRegistered)
	wantFdError(t, l.Unregister(FdSetSize+5), "unregister", FdSetSize+5, ErrFdRange)

	if err := l.Register(p.r, Read, nop); err != nil {
		t.Fatal(err)
	}
	if liveHandles.Load() != before+1 {
		t.Fatal("Register saved no handle")
	}
	if err := l.Unregister(p.r); err != nil {
		t.Fatal(err)
	}
	// A second Unref of the same malloc'd handle would be a double free
	// (glibc aborts the test binary); the registry must refuse instead.
	wantFdError(t, l.Unregister(p.r), "unregister", p.r, ErrNotRegistered)
	if liveHandles.Load() != before || l.handles.Load() != 0 {
		t.Fatal("Unregister did not release the handle exactly once")
	}

	// A descriptor closed before Unregister is unregistered all the same,
	// and its number is free for the next Register.
	if err := l.Register(p.r, Read, nop); err != nil {
		t.Fatal(err)
	}
	fd := p.r
	p.closeR()
	if err := l.Unregister(fd); err != nil {
		t.Fatalf("Unregister of a closed fd: %v", err)
	}
	if l.handles.Load() != 0 || len(l.registered()) != 0 {
		t.Fatal("closed fd still registered")
	}
}

// call is one Ready: which handler, which fd, which events.
type call struct {
	who string
	fd  int
	ev  Events
}

// Every kind of readiness reaches the handler, all of one fd's in one call.
func TestLoopDispatchesEachEventKind(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T) (fd int, ev Events)
		want  Events
	}{
		{"read", func(t *testing.T) (int, Events) {
			p := newPipe(t)
			p.fill(t)
			return p.r, Read | Except
		}, Read},
		{"write", func(t *testing.T) (int, Events) {
			return newPipe(t).w, Write
		}, Write},
		{"read and write in one call", func(t *testing.T) (int, Events) {
			s := newSocketPair(t)
			s.fill(t) // into w: r becomes readable, and is writable anyway
			return s.r, Read | Write
		}, Read | Write},
		{"except: TCP urgent data", func(t *testing.T) (int, Events) {
			client, server := tcpPair(t)
			if err := unix.Sendto(int(client), []byte{'!'}, unix.MSG_OOB, nil); err != nil {
				t.Fatal(err)
			}
			return int(server), Except
		}, Except},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLoop(t)
			fd, ev := c.setup(t)
			ctx, stop := runCtx(t)
			var calls []call
			if err := l.Register(fd, ev, handlerFunc(func(fd int, ev Events) {
				calls = append(calls, call{"h", fd, ev})
				stop()
			})); err != nil {
				t.Fatal(err)
			}
			mustRun(t, l, ctx)
			// Level-triggered: it may be called again before the stop lands.
			if len(calls) == 0 {
				t.Fatal("handler never called")
			}
			for _, got := range calls {
				if got != (call{"h", fd, c.want}) {
					t.Fatalf("Ready(%d, %v), want Ready(%d, %v)", got.fd, got.ev, fd, c.want)
				}
			}
		})
	}
}

// A handler may unregister its own fd, register a new one, and modify it,
// all from inside Ready; each takes effect at once.
func TestLoopHandlersChangeTheRegistryFromReady(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	s := newSocketPair(t)
	p.fill(t)
	s.fill(t)
	ctx, stop := runCtx(t)
	var calls []call
	var b Handler = handlerFunc(func(fd int, ev Events) {
		calls = append(calls, call{"b", fd, ev})
		switch ev {
		case Read:
			unix.Read(fd, make([]byte, 8))
			if err := l.Modify(fd, Write); err != nil {
				t.Error(err)
			}
		case Write:
			if err := l.Unregister(fd); err != nil {
				t.Error(err)
			}
			stop()
		}
	})
	a := handlerFunc(func(fd int, ev Events) {
		calls = append(calls, call{"a", fd, ev})
		if err := l.Unregister(fd); err != nil {
			t.Error(err)
		}
		p.closeR() // after Unregister: the handle is gone before the number is free
		if err := l.Register(s.r, Read, b); err != nil {
			t.Error(err)
		}
	})
	fdA := p.r
	if err := l.Register(fdA, Read, a); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l, ctx)
	want := []call{{"a", fdA, Read}, {"b", s.r, Read}, {"b", s.r, Write}}
	if !slices.Equal(calls, want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	if n := l.handles.Load(); n != 0 || len(l.registered()) != 0 {
		t.Fatalf("%d handles, registered %v after everything unregistered", n, l.registered())
	}
}

// The heart of the design: fd b is ready in this iteration, but a's handler,
// dispatched first, unregisters b, closes it, puts a new empty pipe on b's
// number and registers a new handler there (go-pointer's malloc most likely
// hands out the freed handle's address again). The loop must dispatch
// neither the old handler nor, with the old file's readiness, the new one.
func TestLoopNoStaleDispatchAfterFdReuse(t *testing.T) {
	l := newLoop(t)
	pa, pb := newPipe(t), newPipe(t)
	if pa.r >= pb.r {
		t.Fatalf("want a's fd below b's, got %d and %d", pa.r, pb.r)
	}
	pa.fill(t)
	pb.fill(t)
	fdB := pb.r
	ctx, stop := runCtx(t)

	var oldB, newB []Events
	var fresh *fdPair
	written := false
	newHandler := handlerFunc(func(fd int, ev Events) {
		n, err := unix.Read(fd, make([]byte, 8))
		if !written || n != 1 {
			t.Errorf("new handler dispatched with readiness it does not have: ev %v, read %d, %v", ev, n, err)
		}
		newB = append(newB, ev)
		stop()
	})
	aCalls := 0
	a := handlerFunc(func(fd int, ev Events) {
		aCalls++ // a never reads: it stays ready, one call per iteration
		switch aCalls {
		case 1:
			if err := l.Unregister(fdB); err != nil {
				t.Error(err)
			}
			pb.close()
			fresh = newPipe(t) // the lowest free numbers: most likely fdB again
			if fresh.r != fdB {
				if err := unix.Dup3(fresh.r, fdB, unix.O_CLOEXEC); err != nil {
					t.Error(err)
				}
				unix.Close(fresh.r)
				fresh.r = fdB
			}
			if err := l.Register(fdB, Read, newHandler); err != nil {
				t.Error(err)
			}
		case 5: // some iterations later, give the new pipe real data
			written = true
			fresh.fill(t)
		}
	})
	if err := l.Register(pa.r, Read, a); err != nil {
		t.Fatal(err)
	}
	if err := l.Register(fdB, Read, handlerFunc(func(_ int, ev Events) { oldB = append(oldB, ev) })); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l, ctx)
	if len(oldB) != 0 {
		t.Fatalf("unregistered handler called %d times", len(oldB))
	}
	if len(newB) == 0 {
		t.Fatal("new handler never called after its pipe got data")
	}
	if aCalls < 5 {
		t.Fatalf("a called %d times", aCalls)
	}
}

// Only events still in the interest are passed on: a Modify made earlier in
// the same iteration narrows what select found.
func TestLoopModifyNarrowsEventsInTheSameIteration(t *testing.T) {
	l := newLoop(t)
	pa := newPipe(t)
	sb := newSocketPair(t)
	if pa.r >= sb.r {
		t.Fatalf("want a's fd below b's, got %d and %d", pa.r, sb.r)
	}
	pa.fill(t)
	sb.fill(t) // b: readable and writable
	ctx, stop := runCtx(t)
	var got []Events
	modified := false
	a := handlerFunc(func(int, Events) {
		if !modified {
			modified = true
			if err := l.Modify(sb.r, Write); err != nil {
				t.Error(err)
			}
		}
	})
	b := handlerFunc(func(_ int, ev Events) {
		got = append(got, ev)
		stop()
	})
	if err := l.Register(pa.r, Read, a); err != nil {
		t.Fatal(err)
	}
	if err := l.Register(sb.r, Read|Write, b); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l, ctx)
	if len(got) == 0 || slices.ContainsFunc(got, func(ev Events) bool { return ev != Write }) {
		t.Fatalf("b got %v, want only write", got)
	}
}

// Cancelling the context wakes a loop asleep in select within 10 ms.
func TestLoopCancelWakesRunWithin10ms(t *testing.T) {
	l := newLoop(t)
	idle := newPipe(t)
	started := newPipe(t)
	if err := l.Register(idle.r, Read, handlerFunc(func(int, Events) { t.Error("idle pipe dispatched") })); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 1)
	if err := l.Register(started.r, Read, handlerFunc(func(fd int, _ Events) {
		unix.Read(fd, make([]byte, 8))
		entered <- struct{}{}
	})); err != nil {
		t.Fatal(err)
	}
	var took []time.Duration
	for range 7 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		started.fill(t)
		<-entered // the loop is running; next it sleeps in select
		time.Sleep(5 * time.Millisecond)
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			took = append(took, time.Since(start))
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Run still running 2s after cancel")
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("cancel to return: %v", took)
	if median := took[len(took)/2]; median > 10*time.Millisecond {
		t.Fatalf("median cancel latency %v, want under 10ms", median)
	}
}

// The stop of a finished Run does not leak into the next: a Loop runs again.
func TestLoopRunsAgainAfterCancel(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	var stop context.CancelFunc
	calls := 0
	if err := l.Register(p.r, Read, handlerFunc(func(fd int, _ Events) {
		calls++
		unix.Read(fd, make([]byte, 8))
		stop()
	})); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		var ctx context.Context
		ctx, stop = runCtx(t)
		p.fill(t)
		mustRun(t, l, ctx)
		if calls != i {
			t.Fatalf("run %d: %d calls in all, want %d", i, calls, i)
		}
	}
}

// Run with a context done already returns nil at once, dispatching nothing.
func TestLoopRunWithDoneContext(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	p.fill(t)
	if err := l.Register(p.r, Read, handlerFunc(func(int, Events) { t.Error("dispatched after cancel") })); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if s := l.stats(); s.dispatches != 0 {
		t.Fatalf("%d dispatches", s.dispatches)
	}
}

// Register and Unregister from another goroutine wake a sleeping loop, so
// that its next select takes the change; an fd unregistered and closed that
// way does not end Run with EBADF.
func TestLoopRegisterFromAnotherGoroutine(t *testing.T) {
	l := newLoop(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	ready := make(chan int, 1)
	h := handlerFunc(func(fd int, _ Events) {
		if _, err := unix.Read(fd, make([]byte, 8)); err != nil {
			t.Error(err)
		}
		ready <- fd
	})
	for i := range 50 {
		p := newPipe(t)
		if i%2 == 0 {
			p.fill(t) // readable before Register...
		}
		if err := l.Register(p.r, Read, h); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			p.fill(t) // ...or after
		}
		select {
		case fd := <-ready:
			if fd != p.r {
				t.Fatalf("dispatched fd %d, want %d", fd, p.r)
			}
		case err := <-done:
			t.Fatalf("Run returned %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: loop did not see fd %d registered from another goroutine", i, p.r)
		}
		if err := l.Unregister(p.r); err != nil {
			t.Fatal(err)
		}
		p.close()
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Every dispatch of one Run happens on one OS thread, whatever the handlers
// do to the scheduler.
func TestLoopRunsOnOneThread(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	p.fill(t)
	ctx, stop := runCtx(t)
	var tids []int
	if err := l.Register(p.r, Read, handlerFunc(func(int, Events) {
		tids = append(tids, unix.Gettid())
		busy := make(chan struct{})
		go func() { close(busy) }()
		<-busy // park the goroutine: unlocked, it could resume elsewhere
		if len(tids) == 50 {
			stop()
		}
	})); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l, ctx)
	for _, tid := range tids {
		if tid != tids[0] {
			t.Fatalf("handlers ran on threads %v", tids)
		}
	}
}

// EINTR is retried: signals hitting the loop's thread in select do not end
// Run.
func TestLoopRetriesEINTR(t *testing.T) {
	l := newLoop(t)
	// Run locks the thread it is called on; lock it first so the signals
	// aim at the thread that will sit in select.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	idle, late := newPipe(t), newPipe(t)
	ctx, stop := runCtx(t)
	if err := l.Register(idle.r, Read, handlerFunc(func(int, Events) { t.Error("idle pipe dispatched") })); err != nil {
		t.Fatal(err)
	}
	if err := l.Register(late.r, Read, handlerFunc(func(int, Events) { stop() })); err != nil {
		t.Fatal(err)
	}
	before := l.stats().eintr
	stopSignals := signalThread(t, 5*time.Millisecond)
	lateW := late.w
	timer := time.AfterFunc(200*time.Millisecond, func() { unix.Write(lateW, []byte{1}) })
	defer timer.Stop()
	mustRun(t, l, ctx)
	sent := stopSignals()
	if l.stats().eintr == before {
		t.Fatalf("%d signals sent, no EINTR retried: the test did not interrupt select", sent)
	}
	t.Logf("%d signals, %d EINTR retried", sent, l.stats().eintr)
}

// Any other select error ends Run, naming the descriptor, as Select does.
func TestLoopSelectEBADFNamesTheFd(t *testing.T) {
	l := newLoop(t)
	good, bad := newPipe(t), newPipe(t)
	nop := handlerFunc(func(int, Events) {})
	for _, fd := range []int{good.r, bad.r} {
		if err := l.Register(fd, Read, nop); err != nil {
			t.Fatal(err)
		}
	}
	fd := bad.r
	bad.closeR() // closed while registered: the misuse select reports
	ctx, _ := runCtx(t)
	err := l.Run(ctx)
	wantFdError(t, err, "select", fd, syscall.EBADF)
	if err := l.Unregister(fd); err != nil {
		t.Fatal(err)
	}
}

// A panic in Ready stops the loop cleanly and comes out of Run; the loop is
// usable afterwards.
func TestLoopHandlerPanicIsRaisedByRun(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	p.fill(t)
	if err := l.Register(p.r, Read, panickyHandler{}); err != nil {
		t.Fatal(err)
	}
	ctx, _ := runCtx(t)
	func() {
		defer func() {
			got, ok := recover().(*HandlerPanic)
			if !ok || got.Value != "boom" || got.Fd != p.r {
				t.Fatalf("recovered %#v, want a *HandlerPanic for fd %d with boom", got, p.r)
			}
			// The crash report must lead to the handler, not only to Run.
			if msg := got.Error(); !strings.Contains(msg, "panickyHandler.Ready") || !strings.Contains(msg, "boom") {
				t.Fatalf("the panic's report does not name the handler:\n%s", msg)
			}
		}()
		l.Run(ctx)
		t.Fatal("Run returned instead of panicking")
	}()
	// The C loop unwound normally: the registry is unlocked and not running.
	if err := l.Unregister(p.r); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// panickyHandler panics in Ready, under a name the crash report must show.
type panickyHandler struct{}

func (panickyHandler) Ready(int, Events) { panic("boom") }

func TestLoopRunAndCloseWhileRunning(t *testing.T) {
	l := newLoop(t)
	p := newPipe(t)
	p.fill(t)
	ctx, stop := runCtx(t)
	var inside []error
	if err := l.Register(p.r, Read, handlerFunc(func(int, Events) {
		if len(inside) == 0 {
			inside = append(inside, l.Run(ctx), l.Close())
		}
		stop()
	})); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l, ctx)
	if len(inside) != 2 || !errors.Is(inside[0], ErrLoopRunning) || !errors.Is(inside[1], ErrLoopRunning) {
		t.Fatalf("Run, Close from a handler: %v; want ErrLoopRunning twice", inside)
	}

	// From another goroutine, while the loop sleeps.
	ctx2, stop2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	entered := make(chan struct{})
	q := newPipe(t)
	if err := l.Register(q.r, Read, handlerFunc(func(fd int, _ Events) {
		unix.Read(fd, make([]byte, 8))
		close(entered)
	})); err != nil {
		t.Fatal(err)
	}
	if err := l.Unregister(p.r); err != nil {
		t.Fatal(err)
	}
	go func() { done <- l.Run(ctx2) }()
	q.fill(t)
	<-entered
	if err := l.Run(ctx2); !errors.Is(err, ErrLoopRunning) {
		t.Fatalf("second Run: %v, want ErrLoopRunning", err)
	}
	if err := l.Close(); !errors.Is(err, ErrLoopRunning) {
		t.Fatalf("Close while running: %v, want ErrLoopRunning", err)
	}
	stop2()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Close gives back every handle, once; a closed Loop refuses everything.
func TestLoopCloseReleasesEveryHandle(t *testing.T) {
	before := liveHandles.Load()
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	var fds []int
	for range n {
		p := newPipe(t)
		if err := l.Register(p.r, Read, handlerFunc(func(int, Events) {})); err != nil {
			t.Fatal(err)
		}
		fds = append(fds, p.r)
	}
	if got := l.registered(); !slices.Equal(got, slices.Sorted(slices.Values(fds))) {
		t.Fatalf("C registry holds %v, want %v", got, fds)
	}
	if l.handles.Load() != n || liveHandles.Load() != before+n {
		t.Fatalf("%d handles for the loop, %d in all; want %d", l.handles.Load(), liveHandles.Load()-before, n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.handles.Load() != 0 || liveHandles.Load() != before {
		t.Fatalf("%d handles live after Close", liveHandles.Load()-before)
	}
	if err := l.Close(); !errors.Is(err, ErrLoopClosed) {
		t.Fatalf("second Close: %v", err)
	}
	p := newPipe(t)
	wantFdError(t, l.Register(p.r, Read, handlerFunc(func(int, Events) {})), "register", p.r, ErrLoopClosed)
	wantFdError(t, l.Modify(fds[0], Read), "modify", fds[0], ErrLoopClosed)
	wantFdError(t, l.Unregister(fds[0]), "unregister", fds[0], ErrLoopClosed)
	if err := l.Run(context.Background()); !errors.Is(err, ErrLoopClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
	if liveHandles.Load() != before {
		t.Fatal("a refused Register leaked its handle")
	}
}

func TestEventsString(t *testing.T) {
	for ev, want := range map[Events]string{
		0: "0", Read: "read", Read | Write: "read|write", Except: "except",
		Read | Write | Except: "read|write|except", Write | 0x10: "write|0x10",
	} {
		if got := ev.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", ev, got, want)
		}
	}
}
