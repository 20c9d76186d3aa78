package loadgen

// The measured run of an open Session: a warm-up, a measured window, the
// figures. Setting the connections up is loadgen.go's.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Window describes one Run: a warm-up whose echoes are not counted, then a
// measured window that ends after Duration or after MaxEchoes echoes,
// whichever comes first.
type Window struct {
	Warmup   time.Duration
	Duration time.Duration
	// MaxEchoes, when > 0, caps the echoes sent in the measured window. With
	// no warm-up exactly MaxEchoes echoes are sent and counted, unless a
	// connection fails.
	MaxEchoes int64
	// OnStart and OnEnd run synchronously just before the window opens and
	// just after it closes (e.g. to sample the server's CPU time), while the
	// connections keep running.
	OnStart, OnEnd func()
}

// Result holds the figures of one Run's measured window.
type Result struct {
	Conns, Idle, Size, Depth int
	Window                   time.Duration
	Echoes                   int64
	Bytes                    int64 // payload bytes echoed back (one direction)
	Errors                   int64
	ErrorSamples             []string // the first few errors, for the report
	RTT                      Histogram
	ClientCPU                time.Duration // user+system CPU of this process
}

// EchoesPerSec is the measured throughput.
func (r *Result) EchoesPerSec() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Echoes) / r.Window.Seconds()
}

// MBPerSec is payload megabytes (10^6) echoed per second, one direction.
func (r *Result) MBPerSec() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Bytes) / 1e6 / r.Window.Seconds()
}

// ClientCPUPercent is this process's CPU time over the window, in percent of
// one core.
func (r *Result) ClientCPUPercent() float64 {
	if r.Window <= 0 {
		return 0
	}
	return 100 * r.ClientCPU.Seconds() / r.Window.Seconds()
}

// maxErrorSamples bounds Result.ErrorSamples: with 1000 connections failing
// the same way, one line says as much as a thousand.
const maxErrorSamples = 5

// runState is the state the workers of one Run share.
type runState struct {
	epoch     time.Time
	depth     uint64
	measuring atomic.Bool
	stop      atomic.Bool
	max       int64
	tickets   atomic.Int64 // messages sent inside the window (when max > 0)
	completed atomic.Int64 // echoes completed inside the window (when max > 0)
	reached   chan struct{}
	once      sync.Once
}

func (r *runState) now() time.Duration { return time.Since(r.epoch) }

// Run drives all live active connections through w and returns the measured
// figures. It returns an error only when it could not measure at all (no live
// connection, or ctx cancelled); failures of the server show up in
// Result.Errors. Run may be called again on the same Session: each connection
// continues its message sequence.
func (s *Session) Run(ctx context.Context, w Window) (Result, error) {
	res := Result{Conns: s.cfg.Conns, Idle: s.cfg.Idle, Size: s.cfg.Size, Depth: s.cfg.Depth}
	var live []*conn
	for _, c := range s.active {
		if !c.dead {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return res, errors.New("loadgen: no live connection left")
	}
	if w.Duration <= 0 {
		return res, fmt.Errorf("loadgen: window %v <= 0", w.Duration)
	}
	r := &runState{epoch: time.Now(), depth: uint64(s.cfg.Depth), max: w.MaxEchoes, reached: make(chan struct{})}
	for _, c := range live {
		c.echoes, c.err = 0, nil
		if c.hist == nil {
			c.hist = new(Histogram)
		} else {
			*c.hist = Histogram{}
		}
		c.stalled.Store(false)
		c.progress.Store(int64(r.now()))
		c.running.Store(true)
	}

	var (
		t0, t1   time.Duration
		cpu0     time.Duration
		opened   bool
		canceled error
	)
	open := func() {
		if w.OnStart != nil {
			w.OnStart()
		}
		cpu0 = selfCPU()
		t0 = r.now()
		r.measuring.Store(true)
		opened = true
	}
	if w.Warmup <= 0 {
		open() // before any worker runs, so every message takes a ticket
	}

	var workers sync.WaitGroup
	for _, c := range live {
		workers.Go(func() { c.work(r) })
	}
	finished := make(chan struct{})
	go func() { workers.Wait(); close(finished) }()
	watchdogDone := make(chan struct{})
	go func() { defer close(watchdogDone); s.watchdog(r, live, finished) }()

	if !opened {
		select {
		case <-time.After(w.Warmup):
			open()
		case <-ctx.Done():
			canceled = ctx.Err()
		case <-finished: // every connection failed during warm-up
		}
	}
	if opened {
		timer := time.NewTimer(w.Duration)
		select {
		case <-timer.C:
		case <-r.reached:
		case <-ctx.Done():
			canceled = ctx.Err()
		case <-finished:
		}
		timer.Stop()
		r.measuring.Store(false)
		t1 = r.now()
		res.ClientCPU = selfCPU() - cpu0
		if w.OnEnd != nil {
			w.OnEnd()
		}
	}
	r.stop.Store(true)
	<-finished
	<-watchdogDone

	res.Window = t1 - t0
	for _, c := range live {
		res.Echoes += c.echoes
		res.RTT.Merge(c.hist)
		if c.err != nil {
			res.addError(c.err)
		}
	}
	res.Bytes = res.Echoes * int64(s.cfg.Size)
	for _, c := range s.idle {
		if c.dead {
			continue
		}
		if err := c.checkIdle(); err != nil {
			c.dead = true
			c.tc.Close()
			res.addError(err)
		}
	}
	return res, canceled
}

func (r *Result) addError(err error) {
	r.Errors++
	if len(r.ErrorSamples) < maxErrorSamples {
		r.ErrorSamples = append(r.ErrorSamples, err.Error())
	}
}

// watchdog fails connections that make no progress for cfg.Stall by moving
// their deadline into the past, which wakes their blocked Read or Write.
func (s *Session) watchdog(r *runState, live []*conn, finished <-chan struct{}) {
	tick := time.NewTicker(max(s.cfg.Stall/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-finished:
			return
		case <-tick.C:
		}
		now := int64(r.now())
		for _, c := range live {
			if c.running.Load() && now-c.progress.Load() > int64(s.cfg.Stall) && c.stalled.CompareAndSwap(false, true) {
				c.tc.SetDeadline(time.Unix(1, 0))
			}
		}
	}
}

// work is one connection's closed loop: keep depth messages in flight, read
// each echo back in order and check it, until the run stops; then drain.
func (c *conn) work(r *runState) {
	defer c.running.Store(false)
	for {
		for c.sent-c.recvd < r.depth && !r.stop.Load() {
			if r.max > 0 && r.measuring.Load() && r.tickets.Add(1) > r.max {
				break
			}
			c.pat.fill(c.wbuf, c.sent)
			c.sendAt[c.sent%r.depth] = r.now()
			if _, err := c.tc.Write(c.wbuf); err != nil {
				c.fail(fmt.Errorf("write message %d: %w", c.sent, err))
				return
			}
			c.sent++
		}
		if c.sent == c.recvd {
			return
		}
		if _, err := io.ReadFull(c.tc, c.rbuf); err != nil {
			c.fail(fmt.Errorf("read echo %d: %w", c.recvd, err))
			return
		}
		if err := c.pat.check(c.rbuf, c.recvd); err != nil {
			c.fail(err)
			return
		}
		now := r.now()
		c.progress.Store(int64(now))
		if r.measuring.Load() {
			c.echoes++
			c.hist.Record(now - c.sendAt[c.recvd%r.depth])
			if r.max > 0 && r.completed.Add(1) == r.max {
				r.once.Do(func() { close(r.reached) })
			}
		}
		c.recvd++
		if r.max > 0 && c.sent == c.recvd && r.tickets.Load() >= r.max {
			return // out of tickets and nothing in flight
		}
	}
}

func (c *conn) fail(err error) {
	if c.stalled.Load() {
		err = fmt.Errorf("conn %d stalled (no echo within the stall limit): %w", c.id, err)
	} else {
		err = fmt.Errorf("conn %d: %w", c.id, err)
	}
	c.err = err
	c.dead = true
	c.tc.Close()
}

// checkIdle peeks at an idle connection without blocking: it must have no
// data and must not have been closed by the server.
func (c *conn) checkIdle() error {
	raw, err := c.tc.SyscallConn()
	if err != nil {
		return fmt.Errorf("idle conn %d: %w", c.id, err)
	}
	var (
		n    int
		rerr error
		b    [1]byte
	)
	if err := raw.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return true
	}); err != nil {
		return fmt.Errorf("idle conn %d: %w", c.id, err)
	}
	switch {
	case errors.Is(rerr, syscall.EAGAIN):
		return nil
	case rerr != nil:
		return fmt.Errorf("idle conn %d: %w", c.id, os.NewSyscallError("recvfrom", rerr))
	case n == 0:
		return fmt.Errorf("idle conn %d: closed by the server", c.id)
	default:
		return fmt.Errorf("idle conn %d: unexpected data from the server", c.id)
	}
}
