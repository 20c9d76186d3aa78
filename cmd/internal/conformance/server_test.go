package conformance

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// server is one server process started for one subtest.
type server struct {
	*serverproc.Proc
}

// defaultOptions runs a server unpinned with inherited limits.
var defaultOptions = serverproc.Options{CPU: -1}

// startServer starts spec for t and stops it when t ends. The stop is part
// of the test: a server that crashed during the scenario, or does not exit
// with status 0 on SIGTERM, fails it. A failed test shows the server's log.
func startServer(t *testing.T, spec serverproc.Spec, opt serverproc.Options) *server {
	t.Helper()
	requireServer(t, spec)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := serverproc.Start(ctx, spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := p.Stop(); err != nil {
			t.Errorf("stopping the server: %v", err)
		} else if t.Failed() {
			t.Logf("server %s log:\n%s", spec.Name, logTail(p.Log()))
		}
	})
	return &server{Proc: p}
}

// requireAlive fails t at once if the server has exited.
func (s *server) requireAlive(t *testing.T) {
	t.Helper()
	select {
	case <-s.Done():
		t.Fatalf("server exited: %v\n%s", s.Err(), logTail(s.Log()))
	default:
	}
}

// waitNoClients waits until the server holds no client socket: it has
// noticed that every client went away and closed its side.
func (s *server) waitNoClients(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, err := s.clientSockets()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still holds %d client sockets %v after its clients left", n, timeout)
		}
		s.requireAlive(t)
		time.Sleep(10 * time.Millisecond)
	}
}

// maxFD returns the server's highest open descriptor number.
func (s *server) maxFD() (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.PID()))
	if err != nil {
		return 0, err
	}
	m := -1
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > m {
			m = n
		}
	}
	return m, nil
}

// waitLog waits until the server's log contains one of the substrings
// (case-insensitive) and reports whether it did within timeout.
func (s *server) waitLog(timeout time.Duration, subs ...string) bool {
	deadline := time.Now().Add(timeout)
	for {
		log := strings.ToLower(s.Log())
		for _, sub := range subs {
			if strings.Contains(log, strings.ToLower(sub)) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkServes fails t unless a fresh client gets a correct echo.
func (s *server) checkServes(t *testing.T) {
	t.Helper()
	s.requireAlive(t)
	c, err := dial(s.Addr)
	if err != nil {
		t.Fatalf("fresh client: %v", err)
	}
	defer c.Close()
	if err := echo(c, []byte("fresh client after the scenario\n"), 5*time.Second); err != nil {
		t.Fatalf("fresh client: %v", err)
	}
}

// logTail keeps failure output readable when a server logged a lot.
func logTail(s string) string {
	const keep = 4 << 10
	if len(s) <= keep {
		return s
	}
	return "[...]" + s[len(s)-keep:]
}
