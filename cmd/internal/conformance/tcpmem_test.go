package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What the kernel says of TCP memory and of a socket, for the flood
// scenarios (see flood_test.go): read, never written.

// tcpLimits reads the kernel's TCP memory thresholds, in bytes: the page
// counts of /proc/sys/net/ipv4/tcp_mem, below which it does not bother
// (low), past which it shrinks every socket's buffers (pressure), and at
// which it refuses memory to all but a socket's minimum, dropping packets
// (max). They are read, never written: they are the machine's.
func tcpLimits(t *testing.T) (low, pressure, max uint64) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_mem")
	if err != nil {
		t.Fatal(err)
	}
	var v [3]uint64
	f := strings.Fields(string(b))
	if len(f) != len(v) {
		t.Fatalf("tcp_mem: %q", b)
	}
	for i := range v {
		pages, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			t.Fatalf("tcp_mem: %q: %v", b, err)
		}
		v[i] = pages * uint64(os.Getpagesize())
	}
	return v[0], v[1], v[2]
}

// tcpPressure is tcpLimits' pressure threshold.
func tcpPressure(t *testing.T) uint64 {
	t.Helper()
	_, p, _ := tcpLimits(t)
	return p
}

// tcpMemory reads the kernel's TCP memory in use now, in bytes: the "mem"
// of /proc/net/sockstat's TCP line, in pages.
func tcpMemory() (uint64, error) {
	f, err := os.Open("/proc/net/sockstat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(fields); i += 2 {
			if fields[i] == "mem" {
				pages, err := strconv.ParseUint(fields[i+1], 10, 64)
				return pages * uint64(os.Getpagesize()), err
			}
		}
	}
	return 0, errors.Join(sc.Err(), errors.New("no TCP mem in /proc/net/sockstat"))
}

// settleTCPMemory waits, up to limit, for the kernel's TCP memory to fall
// below low (tcp_mem's first number), so that what an earlier flood (or
// another program) left does not count as this one's: the batches are
// sized from what the flooders add. It reports whether it did.
func settleTCPMemory(t *testing.T, low uint64, limit time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		m, err := tcpMemory()
		if err != nil {
			t.Fatal(err)
		}
		if m < low {
			return true
		}
		if time.Now().After(deadline) {
			t.Logf("the kernel still holds %.0f MiB of TCP memory before the flood (tcp_mem low %.0f MiB)", mib(m), mib(low))
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tcpWatch samples the kernel's TCP memory every 50 ms and keeps its peak;
// above its ceiling it calls its halt function (once).
type tcpWatch struct {
	max  atomic.Uint64
	quit chan struct{}
	done chan struct{}
}

func watchTCPMemory(t *testing.T, ceiling uint64, halt func()) *tcpWatch {
	t.Helper()
	if _, err := tcpMemory(); err != nil {
		t.Fatal(err)
	}
	w := &tcpWatch{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			m, err := tcpMemory()
			if err == nil && m > w.max.Load() {
				w.max.Store(m)
			}
			if err == nil && m > ceiling && halt != nil {
				halt()
				halt = nil
			}
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *tcpWatch) peak() uint64 { return w.max.Load() }

// now reads the kernel's TCP memory now.
func (w *tcpWatch) now(t *testing.T) uint64 {
	t.Helper()
	m, err := tcpMemory()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *tcpWatch) stop() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
		<-w.done
	}
}

// readNetstat reads the TcpExt counters of /proc/net/netstat.
func readNetstat(t *testing.T) map[string]uint64 {
	b, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	out := map[string]uint64{}
	for i := 0; i+1 < len(lines); i += 2 {
		k, v := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(k) == 0 || k[0] != "TcpExt:" || len(k) != len(v) {
			continue
		}
		for j := 1; j < len(k); j++ {
			n, _ := strconv.ParseUint(v[j], 10, 64)
			out[k[j]] = n
		}
	}
	return out
}

func netstatDelta(a, b map[string]uint64) string {
	var parts []string
	for _, k := range []string{"TCPMemoryPressures", "TCPMemoryPressuresChrono", "PruneCalled", "RcvPruned", "OfoPruned", "TCPRcvQDrop", "TCPBacklogDrop", "TCPTimeouts", "TCPLossProbes", "TCPRetransFail", "TCPZeroWindowDrop", "TCPOFODrop", "TCPRcvCollapsed", "TCPWantZeroWindowAdv", "TCPToZeroWindowAdv"} {
		if d := b[k] - a[k]; d != 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", k, d))
		}
	}
	return strings.Join(parts, ", ")
}

// window is what a flooder's own socket says of its receive side.
type window struct {
	inq            int    // bytes queued to read
	rcvWnd, rcvMss uint32 // the window it advertises, and its estimate of the peer's segment size
}

// receiveWindow reads c's receive queue length and its TCP_INFO window.
func receiveWindow(c *net.TCPConn) (window, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return window{}, false
	}
	var w window
	ok := false
	_ = rc.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return
		}
		inq, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ)
		if err != nil {
			return
		}
		w, ok = window{inq: inq, rcvWnd: info.Rcv_wnd, rcvMss: info.Rcv_mss}, true
	})
	return w, ok
}

// socketState is what ss says of both ends of c: whether the server's end
// has data in flight, is backing off its retransmission timer, or has
// nothing to send at all (a server that stopped writing).
func socketState(c *net.TCPConn) string {
	port := c.LocalAddr().(*net.TCPAddr).Port
	out, err := exec.Command("ss", "-tinomH", fmt.Sprintf("( sport = :%d or dport = :%d )", port, port)).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ss for port %d: %v: %s", port, err, out)
	}
	return string(out)
}
