//go:build linux

package selectc

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// signalThread starts interrupting the calling goroutine's OS thread with
// SIGUSR1 every period until the returned stop is called. The goroutine must
// stay locked to its thread.
func signalThread(t *testing.T, period time.Duration) (stop func() int) {
	t.Helper()
	// Notify keeps SIGUSR1 from killing the process; the handler still runs
	// on the target thread, so its select(2) returns EINTR.
	sig := make(chan os.Signal, 64)
	signal.Notify(sig, syscall.SIGUSR1)
	pid, tid := unix.Getpid(), unix.Gettid()
	var sent atomic.Int64
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				if unix.Tgkill(pid, tid, syscall.SIGUSR1) == nil {
					sent.Add(1)
				}
			}
		}
	}()
	return func() int {
		close(quit)
		<-done
		signal.Stop(sig)
		return int(sent.Load())
	}
}

// Select retries EINTR and still honours its timeout (PEP 475).
func TestSelectRetriesEINTR(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	idle, _ := pipe(t)
	const d = 300 * time.Millisecond
	count := countEINTR(t)
	stop := signalThread(t, 20*time.Millisecond)
	start := time.Now()
	r, w, x, err := Select([]*os.File{idle}, nil, []*os.File{idle}, d)
	took := time.Since(start)
	sent := stop()
	retries := count.Load()
	if err != nil || len(r)+len(w)+len(x) != 0 {
		t.Fatalf("got %v %v %v %v, want nothing ready and no error", r, w, x, err)
	}
	if retries == 0 {
		t.Fatalf("%d signals sent, no EINTR retried: the test did not interrupt select", sent)
	}
	if took < d*2/3 || took > 5*d {
		t.Fatalf("interrupted %d times, select took %v; want about %v", retries, took, d)
	}
	t.Logf("%d signals, %d retries, took %v", sent, retries, took)
}

// With Forever, Select keeps retrying until something is ready.
func TestSelectForeverRetriesUntilReady(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	idle, w := pipe(t)
	count := countEINTR(t)
	stop := signalThread(t, 10*time.Millisecond)
	timer := time.AfterFunc(150*time.Millisecond, func() { w.Write([]byte{1}) })
	defer timer.Stop()
	r, _, _, err := Select([]*os.File{idle}, nil, nil, Forever)
	stop()
	if err != nil || len(r) != 1 {
		t.Fatalf("got %v %v", r, err)
	}
	if count.Load() == 0 {
		t.Fatal("no EINTR was retried")
	}
}

// SelectFdSet is select(2) as C has it: EINTR comes back to the caller.
func TestSelectFdSetReturnsEINTR(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	idle, _ := pipe(t)
	var r FdSet
	r.Set(int(idle.Fd()))
	stop := signalThread(t, 20*time.Millisecond)
	defer stop()
	tv := NewTimeval(5 * time.Second)
	_, err := SelectFdSet(int(idle.Fd())+1, &r, nil, nil, &tv)
	if !errors.Is(err, syscall.EINTR) {
		t.Fatalf("err = %v, want EINTR", err)
	}
	if left := tv.Duration(); left <= 0 || left >= 5*time.Second {
		t.Fatalf("time left after EINTR = %v, want between 0 and 5s", left)
	}
}

// countEINTR counts, until the test ends, the selects retried after EINTR.
func countEINTR(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	testHookEINTR = func(k int) { n.Add(int64(k)) }
	t.Cleanup(func() { testHookEINTR = nil })
	return &n
}
