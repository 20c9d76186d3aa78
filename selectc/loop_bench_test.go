//go:build linux

package selectc

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The C-driven loop against the Go-driven Select, on the same n ready
// descriptors. One op is one event handed to a Handler: for the loop, a
// C-to-Go callback with its pointer.Restore; for Select, a share of one
// select call plus the Go loop over its result. Both report ns/event.
func BenchmarkLoop(b *testing.B) {
	for _, n := range sizes {
		fds, done := readyFds(b, n)
		b.Run(fmt.Sprintf("ready=%d/loop", n), func(b *testing.B) { benchLoop(b, fds) })
		b.Run(fmt.Sprintf("ready=%d/select", n), func(b *testing.B) { benchSelect(b, fds, Select[FD]) })
		var s Selector[FD] // the allocation-free form a server loop would use
		b.Run(fmt.Sprintf("ready=%d/selector", n), func(b *testing.B) { benchSelect(b, fds, s.Select) })
		done()
	}
}

// counter is the Handler both designs call: it counts, and stops the loop
// once it has seen enough.
type counter struct {
	n, target int
	stop      func()
}

func (c *counter) Ready(int, Events) {
	if c.n++; c.n == c.target && c.stop != nil {
		c.stop()
	}
}

func benchLoop(b *testing.B, fds []FD) {
	b.ReportAllocs()
	l, err := NewLoop()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c := &counter{target: b.N, stop: stop}
	for _, fd := range fds {
		if err := l.Register(int(fd), Read, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	if err := l.Run(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	// The round under way when the target is reached finishes, so a few
	// more events than b.N may have been dispatched: divide by those.
	s := l.stats()
	b.ReportMetric(float64(took.Nanoseconds())/float64(s.dispatches), "ns/event")
	b.ReportMetric(float64(s.dispatches)/float64(s.iterations), "events/select")
}

func benchSelect(b *testing.B, fds []FD, sel func(r, w, x []FD, timeout time.Duration) ([]FD, []FD, []FD, error)) {
	var h Handler = &counter{}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	events, selects := 0, 0
	for events < b.N {
		r, _, _, err := sel(fds, nil, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		selects++
		for _, fd := range r {
			h.Ready(int(fd), Read)
			events++
		}
	}
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(took.Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(events)/float64(selects), "events/select")
}
