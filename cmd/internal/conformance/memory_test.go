package conformance

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// testMemoryReturned: a burst of clients that each push megabytes and never
// read makes a select server hold its 1 MiB cap for every one of them. Once
// they have gone, the server must give that memory back to the system (its
// RSS near where it started), not keep it for minutes.
func testMemoryReturned(t *testing.T, s *server) {
	const (
		clients = 500
		push    = 32 << 20 // at most, per client: the server stops reading it well before
		slack   = 32 << 20 // RSS allowed above the baseline once they left
		// A sanitized server also keeps ASan's shadow memory, an eighth of
		// every heap page it ever touched (64 MiB for this burst), mapped.
		shadow   = 64 << 20
		giveBack = 10 * time.Second
	)
	requireNoFile(t, clients+100)
	s.checkServes(t) // the server has started up and served once
	// TCP memory is the machine's: under tcp_mem's pressure (an earlier
	// flood, another program) the kernel shrinks socket buffers, writes
	// stall before the server has its cap, and the burst loads nothing.
	low, _, _ := tcpLimits(t)
	settleTCPMemory(t, low, 5*time.Second)
	base, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.TCPConn, 0, clients)
	defer func() { closeAll(conns) }()
	for range clients {
		c, err := dialSmallBuffers(s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	chunk := streamBytes(64<<10, 7)
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() {
			// Until the server stops reading: a write stuck for a second.
			for sent := 0; sent < push; sent += len(chunk) {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := c.Write(chunk); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	// The server takes what it can; wait until its memory stops growing.
	peak := waitRSSSettles(t, s, 20*time.Second)
	t.Logf("%d never-reading clients: server RSS %.1f MiB -> %.1f MiB (%.2f MiB a client)",
		clients, mib(base.RSS), mib(peak), mib(peak-min(peak, base.RSS))/clients)
	if s.Spec.Engine == serverproc.EngineSelect && peak < base.RSS+clients<<20/2 {
		m, _ := tcpMemory()
		t.Errorf("server RSS grew by only %.1f MiB for %d clients at a 1 MiB cap: the scenario did not load it (the kernel holds %.0f MiB of TCP memory, tcp_mem low %.0f MiB)",
			mib(peak-base.RSS), clients, mib(m), mib(low))
	}

	closeAll(conns) // unread echo in their buffers: each close is a reset
	s.waitNoClients(t, 20*time.Second)
	allowed := base.RSS + slack
	if s.Spec.Sanitized {
		allowed += shadow
	}
	gone := time.Now()
	for {
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.RSS <= allowed {
			t.Logf("back to %.1f MiB %v after the last client left", mib(st.RSS), time.Since(gone).Round(10*time.Millisecond))
			break
		}
		if time.Since(gone) > giveBack {
			t.Fatalf("server still holds %.1f MiB %v after every client left (baseline %.1f MiB, allowed %.1f): memory not given back",
				mib(st.RSS), giveBack, mib(base.RSS), mib(allowed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.checkServes(t)
}

// waitRSSSettles waits until the server's RSS has not grown for 500 ms and
// returns it.
func waitRSSSettles(t *testing.T, s *server, limit time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last uint64
	stable := time.Now()
	for time.Now().Before(deadline) {
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.RSS > last+1<<20 {
			last, stable = st.RSS, time.Now()
		} else if time.Since(stable) >= 500*time.Millisecond {
			return max(last, st.RSS)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// dialSmallBuffers connects with 64 KiB socket buffers, so that what a
// client sends and does not read back piles up in the server process, not
// in the kernel's buffers on the way (they grow to megabytes otherwise).
func dialSmallBuffers(addr string) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: dialTimeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			for _, opt := range []int{syscall.SO_RCVBUF, syscall.SO_SNDBUF} {
				if serr == nil {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 64<<10)
				}
			}
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}
