package conformance

import (
	"testing"
	"time"
)

// testIdleCPU: once its clients have left, a server blocks in select
// without a timeout and uses no CPU.
func testIdleCPU(t *testing.T, s *server) {
	c, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(c, []byte("one echo, then idle\n"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	s.waitNoClients(t, 5*time.Second)
	before, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	after, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	used := after.CPU - before.CPU
	t.Logf("idle for 1 s: %v CPU, %d voluntary and %d involuntary context switches",
		used, after.VolCtxt-before.VolCtxt, after.InvolCtxt-before.InvolCtxt)
	if used >= 20*time.Millisecond {
		t.Errorf("server used %v of CPU in 1 s idle; want < 20 ms", used)
	}
}

// sigtermLimit is how soon a server must exit after SIGTERM.
const sigtermLimit = 100 * time.Millisecond

// testSIGTERM: with clients connected, SIGTERM makes the server close every
// socket and exit 0 within 100 ms.
func testSIGTERM(t *testing.T, s *server) {
	conns, err := dialMany(s.Addr, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	if err := echoAll(conns, 0, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exited %v after SIGTERM", d)
	if d > sigtermLimit {
		t.Errorf("exited %v after SIGTERM; want within %v", d, sigtermLimit)
	}
	for i, c := range conns {
		if err := expectEOF(c, 2*time.Second); err != nil {
			t.Errorf("client %d after the server stopped: %v", i, err)
		}
	}
}
