//go:build linux

package selectc

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// One Wait on n ready descriptors, registered once, on each path (the fast
// one from Go, and the cgo call that a wait which must sleep takes):
// compare BenchmarkSelect's selectc.Selector/ready=n, which builds the sets
// from the list on every call, and BenchmarkLoop, which calls back per event.
func BenchmarkPollerWait(b *testing.B) {
	for _, n := range sizes {
		fds, done := readyFds(b, n)
		for _, path := range []struct {
			name string
			mode fastMode
		}{{"fast", fastAuto}, {"c", fastNever}} {
			b.Run(fmt.Sprintf("ready=%d/path=%s", n, path.name), func(b *testing.B) {
				p := newPoller(b)
				p.fast.mode = path.mode
				for _, fd := range fds {
					if err := p.Register(int(fd), Read); err != nil {
						b.Fatal(err)
					}
				}
				ev := make([]PollEvent, n)
				b.ReportAllocs()
				for b.Loop() {
					if got, err := p.Wait(ev, 0); err != nil || got != n {
						b.Fatalf("%d ready, %v", got, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			})
		}
		done()
	}
}

// One select call as Python's select.select(l, [], l, 0) makes it: one
// ready pipe among n watched (n-1 idle), rlist = xlist, timeout 0; Poller
// with each descriptor registered for Read|Except, Selector with the list.
// echo-bench -calls times C and Python on comparable layouts.
func BenchmarkSelectCall(b *testing.B) {
	for _, n := range []int{1, 8} {
		list := make([]FD, 0, n)
		for range n - 1 {
			idle, _ := pipe(b)
			list = append(list, FD(idle.Fd()))
		}
		list = append(list, FD(readyPipe(b).Fd()))
		b.Run(fmt.Sprintf("N=%d/poller", n), func(b *testing.B) {
			p := newPoller(b)
			for _, fd := range list {
				if err := p.Register(int(fd), Read|Except); err != nil {
					b.Fatal(err)
				}
			}
			ev := make([]PollEvent, n)
			for b.Loop() {
				if got, err := p.Wait(ev, 0); err != nil || got != 1 {
					b.Fatalf("%d ready, %v", got, err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d/selector", n), func(b *testing.B) {
			var s Selector[FD]
			for b.Loop() {
				if r, _, _, err := s.Select(list, nil, list, 0); err != nil || len(r) != 1 {
					b.Fatalf("%d ready, %v", len(r), err)
				}
			}
		})
	}
}

// Selector over FD and over *os.File (read through SyscallConn, never Fd):
// the price of the blocking-mode fix, which plain FD must not pay.
func BenchmarkSelectorKinds(b *testing.B) {
	const n = 8
	files := make([]*os.File, n)
	for i := range files {
		files[i] = readyPipe(b)
	}
	b.Run("FD", func(b *testing.B) {
		fds := make([]FD, n)
		for i, f := range files {
			fds[i], _ = ConnFD(f)
		}
		var s Selector[FD]
		b.ReportAllocs()
		for b.Loop() {
			if r, _, _, err := s.Select(fds, nil, nil, 0); err != nil || len(r) != n {
				b.Fatalf("%d ready, %v", len(r), err)
			}
		}
	})
	b.Run("os.File", func(b *testing.B) {
		var s Selector[*os.File]
		b.ReportAllocs()
		for b.Loop() {
			if r, _, _, err := s.Select(files, nil, nil, 0); err != nil || len(r) != n {
				b.Fatalf("%d ready, %v", len(r), err)
			}
		}
	})
	b.Run("FD/context", func(b *testing.B) {
		fds := make([]FD, n)
		for i, f := range files {
			fds[i], _ = ConnFD(f)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var s Selector[FD]
		b.ReportAllocs()
		for b.Loop() {
			if r, _, _, err := s.SelectContext(ctx, fds, nil, nil, 0); err != nil || len(r) != n {
				b.Fatalf("%d ready, %v", len(r), err)
			}
		}
	})
}

// Cancel -> return latency of a SelectContext blocked forever, as
// percentiles over b.N cancellations.
func BenchmarkSelectContextCancel(b *testing.B) {
	defer func() { testHookWaiting = nil }()
	idle, _ := pipe(b)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		done := blockedSelect(b, ctx, idle)
		b.StopTimer()
		time.Sleep(50 * time.Microsecond) // from the hook into the kernel
		b.StartTimer()
		start := time.Now()
		cancel()
		res := <-done
		if res.err != context.Canceled {
			b.Fatalf("err = %v", res.err)
		}
		lat = append(lat, res.at.Sub(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 50).Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(percentile(lat, 99).Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds())/1e3, "max-µs")
}
