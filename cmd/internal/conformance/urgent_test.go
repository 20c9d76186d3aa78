package conformance

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// urgentByte is the urgent data the scenario sends; the ordinary stream
// never contains it, so an urgent byte that arrives inline can be told apart.
const urgentByte = 0xFF

// testUrgent sends TCP urgent data (MSG_OOB) right behind a large write and
// between writes. The servers' policy (README, "The servers"): the urgent
// byte is read and logged, not echoed; the connection goes on and every
// ordinary byte, before and after it, comes back in order. Closing on the
// exceptional condition, as the post does, resets the connection with
// unread input and loses what the client sent before the urgent byte.
func testUrgent(t *testing.T, s *server) {
	a, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// The urgent byte at the server's read position, data behind it.
	n := urgentLines(s)
	urgentAtMark(t, s, a)
	requireUrgentLogged(t, s, n, "at the read position with data behind it")

	// 256 KiB, then at once the urgent byte, then more.
	n = urgentLines(s)
	before, after := streamBytes(256<<10, 1), streamBytes(4<<10, 2)
	sendWithUrgent(t, s, a, [][]byte{before, after}, append(append([]byte{}, before...), after...))
	requireUrgentLogged(t, s, n, "right behind a large write")

	// Interleaved: ten writes with an urgent byte after each. A newer
	// urgent byte makes the kernel put the older one back in the stream,
	// so bytes equal to urgentByte are ignored in the echo.
	var parts [][]byte
	var want []byte
	for i := range 10 {
		p := streamBytes(30<<10, uint64(10+i))
		parts, want = append(parts, p), append(want, p...)
	}
	sendWithUrgent(t, s, a, parts, want)

	// No spinning on a condition the server has dealt with.
	st0, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	st1, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if used := st1.CPU - st0.CPU; used > 100*time.Millisecond {
		t.Errorf("server used %v of CPU in the 500 ms after urgent data: it spins on the exceptional condition", used)
	}
	if err := echo(a, []byte("the same connection, still served\n"), 5*time.Second); err != nil {
		t.Fatalf("client A after urgent data: %v", err)
	}
	if err := echo(b, []byte("client B is still served\n"), 5*time.Second); err != nil {
		t.Fatalf("client B: %v", err)
	}
}

// urgentAtMark sends an urgent byte and ordinary data behind it while the
// server, which has read everything before, is stopped: its next select
// then reports the client readable and exceptional at once, with the read
// position at the urgent mark. A server that reads the ordinary data first
// passes the mark and the kernel drops the byte (README, "The servers").
// It fails t unless the data behind the byte, and only that, comes back.
func urgentAtMark(t *testing.T, s *server, c *net.TCPConn) {
	t.Helper()
	if err := echo(c, []byte("everything before the urgent byte\n"), 5*time.Second); err != nil {
		t.Fatalf("echo before the urgent byte: %v", err)
	}
	if err := syscall.Kill(s.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	cont := func() {
		if stopped {
			stopped = false
			if err := syscall.Kill(s.PID(), syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer cont()
	behind := []byte("the data behind the urgent byte\n")
	if err := sendOOB(c, []byte{urgentByte}); err != nil {
		t.Fatalf("urgent byte: %v", err)
	}
	if _, err := c.Write(behind); err != nil {
		t.Fatalf("write behind the urgent byte: %v", err)
	}
	// The server's kernel acknowledges while the process is stopped: once
	// nothing is unacknowledged, both are in its receive queue.
	if err := waitSent(c, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cont()
	got := make([]byte, len(behind))
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	k, err := io.ReadFull(c, got)
	_ = c.SetDeadline(time.Time{})
	switch {
	case err != nil:
		t.Fatalf("echo behind the urgent byte: %d of %d bytes, then %v", k, len(behind), err)
	case !bytes.Equal(got, behind):
		t.Fatalf("echo behind the urgent byte: %v", mismatch(got, behind))
	}
	s.requireAlive(t)
}

// waitSent waits until the peer has acknowledged everything written on c.
func waitSent(c *net.TCPConn, timeout time.Duration) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		var n int
		var ierr error
		if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil {
			return err
		}
		switch {
		case ierr != nil:
			return os.NewSyscallError("ioctl SIOCOUTQ", ierr)
		case n == 0:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("%d bytes still unacknowledged after %v", n, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// urgentLines counts the server's log lines about urgent data so far.
func urgentLines(s *server) int {
	return strings.Count(strings.ToLower(s.Log()), "urgent")
}

// requireUrgentLogged fails t unless a select server logs an urgent line
// beyond the n it had logged before the urgent byte sent as when says.
func requireUrgentLogged(t *testing.T, s *server, n int, when string) {
	t.Helper()
	if s.Spec.Engine != serverproc.EngineSelect {
		return // the kernel drops the byte unseen (serverproc.EngineEpoll)
	}
	deadline := time.Now().Add(2 * time.Second)
	for urgentLines(s) <= n {
		if time.Now().After(deadline) {
			t.Errorf("urgent byte %s: the server read no urgent byte, or did not log it (looked for \"urgent\")", when)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sendWithUrgent writes each part followed by one urgent byte while
// reading the echo, and fails t unless the echo, less any urgent bytes
// that came inline, is want.
func sendWithUrgent(t *testing.T, s *server, c *net.TCPConn, parts [][]byte, want []byte) {
	t.Helper()
	type result struct {
		got []byte
		err error
	}
	res := make(chan result, 1)
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	go func() {
		var got []byte
		buf := make([]byte, 64<<10)
		for len(got) < len(want) {
			n, err := c.Read(buf)
			got = append(got, bytes.ReplaceAll(buf[:n], []byte{urgentByte}, nil)...)
			if err != nil {
				res <- result{got, err}
				return
			}
		}
		res <- result{got, nil}
	}()
	for i, p := range parts {
		if _, err := c.Write(p); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if err := sendOOB(c, []byte{urgentByte}); err != nil {
			t.Fatalf("urgent byte %d: %v", i, err)
		}
	}
	r := <-res
	_ = c.SetDeadline(time.Time{})
	switch {
	case r.err == io.EOF || isClosedByPeer(r.err):
		t.Fatalf("the server closed the connection after %d of %d ordinary bytes: urgent data must not cost the stream", len(r.got), len(want))
	case r.err != nil:
		t.Fatalf("echo around urgent data: %d of %d bytes, then %v", len(r.got), len(want), r.err)
	case !bytes.Equal(r.got[:len(want)], want):
		t.Fatalf("echo around urgent data: %v", mismatch(r.got[:len(want)], want))
	case len(r.got) > len(want):
		t.Fatalf("echo around urgent data: %d bytes more than sent", len(r.got)-len(want))
	}
	s.requireAlive(t)
}

// streamBytes returns n pseudo-random bytes that are never urgentByte.
func streamBytes(n int, seed uint64) []byte {
	b := randomBytes(n, seed)
	for i := range b {
		if b[i] == urgentByte {
			b[i] = 0x7E
		}
	}
	return b
}
