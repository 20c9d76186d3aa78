package conformance

import (
	"strings"
	"testing"
	"time"
)

// testAcceptError runs the server with accept(2) failing with errno every
// time (see injectEnv) while clients wait in the backlog. The servers'
// policy (README, "The servers"): log it, rest the listener for 100 ms,
// keep serving; never retry in a tight loop, never die.
func testAcceptError(name string) func(*testing.T, *server) {
	return func(t *testing.T, s *server) {
		conns, err := dialMany(s.Addr, 5, 5) // the kernel completes them into the backlog
		if err != nil {
			t.Fatal(err)
		}
		defer closeAll(conns)
		want := injectable[name].Error()
		if !s.waitLog(3*time.Second, want) {
			s.requireAlive(t)
			t.Fatalf("no log line about accept's %s (looked for %q)", name, want)
		}
		st0, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		lines0 := logLines(s)
		time.Sleep(time.Second)
		st1, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		used, lines := st1.CPU-st0.CPU, logLines(s)-lines0
		t.Logf("accept failing with %s for 1 s: %v CPU, %d log lines", name, used, lines)
		if used > 200*time.Millisecond {
			t.Errorf("server used %v of CPU in 1 s of failing accepts: it retries without resting", used)
		}
		if lines > 30 {
			t.Errorf("server logged %d lines in 1 s of failing accepts: it retries without resting", lines)
		}
		s.requireAlive(t)
	}
}

func logLines(s *server) int { return strings.Count(s.Log(), "\n") }
