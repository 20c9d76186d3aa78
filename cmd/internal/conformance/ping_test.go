package conformance

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/internal/loadgen"
)

// The flood scenarios' ping client (see flood_test.go).

// latency summarises one phase's pings.
type latency struct {
	n             int
	p50, p99, max time.Duration
}

func (l latency) String() string {
	return fmt.Sprintf("p50 %v p99 %v max %v (%d pings)", round(l.p50), round(l.p99), round(l.max), l.n)
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// pinger is the separate client: it sends a short message every pingEvery
// and times its echo, until stopped or until one fails.
type pinger struct {
	c       *net.TCPConn
	mu      sync.Mutex
	pings   []ping
	err     error
	done    chan struct{}
	quit    chan struct{}
	stopped bool
	split   int      // index of the first parked-phase ping, once known
	slow    []string // what was going on at each slow ping
	start   time.Time
	pid     int // the server's, for its run-queue wait
}

// slowPing is the time past which a ping's circumstances are recorded.
const slowPing = 100 * time.Millisecond

// describeSlow says when ping i was slow, how much TCP memory the kernel
// held then and how often the ping client's own segments had to be sent
// again so far (its TCP_INFO): a retransmit means a drop on the way to
// the server, none a wait in the server or on the way back. The write's
// own time and the machine's load average tell a busy client or CPU from
// a slow server, and so does how long the server's threads waited for a
// CPU meanwhile (their schedstat run delay, summed).
func (p *pinger) describeSlow(i int, rtt, wrote, queued time.Duration) string {
	m, _ := tcpMemory()
	var retrans uint32
	if rc, err := p.c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				retrans = info.Total_retrans
			}
		})
	}
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("ping %d at +%v: %v (its write %v; the server's threads waited %v for a CPU meanwhile), kernel TCP memory %.0f MiB, ping client retransmits so far %d, load average %s",
		i, time.Since(p.start).Round(time.Millisecond), round(rtt), round(wrote), round(queued), mib(m), retrans, strings.Join(strings.Fields(string(load))[:3], " "))
}

// runDelay sums the time the threads of process pid have spent runnable
// but waiting for a CPU (the second field of each thread's schedstat).
func runDelay(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	var sum time.Duration
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/" + task.Name() + "/schedstat")
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

func startPinger(addr string, serverPID int) (*pinger, error) {
	c, err := dial(addr)
	if err != nil {
		return nil, err
	}
	p := &pinger{c: c, pid: serverPID, done: make(chan struct{}), quit: make(chan struct{}), split: -1, start: time.Now()}
	go p.run()
	return p, nil
}

func (p *pinger) run() {
	defer close(p.done)
	got := make([]byte, 64)
	for i := 0; ; i++ {
		select {
		case <-p.quit:
			return
		case <-time.After(pingEvery):
		}
		msg := fmt.Appendf(nil, "ping %08d %-50s\n", i, "")[:64]
		waited := runDelay(p.pid)
		start := time.Now()
		// Generous: the bounds are checked on the times, this only keeps
		// a wedged server from hanging the test.
		err := p.c.SetDeadline(start.Add(10 * time.Second))
		if err == nil {
			_, err = p.c.Write(msg)
		}
		wrote := time.Since(start)
		if err == nil {
			_, err = io.ReadFull(p.c, got)
		}
		if err == nil && !bytes.Equal(got, msg) {
			err = mismatch(got, msg)
		}
		rtt := time.Since(start)
		queued := runDelay(p.pid) - waited
		var slow string
		if rtt > slowPing {
			slow = p.describeSlow(i, rtt, wrote, queued)
		}
		p.mu.Lock()
		if slow != "" {
			p.slow = append(p.slow, slow)
		}
		if err != nil {
			p.err = fmt.Errorf("ping %d: %w", i, err)
		} else {
			p.pings = append(p.pings, ping{rtt: rtt, own: rtt - min(rtt, max(0, queued))})
		}
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// parkedStart marks the pings from now on as the parked phase's, and
// returns the index of the first.
func (p *pinger) parkedStart() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.split = len(p.pings)
	return p.split
}

// phase summarises the pings before index end (the push phase).
func (p *pinger) phase(end int) (raw, own latency) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return summarise(p.pings[:end])
}

// count is how many pings the parked phase has taken so far.
func (p *pinger) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pings) - p.split
}

func (p *pinger) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// stop ends the pings and summarises the parked phase's.
func (p *pinger) stop() (raw, own latency) {
	if !p.stopped {
		p.stopped = true
		close(p.quit)
		<-p.done
		_ = p.c.Close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.split < 0 {
		return latency{}, latency{}
	}
	return summarise(p.pings[p.split:])
}

// ping is one ping's round trip, and the part of it the server did not
// spend waiting for a CPU: rtt less the time its threads sat runnable on a
// run queue meanwhile (their schedstat run delay, summed, so for a server
// of several threads it may overstate; never below zero). On a shared
// machine the raw time is mostly other programs' load; the bounds are held
// to the server's own part.
type ping struct {
	rtt, own time.Duration
}

// summarise gives the raw and the server's own latencies of pings.
func summarise(pings []ping) (raw, own latency) {
	var hr, ho loadgen.Histogram
	for _, p := range pings {
		hr.Record(p.rtt)
		ho.Record(p.own)
	}
	sum := func(h *loadgen.Histogram) latency {
		return latency{n: len(pings), p50: h.Quantile(0.5), p99: h.Quantile(0.99), max: h.Max()}
	}
	return sum(&hr), sum(&ho)
}
