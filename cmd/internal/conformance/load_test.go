package conformance

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// testNeverReader floods the server from a client that never reads: the
// server must cap what it queues for that client (1 MiB) and stop reading
// from it, so its memory stays flat, while another client is served on.
func testNeverReader(t *testing.T, s *server) {
	const (
		flood     = 32 << 20         // the most the flooder sends
		stuck     = 2 * time.Second  // a write blocked this long means the server stopped reading
		giveUp    = 30 * time.Second // the flood must have ended one way or the other by then
		rssGrowth = 64 << 20         // allowed VmRSS growth over the baseline
	)
	b, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := echo(b, []byte("baseline\n"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	base, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}

	f, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type result struct {
		sent    int
		blocked bool
		err     error
	}
	res := make(chan result, 1)
	go func() {
		chunk := randomBytes(64<<10, 4)
		sent := 0
		for sent < flood {
			_ = f.SetWriteDeadline(time.Now().Add(stuck))
			n, err := f.Write(chunk)
			sent += n
			if errors.Is(err, os.ErrDeadlineExceeded) {
				res <- result{sent: sent, blocked: true}
				return
			}
			if err != nil {
				res <- result{sent: sent, err: err}
				return
			}
		}
		res <- result{sent: sent}
	}()

	maxRSS := base.RSS
	sample := func() {
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		maxRSS = max(maxRSS, st.RSS, st.PeakRSS)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(giveUp)
	exchanges := 0
	var r result
wait:
	for {
		select {
		case r = <-res:
			break wait
		case <-deadline:
			_ = f.SetWriteDeadline(time.Now()) // stop the flooder
			r = <-res
			t.Fatalf("after %v the flooder had sent %d bytes and still made progress", giveUp, r.sent)
		case <-tick.C:
		}
		if err := echo(b, message(1, exchanges), 2*time.Second); err != nil {
			t.Fatalf("the other client, during the flood after %d good echoes: %v", exchanges, err)
		}
		exchanges++
		sample()
	}
	t.Logf("the never-reading client sent %.1f MiB, blocked: %v; %d echoes for the other client meanwhile",
		float64(r.sent)/(1<<20), r.blocked, exchanges)
	switch {
	case r.err != nil:
		t.Errorf("the never-reading client's connection failed after %d bytes: %v (the server should stop reading it, not drop it)", r.sent, r.err)
	case !r.blocked:
		// 1 MiB of queue plus the kernel's socket buffers on both paths
		// (about 10 MiB here) hold far less than the flood.
		t.Errorf("the never-reading client sent all %d MiB without blocking: the server kept reading it past its 1 MiB queue cap", flood>>20)
	}
	if r.blocked {
		held, err := heldByServer(s, f, r.sent)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the server holds %d bytes of the never-reading client's data (cap %d)", held, maxPending)
		switch {
		case held > maxPending:
			t.Errorf("the server holds %d bytes for one client, over the %d-byte cap", held, maxPending)
		case s.Spec.Engine == serverproc.EngineSelect && held != maxPending:
			t.Errorf("the server holds %d bytes for a client it stopped reading; a select server fills its queue to the cap, %d", held, maxPending)
		}
	}
	// The flooder's queue is full now and the server not reading it: the
	// other client must still be served.
	for i := range 10 {
		if err := echo(b, message(2, i), 2*time.Second); err != nil {
			t.Fatalf("the other client, after the flood stalled: %v", err)
		}
	}
	sample()
	growth := int64(maxRSS) - int64(base.RSS)
	t.Logf("server VmRSS %.1f MiB at baseline, peak %.1f MiB (growth %.1f MiB)",
		float64(base.RSS)/(1<<20), float64(maxRSS)/(1<<20), float64(growth)/(1<<20))
	if growth > rssGrowth {
		t.Errorf("server memory grew by %.1f MiB for one slow reader; want under %d MiB (queue capped at 1 MiB)",
			float64(growth)/(1<<20), rssGrowth>>20)
	}
	s.requireAlive(t)
}

// testThousand holds a thousand clients open at once; each sends its own
// line and must get exactly that back.
func testThousand(t *testing.T, s *server) {
	requireNoFile(t, minNoFile)
	const n = 1000
	conns, err := dialMany(s.Addr, n, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	if bad := echoAll(conns, 0, 30*time.Second); bad != nil {
		t.Fatal(bad)
	}
	closeAll(conns)
	s.waitNoClients(t, 10*time.Second)
	s.checkServes(t)
}

// echoAll runs one echo on every connection at once and summarises the
// failures, or returns nil.
func echoAll(conns []*net.TCPConn, round int, timeout time.Duration) error {
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { errs[i] = echo(c, message(i, round), timeout) })
	}
	wg.Wait()
	var first []error
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if len(first) < 5 {
				first = append(first, fmt.Errorf("client %d: %w", i, err))
			}
		}
	}
	if failed == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d clients failed their echo; the first: %w", failed, len(conns), errors.Join(first...))
}

// maxPending is the servers' cap on echo queued for one client (README,
// "The servers").
const maxPending = 1 << 20

// heldByServer works out how many of the sent bytes the server process
// itself holds for client c: what c wrote, less what the kernel still
// holds on either side of the connection (unacknowledged or unread, in
// both directions). It waits until those figures stop moving.
func heldByServer(s *server, c *net.TCPConn, sent int) (int, error) {
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	remote, err := netip.ParseAddrPort(s.Addr)
	if err != nil {
		return 0, err
	}
	var last [2]tcpQueue
	for try := range 50 { // about 5 s
		cq, err := tcpQueueOf(local, remote)
		if err != nil {
			return 0, err
		}
		sq, err := tcpQueueOf(remote, local)
		if err != nil {
			return 0, err
		}
		if try > 0 && [2]tcpQueue{cq, sq} == last {
			return sent - int(cq.tx+cq.rx+sq.tx+sq.rx), nil
		}
		last = [2]tcpQueue{cq, sq}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("the kernel's queues for %v never settled: %+v", local, last)
}
