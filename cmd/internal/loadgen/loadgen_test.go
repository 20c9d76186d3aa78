package loadgen

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is an in-process echo server whose per-message behaviour a test
// chooses, to prove the load generator catches each kind of misbehaviour.
type fakeServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// behaviour gets the accept index of the connection, the message number on
// that connection (0 is the load generator's first, checking echo) and the
// message; it returns what to write back, and whether to close afterwards.
type behaviour func(conn, msg int, buf []byte) (out [][]byte, closeConn bool)

func echo(_, _ int, buf []byte) ([][]byte, bool) { return [][]byte{buf}, false }

func startFake(t *testing.T, size int, b behaviour) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln}
	s.wg.Go(func() {
		for idx := 0; ; idx++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() { serve(c, idx, size, b) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.closeAll()
		s.wg.Wait()
	})
	return s
}

func serve(c net.Conn, idx, size int, b behaviour) {
	defer c.Close()
	buf := make([]byte, size)
	for msg := 0; ; msg++ {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		out, closeConn := b(idx, msg, buf)
		for _, o := range out {
			if _, err := c.Write(o); err != nil {
				return
			}
		}
		if closeConn {
			return
		}
	}
}

func (s *fakeServer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

// onFirstConn applies bad to message msg of the first accepted connection
// and echoes everything else faithfully.
func onFirstConn(msg int, bad behaviour) behaviour {
	return func(conn, m int, buf []byte) ([][]byte, bool) {
		if conn == 0 && m == msg {
			return bad(conn, m, buf)
		}
		return echo(conn, m, buf)
	}
}

func quickWindow() Window {
	return Window{Warmup: 50 * time.Millisecond, Duration: 250 * time.Millisecond}
}

func runOnce(t *testing.T, cfg Config, w Window) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	res, err := s.Run(ctx, w)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func TestCorrectServerHasNoErrors(t *testing.T) {
	for _, tc := range []struct{ conns, idle, size, depth int }{
		{1, 0, 1, 1}, {4, 0, 64, 1}, {3, 5, 1000, 1}, {4, 0, 16384, 4}, {2, 0, 7, 3},
	} {
		srv := startFake(t, tc.size, echo)
		res := runOnce(t, Config{Addr: srv.ln.Addr().String(), Conns: tc.conns, Idle: tc.idle, Size: tc.size, Depth: tc.depth}, quickWindow())
		if res.Errors != 0 {
			t.Errorf("%+v: %d errors: %q", tc, res.Errors, res.ErrorSamples)
		}
		if res.Echoes < int64(tc.conns) {
			t.Errorf("%+v: only %d echoes in %v", tc, res.Echoes, res.Window)
		}
		if got := res.RTT.Count(); got != uint64(res.Echoes) {
			t.Errorf("%+v: %d RTT samples for %d echoes", tc, got, res.Echoes)
		}
		if res.Bytes != res.Echoes*int64(tc.size) {
			t.Errorf("%+v: %d bytes for %d echoes of %d", tc, res.Bytes, res.Echoes, tc.size)
		}
		if res.Window < 200*time.Millisecond || res.Window > time.Second {
			t.Errorf("%+v: window %v, want ~250ms", tc, res.Window)
		}
		if p50, p99 := res.RTT.Quantile(0.5), res.RTT.Quantile(0.99); p50 <= 0 || p99 < p50 || p99 > res.RTT.Max() {
			t.Errorf("%+v: p50 %v p99 %v max %v", tc, p50, p99, res.RTT.Max())
		}
	}
}

func TestMisbehavingServersAreCaught(t *testing.T) {
	const size = 64
	cases := []struct {
		name  string
		bad   behaviour
		depth int
		want  string // in the error text
	}{
		{"corrupt", func(_, _ int, b []byte) ([][]byte, bool) { b[37] ^= 0x40; return [][]byte{b}, false }, 1, "byte 37"},
		{"corrupt-last-byte", func(_, _ int, b []byte) ([][]byte, bool) { b[size-1]++; return [][]byte{b}, false }, 2, "byte 63"},
		{"drop", func(_, _ int, b []byte) ([][]byte, bool) { return nil, false }, 1, "stalled"},
		{"drop-pipelined", func(_, _ int, b []byte) ([][]byte, bool) { return nil, false }, 4, "byte 0"},
		{"duplicate", func(_, _ int, b []byte) ([][]byte, bool) { return [][]byte{b, b}, false }, 1, "byte 0"},
		{"close-early", func(_, _ int, b []byte) ([][]byte, bool) { return nil, true }, 1, "EOF"},
		{"short-then-close", func(_, _ int, b []byte) ([][]byte, bool) { return [][]byte{b[:10]}, true }, 1, "EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, size, onFirstConn(3, tc.bad))
			cfg := Config{Addr: srv.ln.Addr().String(), Conns: 4, Size: size, Depth: tc.depth, Stall: 200 * time.Millisecond}
			res := runOnce(t, cfg, quickWindow())
			if res.Errors != 1 {
				t.Fatalf("errors = %d, want exactly 1 (the misbehaving connection): %q", res.Errors, res.ErrorSamples)
			}
			if !strings.Contains(res.ErrorSamples[0], tc.want) {
				t.Errorf("error %q does not mention %q", res.ErrorSamples[0], tc.want)
			}
			if res.Echoes == 0 {
				t.Errorf("the three good connections made no echoes")
			}
		})
	}
}

func TestSwappedConnectionsAreCaught(t *testing.T) {
	// A server that mixes up its clients sends connection A's bytes to B.
	const size = 32
	var mu sync.Mutex
	var last []byte
	srv := startFake(t, size, func(conn, msg int, b []byte) ([][]byte, bool) {
		mu.Lock()
		defer mu.Unlock()
		if msg == 5 && last != nil {
			return [][]byte{append([]byte(nil), last...)}, false
		}
		last = append(last[:0], b...)
		return [][]byte{b}, false
	})
	res := runOnce(t, Config{Addr: srv.ln.Addr().String(), Conns: 2, Size: size, Stall: 200 * time.Millisecond}, quickWindow())
	if res.Errors == 0 {
		t.Fatal("a server echoing another connection's message was not caught")
	}
}

func TestIdleConnectionsClosedByServerAreCaught(t *testing.T) {
	srv := startFake(t, 16, echo)
	ctx := context.Background()
	s, err := Open(ctx, Config{Addr: srv.ln.Addr().String(), Conns: 1, Idle: 3, Size: 16, Stall: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.closeAll()
	res, err := s.Run(ctx, quickWindow())
	if err != nil {
		t.Fatal(err)
	}
	// One for the active connection, three for the idle ones.
	if res.Errors != 4 {
		t.Fatalf("errors = %d, want 4: %q", res.Errors, res.ErrorSamples)
	}
	if _, err := s.Run(ctx, quickWindow()); err == nil {
		t.Error("Run with every connection dead did not fail")
	}
}

func TestMaxEchoesIsExact(t *testing.T) {
	srv := startFake(t, 100, echo)
	ctx := context.Background()
	s, err := Open(ctx, Config{Addr: srv.ln.Addr().String(), Conns: 3, Size: 100, Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	starts, ends := 0, 0
	for _, n := range []int64{100, 37, 1} {
		res, err := s.Run(ctx, Window{Duration: 10 * time.Second, MaxEchoes: n,
			OnStart: func() { starts++ }, OnEnd: func() { ends++ }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Echoes != n || res.Errors != 0 {
			t.Fatalf("MaxEchoes %d: got %d echoes, %d errors %q", n, res.Echoes, res.Errors, res.ErrorSamples)
		}
		if res.Window > 5*time.Second {
			t.Fatalf("MaxEchoes %d: window ran to %v instead of ending at the cap", n, res.Window)
		}
	}
	if starts != 3 || ends != 3 {
		t.Errorf("OnStart ran %d times, OnEnd %d times; want 3 each", starts, ends)
	}
}

func TestOpenFailures(t *testing.T) {
	if _, err := Open(context.Background(), Config{Addr: "192.0.2.1:9", Conns: 1, Size: 1}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("non-loopback address: err = %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	_, err = Open(context.Background(), Config{Addr: addr, Conns: 3, Size: 8, DialTimeout: time.Second})
	se, ok := err.(*SetupError)
	if !ok || se.Failed != 3 || se.Total != 3 {
		t.Errorf("dial to a closed port: err = %#v", err)
	}
	for _, bad := range []Config{{Addr: addr, Conns: 0, Size: 1}, {Addr: addr, Conns: 1, Size: 0}, {Addr: addr, Conns: 1, Size: 1, Depth: -1}, {Addr: addr, Conns: 1, Size: 16384, Depth: 17}} {
		if _, err := Open(context.Background(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestCancelStopsRun(t *testing.T) {
	srv := startFake(t, 8, echo)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(ctx, Config{Addr: srv.ln.Addr().String(), Conns: 2, Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = s.Run(ctx, Window{Warmup: 10 * time.Millisecond, Duration: time.Minute})
	if err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v after cancel", d)
	}
}
