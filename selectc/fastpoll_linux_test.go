package selectc

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// diffBench is the shared world of the differential test: a few socket
// pairs (one a TCP connection, for urgent data) whose near ends two
// Pollers watch, one forced onto the C path and one onto the fast path.
// With wide, some near ends sit above 64, so the sets span several words;
// without, all fit in one word, the fast path's narrow case.
type diffBench struct {
	t      *testing.T
	c, f   *Poller
	near   []int // the watched ends, by slot
	far    []int // their peers
	tcp    int   // the slot of the TCP pair
	closed []bool
	lows   []int // where each slot's near end is moved to (F_DUPFD's minimum)
}

func newDiffBench(t *testing.T, wide bool) *diffBench {
	raiseNoFile(t, 2048)
	b := &diffBench{t: t, c: newPoller(t), f: newPoller(t)}
	b.c.fast.mode, b.f.fast.mode = fastNever, fastFirst
	b.lows = make([]int, 8)
	if wide {
		b.lows = []int{0, 0, 70, 0, 200, 130, 900, 0}
	}
	for i := range b.lows {
		b.near = append(b.near, -1)
		b.far = append(b.far, -1)
		b.closed = append(b.closed, false)
		if i == 3 {
			b.tcp = i
			cl, sv := tcpPair(t) // closed by the test's cleanup
			b.near[i], b.far[i] = int(sv), int(cl)
			continue
		}
		b.open(i)
	}
	t.Cleanup(func() {
		for i := range b.near {
			if i != b.tcp && !b.closed[i] {
				unix.Close(b.near[i])
				unix.Close(b.far[i])
			}
		}
	})
	return b
}

// open makes slot i a fresh non-blocking socket pair, its near end at or
// above lows[i].
func (b *diffBench) open(i int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096) // quick to fill
	near := fds[0]
	if b.lows[i] > 0 {
		if near, err = unix.FcntlInt(uintptr(fds[0]), unix.F_DUPFD_CLOEXEC, b.lows[i]); err != nil {
			b.t.Fatal(err)
		}
		unix.Close(fds[0])
	}
	b.near[i], b.far[i], b.closed[i] = near, fds[1], false
}

// same fails unless the two Pollers' answers are the same.
func (b *diffBench) same(step int, what string, ec, ef error) {
	b.t.Helper()
	if fmt.Sprint(ec) != fmt.Sprint(ef) {
		b.t.Fatalf("step %d: %s: C path %v, fast path %v", step, what, ec, ef)
	}
}

// wakePending reports whether p's wake descriptor is readable, without
// draining it.
func wakePending(p *Poller) bool {
	fds := []unix.PollFd{{Fd: int32(p.wake.fd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n == 1
}

// drainAll reads fd until nothing is left, urgent data included.
func drainAll(fd int) {
	buf := make([]byte, 1<<16)
	for {
		if n, err := unix.Read(fd, buf); n <= 0 || err != nil {
			break
		}
	}
	unix.Recvfrom(fd, buf[:1], unix.MSG_OOB)
}

// run plays prog, two bytes a step, on both Pollers and compares every
// answer: registrations, errors, and the ready descriptors and events of
// each wait, the cap and the round-robin resume included.
func (b *diffBench) run(prog []byte) {
	evs := [2][]PollEvent{make([]PollEvent, 8), make([]PollEvent, 8)}
	for s := 0; s+2 <= len(prog); s += 2 {
		op, arg := prog[s], prog[s+1]
		i := int(arg) % len(b.near)
		ev := Events(arg/8)%7 + 1 // a non-empty subset of Read|Write|Except
		fd := b.near[i]
		switch op % 14 {
		case 0:
			b.same(s, fmt.Sprintf("register %d %v", fd, ev), b.c.Register(fd, ev), b.f.Register(fd, ev))
		case 1:
			b.same(s, fmt.Sprintf("modify %d %v", fd, ev), b.c.Modify(fd, ev), b.f.Modify(fd, ev))
		case 2:
			b.same(s, fmt.Sprintf("unregister %d", fd), b.c.Unregister(fd), b.f.Unregister(fd))
		case 3: // the far end sends: near readable
			unix.Write(b.far[i], []byte{'x'})
		case 4:
			drainAll(fd)
		case 5: // near fills its send buffer: near not writable, far readable
			buf := make([]byte, 1<<16)
			for n, err := unix.Write(fd, buf); n > 0 && err == nil; n, err = unix.Write(fd, buf) {
			}
		case 6:
			drainAll(b.far[i])
		case 7, 8: // a poll, or a wait with a timeout, with room for 1 to 4
			room := int(arg)/8%4 + 1
			timeout := time.Duration(0)
			if op%14 == 8 {
				timeout = time.Millisecond
			}
			nc, ec := b.c.Wait(evs[0][:room], timeout)
			nf, ef := b.f.Wait(evs[1][:room], timeout)
			b.same(s, fmt.Sprintf("wait (room %d, timeout %v)", room, timeout), ec, ef)
			if !slices.Equal(evs[0][:nc], evs[1][:nf]) {
				b.t.Fatalf("step %d: wait (room %d, timeout %v): C path %v, fast path %v",
					s, room, timeout, evs[0][:nc], evs[1][:nf])
			}
			if wc, wf := wakePending(b.c), wakePending(b.f); wc != wf {
				b.t.Fatalf("step %d: wait (timeout %v): wake left pending: C path %v, fast path %v", s, timeout, wc, wf)
			}
		case 9: // close the near end, registered or not; the next waits see EBADF
			if i != b.tcp && !b.closed[i] {
				unix.Close(fd)
				unix.Close(b.far[i])
				b.closed[i] = true
			}
		case 10: // unregister and reopen: perhaps the same number, a new file
			if i != b.tcp {
				b.same(s, fmt.Sprintf("unregister %d", fd), b.c.Unregister(fd), b.f.Unregister(fd))
				if !b.closed[i] {
					unix.Close(fd)
					unix.Close(b.far[i])
				}
				b.open(i)
			} else { // urgent data: an exceptional condition on the near end
				unix.Sendto(b.far[i], []byte{'!'}, unix.MSG_OOB, nil)
			}
		case 11:
			b.same(s, "wake", b.c.Wake(), b.f.Wake())
		case 12:
			b.stale(s, i, ev, int(arg)/64%3)
		case 13:
			b.selectBoth(s, arg)
		}
	}
	if !slices.Equal(b.c.registered(), b.f.registered()) {
		b.t.Fatalf("registered: C path %v, fast path %v", b.c.registered(), b.f.registered())
	}
}

// selectBoth runs one Selector.Select poll on both paths, on lists drawn
// from the slots by arg (duplicates and closed ends included), and
// compares what they return.
func (b *diffBench) selectBoth(step int, arg byte) {
	var lists [3][]FD
	for k := range lists {
		for j, fd := range b.near {
			if (int(arg)+j*(k+3))%(k+2) == 0 {
				lists[k] = append(lists[k], FD(fd))
			}
		}
		if arg&(1<<k) != 0 && len(lists[k]) > 0 {
			lists[k] = append(lists[k], lists[k][0]) // a duplicate is returned twice
		}
	}
	var got [2][3][]FD
	var errs [2]error
	for i, mode := range []fastMode{fastNever, fastFirst} {
		var sel Selector[FD]
		sel.b.fast.mode = mode
		r, w, x, err := sel.Select(lists[0], lists[1], lists[2], 0)
		got[i], errs[i] = [3][]FD{slices.Clone(r), slices.Clone(w), slices.Clone(x)}, err
	}
	b.same(step, fmt.Sprintf("select %v", lists), errs[0], errs[1])
	for k := range 3 {
		if !slices.Equal(got[0][k], got[1][k]) {
			b.t.Fatalf("step %d: select %v: list %d: C path %v, fast path %v", step, lists, k, got[0][k], got[1][k])
		}
	}
}

// stale checks the rule for a registration that changes while a wait
// selects: the wait reports no descriptor registered after its copy, nor
// events its interest no longer holds. The C path's wait cannot be paused
// there, so the change is made after it, and its answer filtered by the
// rule is what the fast path, changed between its select and its scan
// (testHookFastPolled), must report. Room for 8 means nothing is cut.
func (b *diffBench) stale(step, i int, ev Events, change int) {
	if slices.Contains(b.closed, true) { // EBADF: the change may be what mends it
		return
	}
	fd := b.near[i]
	apply := func(p *Poller) {
		switch change {
		case 0:
			p.Modify(fd, ev)
		case 1:
			p.Unregister(fd)
		case 2: // the number reused by a new registration
			p.Unregister(fd)
			p.Register(fd, ev)
		}
	}
	evs := [2][]PollEvent{make([]PollEvent, 8), make([]PollEvent, 8)}
	nc, ec := b.c.Wait(evs[0], 0)
	apply(b.c)
	hooked := false
	testHookFastPolled = func() { hooked = true; apply(b.f) }
	nf, ef := b.f.Wait(evs[1], 0)
	testHookFastPolled = nil
	if !hooked { // the fast path sent this wait to C (its sets outgrown): nothing to compare
		apply(b.f)
		return
	}
	b.same(step, "stale wait", ec, ef)
	var want []PollEvent
	for _, e := range evs[0][:nc] {
		if e.Fd == fd {
			if change != 0 {
				continue
			}
			if e.Events &= ev; e.Events == 0 {
				continue
			}
		}
		want = append(want, e)
	}
	if !slices.Equal(want, evs[1][:nf]) {
		b.t.Fatalf("step %d: %v on %d (change %d) during the wait: want %v, fast path %v",
			step, ev, fd, change, want, evs[1][:nf])
	}
}

// randomProgram is a program for run that registers everything first, so
// that most steps have something to act on.
func randomProgram(r *rand.Rand, steps int) []byte {
	prog := make([]byte, 0, 2*steps+32)
	for i := range 8 {
		prog = append(prog, 0, byte(i+8*r.IntN(8)))
	}
	for range steps {
		prog = append(prog, byte(r.IntN(14)), byte(r.IntN(256)))
	}
	return prog
}

// The fast path and the C path give the same answers, on random programs.
func TestFastPathMatchesCPath(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range 20 {
		newDiffBench(t, i%2 == 0).run(randomProgram(r, 150))
	}
}

// FuzzFastPathMatchesCPath: the same, on the fuzzer's programs.
func FuzzFastPathMatchesCPath(f *testing.F) {
	r := rand.New(rand.NewPCG(22, 0))
	for range 4 {
		f.Add(randomProgram(r, 60))
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 600 {
			prog = prog[:600] // bounded: a wait with a timeout may sleep 1 ms
		}
		newDiffBench(t, len(prog)%2 == 0).run(prog)
	})
}

// The fast path answers a Wait that finds descriptors ready, and backs off
// after waits that find none: those go to C, which may sleep, and a miss
// doubles the waits that skip the fast path, up to maxBackoff; a hit
// halves it.
func TestFastPathBackoff(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	if err := p.Register(int(r.Fd()), Read); err != nil {
		t.Fatal(err)
	}
	ev := make([]PollEvent, 4)
	if n, ok := p.fast.wait(ev, time.Millisecond); ok || n != 0 {
		t.Fatalf("nothing ready: fast path answered (%d, %v)", n, ok)
	}
	if got := p.fast.skip.Load(); got != 1 {
		t.Fatalf("after one miss: skip %d, want 1", got)
	}
	for want := uint32(3); want <= maxBackoff; want = 2*want + 1 {
		for p.fast.skip.Load() > 0 {
			if _, ok := p.fast.wait(ev, time.Millisecond); ok {
				t.Fatal("fast path answered while backing off")
			}
		}
		p.fast.wait(ev, time.Millisecond) // a miss
		if got := p.fast.skip.Load(); got != min(want, maxBackoff) {
			t.Fatalf("skip %d, want %d", got, min(want, maxBackoff))
		}
	}
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if n, ok := p.fast.wait(ev, 0); !ok || n != 1 {
		t.Fatalf("a poll goes the fast way whatever the backoff: (%d, %v)", n, ok)
	}
	p.fast.skip.Store(0)
	if n, ok := p.fast.wait(ev, time.Millisecond); !ok || n != 1 || ev[0].Fd != int(r.Fd()) {
		t.Fatalf("ready: fast path answered (%d, %v) %v", n, ok, ev[:n])
	}
	if b, s := p.fast.backoff.Load(), p.fast.skip.Load(); b != maxBackoff/2 || s != b {
		t.Fatalf("after a hit: backoff %d and skip %d, want %d", b, s, maxBackoff/2)
	}
}

// A batch's fast path: a poll always; a wait with a timeout not on a fresh
// batch (a one-off Select pays no poll before it sleeps), then first, until
// a miss makes the next waits skip it.
func TestFastBatchBackoff(t *testing.T) {
	r, w := pipe(t)
	var b batch
	b.resize(1)
	b.fds[0], b.ev[0] = _Ctype_int(r.Fd()), _Ctype_uint8_t(Read)
	if b.pollFast(time.Millisecond) {
		t.Fatal("a fresh batch's wait with a timeout went the fast way")
	}
	if !b.pollFast(0) || b.ev[0] != 0 {
		t.Fatalf("a poll with nothing ready: not answered, or ev %d", b.ev[0])
	}
	b.ev[0] = _Ctype_uint8_t(Read)
	if b.pollFast(time.Millisecond) || b.fast.skip != 1 {
		t.Fatalf("a miss: skip %d, want 1", b.fast.skip)
	}
	if b.pollFast(time.Millisecond) || b.fast.skip != 0 {
		t.Fatal("backing off, the fast path was tried")
	}
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if !b.pollFast(time.Millisecond) || b.ev[0] != _Ctype_uint8_t(Read) || b.fast.backoff != 0 { // 1, halved
		t.Fatalf("ready: ev %d, backoff %d", b.ev[0], b.fast.backoff)
	}
}
