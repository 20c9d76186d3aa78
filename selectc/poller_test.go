//go:build linux

package selectc

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitFor runs one Wait with room for 16 events and returns them.
func waitFor(t testing.TB, p *Poller, timeout time.Duration) []PollEvent {
	t.Helper()
	ev := make([]PollEvent, 16)
	n, err := p.Wait(ev, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return ev[:n]
}

func TestPollerRegisterErrors(t *testing.T) {
	p := newPoller(t)
	r, _ := pipe(t)
	fd := int(r.Fd())
	check := func(what string, err, want error, wantFd int) {
		t.Helper()
		var fe *FdError
		if !errors.Is(err, want) || !errors.As(err, &fe) || fe.Fd != wantFd {
			t.Fatalf("%s: err = %v, want %v naming fd %d", what, err, want, wantFd)
		}
	}
	for _, bad := range []int{-1, FdSetSize, 1 << 20} {
		check("register out of range", p.Register(bad, Read), ErrFdRange, bad)
		check("modify out of range", p.Modify(bad, Read), ErrFdRange, bad)
		check("unregister out of range", p.Unregister(bad), ErrFdRange, bad)
	}
	check("no events", p.Register(fd, 0), ErrEvents, fd)
	check("unknown events", p.Register(fd, 8), ErrEvents, fd)
	check("modify unregistered", p.Modify(fd, Read), ErrNotRegistered, fd)
	check("unregister unregistered", p.Unregister(fd), ErrNotRegistered, fd)
	check("the wake fd", p.Register(p.wake.fd, Read), ErrRegistered, p.wake.fd)
	if err := p.Register(fd, Read); err != nil {
		t.Fatal(err)
	}
	check("twice", p.Register(fd, Write), ErrRegistered, fd)
	check("modify to nothing", p.Modify(fd, 0), ErrEvents, fd)
	if got := p.registered(); !slices.Equal(got, []int{fd}) {
		t.Fatalf("registered %v, want [%d]", got, fd)
	}
	if err := p.Unregister(fd); err != nil {
		t.Fatal(err)
	}
	check("second unregister", p.Unregister(fd), ErrNotRegistered, fd)
	if _, err := p.Wait(nil, 0); err == nil {
		t.Fatal("Wait with no room for events: no error")
	}
}

// Every ready descriptor with its events, in descriptor order; interest
// changes apply at the next Wait.
func TestPollerReportsReadiness(t *testing.T) {
	p := newPoller(t)
	a, b := readyPipe(t), readyPipe(t)
	idle, w := pipe(t)
	c, s := tcpPair(t)
	if err := unix.Sendto(int(c), []byte("!"), unix.MSG_OOB, nil); err != nil {
		t.Fatal(err)
	}
	for _, reg := range []struct {
		fd int
		ev Events
	}{{int(a.Fd()), Read}, {int(b.Fd()), Read | Except}, {int(idle.Fd()), Read}, {int(w.Fd()), Write}, {int(s), Except}} {
		if err := p.Register(reg.fd, reg.ev); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	var got []PollEvent
	for len(got) < 4 && time.Now().Before(deadline) { // the OOB byte may take a moment
		got = waitFor(t, p, 100*time.Millisecond)
	}
	want := []PollEvent{{int(a.Fd()), Read}, {int(b.Fd()), Read}, {int(w.Fd()), Write}, {int(s), Except}}
	slices.SortFunc(want, func(x, y PollEvent) int { return x.Fd - y.Fd })
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := p.Modify(int(a.Fd()), Write); err != nil {
		t.Fatal(err)
	}
	if err := p.Unregister(int(b.Fd())); err != nil {
		t.Fatal(err)
	}
	if err := p.Unregister(int(s)); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, p, 0)
	want = []PollEvent{{int(w.Fd()), Write}}
	if !slices.Equal(got, want) {
		t.Fatalf("after Modify and Unregister: got %v, want %v (a pipe's read end is never writable)", got, want)
	}
}

func TestPollerTimeouts(t *testing.T) {
	p := newPoller(t)
	idle, w := pipe(t)
	if err := p.Register(int(idle.Fd()), Read); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if got := waitFor(t, p, 0); len(got) != 0 || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("poll: %v after %v", got, time.Since(start))
	}
	const d = 60 * time.Millisecond
	start = time.Now()
	if got := waitFor(t, p, d); len(got) != 0 || time.Since(start) < d*2/3 {
		t.Fatalf("timeout: %v after %v, want nothing after about %v", got, time.Since(start), d)
	}
	timer := time.AfterFunc(30*time.Millisecond, func() { w.Write([]byte{1}) })
	defer timer.Stop()
	if got := waitFor(t, p, Forever); len(got) != 1 || got[0].Fd != int(idle.Fd()) {
		t.Fatalf("forever: got %v", got)
	}
}

// A thousand ready descriptors come back from one Wait; with less room,
// successive Waits take turns so that every one is reported.
func TestPollerManyReady(t *testing.T) {
	fds, done := readyFds(t, 1000)
	defer done()
	p := newPoller(t)
	for _, fd := range fds {
		if err := p.Register(int(fd), Read); err != nil {
			t.Fatal(err)
		}
	}
	ev := make([]PollEvent, 1000)
	n, err := p.Wait(ev, 0)
	if err != nil || n != 1000 {
		t.Fatalf("Wait: %d ready, %v; want 1000", n, err)
	}
	seen := map[int]bool{}
	for _, e := range ev[:n] {
		seen[e.Fd] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d distinct descriptors reported, want 1000", len(seen))
	}
	clear(seen)
	small := make([]PollEvent, 64)
	for range 1000/64 + 1 {
		n, err := p.Wait(small, 0)
		if err != nil || n != len(small) {
			t.Fatalf("Wait with room for 64: %d, %v", n, err)
		}
		for _, e := range small[:n] {
			seen[e.Fd] = true
		}
	}
	if len(seen) < 1000 {
		t.Fatalf("16 Waits of 64 reported %d distinct descriptors of 1000: the scan does not move on", len(seen))
	}
}

func TestPollerWaitAllocatesNothing(t *testing.T) {
	if asanBuild {
		t.Skip("under -asan the compiler moves a raw system call's arguments to the heap; the plain go test run checks this")
	}
	p := newPoller(t)
	r := readyPipe(t)
	if err := p.Register(int(r.Fd()), Read|Except); err != nil {
		t.Fatal(err)
	}
	ev := make([]PollEvent, 4)
	allocs := testing.AllocsPerRun(200, func() {
		if n, err := p.Wait(ev, 0); n != 1 || err != nil {
			t.Fatalf("got %d %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Wait allocates %.1f times per call, want 0", allocs)
	}
}

// Wake ends a blocked Wait from another goroutine, or the next one; a burst
// of Wakes ends just one.
func TestPollerWake(t *testing.T) {
	p := newPoller(t)
	idle, _ := pipe(t)
	if err := p.Register(int(idle.Fd()), Read); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Millisecond, func() { p.Wake() })
	defer timer.Stop()
	start := time.Now()
	if got := waitFor(t, p, 10*time.Second); len(got) != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("woken Wait: %v after %v", got, time.Since(start))
	}
	for range 5 {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	start = time.Now()
	if got := waitFor(t, p, 10*time.Second); len(got) != 0 || time.Since(start) > time.Second {
		t.Fatalf("Wait after Wake: %v after %v, want at once", got, time.Since(start))
	}
	const d = 40 * time.Millisecond
	start = time.Now()
	if got := waitFor(t, p, d); len(got) != 0 || time.Since(start) < d*2/3 {
		t.Fatalf("the Wait after that returned after %v: the wakes were not drained", time.Since(start))
	}
}

// A poll (timeout 0) leaves the wake eventfd out of its select: it neither
// reports nor consumes a Wake, which stays for the next wait that can block.
func TestPollerPollLeavesWakePending(t *testing.T) {
	p := newPoller(t)
	r := readyPipe(t)
	fd := int(r.Fd())
	if err := p.Register(fd, Read); err != nil {
		t.Fatal(err)
	}
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, p, 0); len(got) != 1 || got[0].Fd != fd {
		t.Fatalf("poll with a Wake pending: %v, want just fd %d", got, fd)
	}
	if err := p.Unregister(fd); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if got := waitFor(t, p, 10*time.Second); len(got) != 0 || time.Since(start) > time.Second {
		t.Fatalf("blocking Wait after the poll: %v after %v; the Wake should still be pending", got, time.Since(start))
	}
}

func TestPollerWaitContext(t *testing.T) {
	p := newPoller(t)
	idle, w := pipe(t)
	if err := p.Register(int(idle.Fd()), Read); err != nil {
		t.Fatal(err)
	}
	ev := make([]PollEvent, 4)

	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(20*time.Millisecond, cancel)
	defer timer.Stop()
	if n, err := p.WaitContext(ctx, ev, Forever); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %d, %v; want context.Canceled", n, err)
	}
	if n, err := p.WaitContext(ctx, ev, Forever); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("done before the call: %d, %v", n, err)
	}
	w.Write([]byte{1})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if n, err := p.WaitContext(ctx2, ev, Forever); n != 1 || err != nil || ev[0].Fd != int(idle.Fd()) {
		t.Fatalf("ready: %d %v %v", n, err, ev[:n])
	}
	if n, err := p.WaitContext(context.Background(), ev, 0); n != 1 || err != nil {
		t.Fatalf("background: %d %v", n, err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("nil context: no panic")
		}
	}()
	p.WaitContext(nil, ev, 0) //nolint:staticcheck // the point of the test
}

func TestPollerClosedDescriptor(t *testing.T) {
	p := newPoller(t)
	good := readyPipe(t)
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	for _, fd := range []int{int(good.Fd()), fds[0]} {
		if err := p.Register(fd, Read); err != nil {
			t.Fatal(err)
		}
	}
	unix.Close(fds[0])
	_, err := p.Wait(make([]PollEvent, 4), Forever)
	var fe *FdError
	if !errors.Is(err, syscall.EBADF) || !errors.As(err, &fe) || fe.Fd != fds[0] {
		t.Fatalf("err = %v, want EBADF naming fd %d", err, fds[0])
	}
	if err := p.Unregister(fds[0]); err != nil { // a closed fd unregisters all the same
		t.Fatal(err)
	}
	if n, err := p.Wait(make([]PollEvent, 4), 0); n != 1 || err != nil {
		t.Fatalf("after unregistering it: %d %v", n, err)
	}
}

// A descriptor unregistered during a Wait, closed, its number reused by a
// new file and registered again, is never reported by that Wait, although
// the kernel wakes it for exactly that number; the next Wait reports it.
func TestPollerStaleRegistration(t *testing.T) {
	for _, reregister := range []bool{false, true} {
		p := newPoller(t)
		var old [2]int
		if err := unix.Pipe2(old[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			t.Fatal(err)
		}
		num := old[0]
		if err := p.Register(num, Read); err != nil {
			t.Fatal(err)
		}
		type result struct {
			ev  []PollEvent
			err error
		}
		done := make(chan result, 1)
		go func() {
			ev := make([]PollEvent, 4)
			n, err := p.Wait(ev, 5*time.Second)
			done <- result{ev[:n], err}
		}()
		time.Sleep(30 * time.Millisecond) // the Wait is asleep in select
		if err := p.Unregister(num); err != nil {
			t.Fatal(err)
		}
		unix.Close(num)
		newR, newW := pipe(t) // a new file under the old number, with data
		if int(newR.Fd()) != num {
			dupTo(t, newR, num)
		}
		newW.Write([]byte{1})
		if reregister {
			if err := p.Register(num, Read); err != nil {
				t.Fatal(err)
			}
		}
		unix.Close(old[1]) // the old file turns readable (EOF): the Wait wakes
		var res result
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Wait did not wake")
		}
		if res.err != nil || len(res.ev) != 0 {
			t.Fatalf("reregister=%v: the Wait in progress reported %v, %v; want nothing", reregister, res.ev, res.err)
		}
		got := waitFor(t, p, 0)
		if reregister && (len(got) != 1 || got[0].Fd != num) {
			t.Fatalf("the next Wait reported %v, want the new registration of fd %d", got, num)
		}
		if !reregister && len(got) != 0 {
			t.Fatalf("the next Wait reported %v for an unregistered fd", got)
		}
	}
}

// Close ends blocked Waits with ErrPollerClosed; afterwards every method
// says closed; Close releases the eventfd.
func TestPollerClose(t *testing.T) {
	fds0 := openFds(t)
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	idle, _ := pipe(t)
	if err := p.Register(int(idle.Fd()), Read); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := p.Wait(make([]PollEvent, 1), Forever)
			errs <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrPollerClosed) {
				t.Fatalf("blocked Wait: %v, want ErrPollerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end a blocked Wait")
		}
	}
	for name, err := range map[string]error{
		"Close": p.Close(), "Register": p.Register(int(idle.Fd()), Read), "Modify": p.Modify(int(idle.Fd()), Read),
		"Unregister": p.Unregister(int(idle.Fd())), "Wake": p.Wake(),
	} {
		if !errors.Is(err, ErrPollerClosed) {
			t.Fatalf("%s after Close: %v, want ErrPollerClosed", name, err)
		}
	}
	if _, err := p.Wait(make([]PollEvent, 1), 0); !errors.Is(err, ErrPollerClosed) {
		t.Fatalf("Wait after Close: %v", err)
	}
	if fds := openFds(t) - 2; fds > fds0 { // the idle pipe is still open
		t.Fatalf("%d descriptors after Close, %d before", fds, fds0)
	}
}

func TestPollerRetriesEINTR(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := newPoller(t)
	idle, _ := pipe(t)
	if err := p.Register(int(idle.Fd()), Read); err != nil {
		t.Fatal(err)
	}
	const d = 200 * time.Millisecond
	before := p.eintr()
	stop := signalThread(t, 20*time.Millisecond)
	start := time.Now()
	n, err := p.Wait(make([]PollEvent, 1), d)
	took := time.Since(start)
	stop()
	if err != nil || n != 0 {
		t.Fatalf("got %d %v", n, err)
	}
	if p.eintr() == before {
		t.Fatal("no EINTR retried: the test did not interrupt select")
	}
	if took < d*2/3 || took > 5*d {
		t.Fatalf("took %v, want about %v", took, d)
	}
}

// Registrations, Wakes and Waits from many goroutines, then a Close while
// Waits are blocked, under -race.
func TestPollerConcurrent(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	var files []*os.File
	for range 32 {
		r, w := pipe(t)
		w.Write([]byte{1})
		files = append(files, r, w)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for g := range 4 { // registrars
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				fd := int(files[rng.IntN(len(files))].Fd())
				var err error
				switch rng.IntN(3) {
				case 0:
					err = p.Register(fd, Events(1+rng.IntN(7)))
				case 1:
					err = p.Modify(fd, Events(1+rng.IntN(7)))
				case 2:
					err = p.Unregister(fd)
				}
				if err != nil && !errors.Is(err, ErrRegistered) && !errors.Is(err, ErrNotRegistered) && !errors.Is(err, ErrPollerClosed) {
					report(err)
				}
			}
		}()
	}
	var waits sync.WaitGroup
	for range 2 { // waiters
		waits.Add(1)
		go func() {
			defer waits.Done()
			ev := make([]PollEvent, 64)
			for {
				n, err := p.Wait(ev, Forever)
				if errors.Is(err, ErrPollerClosed) {
					return
				}
				if err != nil {
					report(err)
					return
				}
				for _, e := range ev[:n] {
					if e.Events == 0 || e.Events&^allEvents != 0 {
						report(errors.New("bad events " + e.Events.String()))
					}
				}
				runtime.Gosched()
			}
		}()
	}
	wg.Add(1)
	go func() { // a waker
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if err := p.Wake(); err != nil && !errors.Is(err, ErrPollerClosed) {
					report(err)
				}
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	waits.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// NewPoller and Close a thousand times: no descriptor left behind.
func TestPollerLeaksNothing(t *testing.T) {
	fds0 := openFds(t)
	for range 1000 {
		p, err := NewPoller()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if fds := openFds(t); fds > fds0 { // more is a leak; fewer, an earlier test's file finalized meanwhile
		t.Fatalf("%d descriptors after 1000 pollers, %d before", fds, fds0)
	}
}
