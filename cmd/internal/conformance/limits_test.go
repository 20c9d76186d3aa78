package conformance

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// fdSetSize is glibc's FD_SETSIZE: select(2) cannot watch a descriptor at
// or above it.
const fdSetSize = 1024

// fdLimitOptions gives every server room for well over FD_SETSIZE
// descriptors, so accept hands out fds >= 1024 instead of failing EMFILE.
func fdLimitOptions(serverproc.Spec) serverproc.Options {
	return serverproc.Options{NoFile: 4096, CPU: -1}
}

// testFDLimit fills the server's descriptor table past FD_SETSIZE. The
// first thousand clients fit below it and are served; of the fifty opened
// after them one by one, those whose server-side fd would be >= 1024 must
// be closed at once (and logged) while the server keeps serving the rest.
// Then every client leaves at once and the server must serve new ones.
func testFDLimit(t *testing.T, s *server) {
	requireNoFile(t, minNoFile)
	const first, extra = 1000, 50
	conns, err := dialMany(s.Addr, first, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { closeAll(conns) }()
	if err := echoAll(conns, 0, 30*time.Second); err != nil {
		t.Fatalf("the first %d clients should all fit below FD_SETSIZE: %v", first, err)
	}

	served := append([]*net.TCPConn(nil), conns...)
	closed, firstClosed := 0, -1
	for i := first; i < first+extra; i++ {
		c, err := dial(s.Addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		ok, err := probe(c, message(i, 0), 5*time.Second)
		switch {
		case err != nil:
			t.Fatalf("client %d: neither served nor closed: %v", i, err)
		case ok && firstClosed >= 0:
			t.Errorf("client %d served after client %d was closed: the fd table did not shrink in between", i, firstClosed)
		case ok:
			served = append(served, c)
		default:
			closed++
			if firstClosed < 0 {
				firstClosed = i
			}
		}
	}
	maxFD, err := s.maxFD()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d clients served at once, %d closed by the server; its highest fd %d", len(served), closed, maxFD)

	if s.Spec.Engine == serverproc.EngineEpoll { // no FD_SETSIZE limit: it must serve everyone
		if closed > 0 {
			t.Errorf("an epoll server has no FD_SETSIZE limit, yet closed %d clients", closed)
		}
	} else {
		// Below 1024 there is room for at most 1020 clients: stdin,
		// stdout, stderr and the listener take four slots.
		if len(served) > fdSetSize-4 {
			t.Errorf("%d clients served at once: more than fit below FD_SETSIZE", len(served))
		}
		if maxFD >= fdSetSize {
			t.Errorf("the server holds fd %d >= FD_SETSIZE after the clients above it were closed", maxFD)
		}
		if !s.waitLog(2*time.Second, "fd_setsize", "fdsetsize", ">= 1024") {
			t.Errorf("the server closed %d clients without a log line about FD_SETSIZE (looked for \"FD_SETSIZE\" or \">= 1024\")", closed)
		}
	}
	if err := echoAll(served, 1, 30*time.Second); err != nil {
		t.Fatalf("the clients below the limit stopped being served: %v", err)
	}

	// Mass disconnect: the server must free its whole table and recover.
	closeAll(conns)
	s.waitNoClients(t, 10*time.Second)
	fresh, err := dialMany(s.Addr, 20, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(fresh)
	if err := echoAll(fresh, 2, 10*time.Second); err != nil {
		t.Fatalf("after every client left: %v", err)
	}
}

// emfileNoFile is the descriptor limit of the emfile scenario.
const emfileNoFile = 64

// emfileOptions gives the server a table of 64 descriptors (soft and hard,
// since Go raises its soft limit to the hard one).
func emfileOptions(serverproc.Spec) serverproc.Options {
	return serverproc.Options{NoFile: emfileNoFile, CPU: -1}
}

// testEMFILE opens more clients than the server has descriptors: accept
// fails with EMFILE, and the server must log it, back off rather than spin,
// keep serving the clients it has, and recover once they leave.
func testEMFILE(t *testing.T, s *server) {
	const n = 100
	conns, err := dialMany(s.Addr, n, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	if !s.waitLog(5*time.Second, "too many open files", "emfile") {
		s.requireAlive(t)
		t.Fatalf("no log line about accept's EMFILE (looked for \"too many open files\" or \"EMFILE\")")
	}
	s.requireAlive(t)

	// A server that retries accept at once on EMFILE spins: the listener
	// stays readable while the backlog is not empty.
	before, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	after, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if used := after.CPU - before.CPU; used > 250*time.Millisecond {
		t.Errorf("server used %v of CPU in 500 ms at EMFILE: it does not back off", used)
	}

	// Each client is now served, closed (refused), or still queued in the
	// backlog; there must be no wrong answers, and the clients the server
	// has room for must be served.
	const (
		served = iota
		refused
		queued
	)
	outcome := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { outcome[i], errs[i] = probeQueued(c, message(i, 0), 3*time.Second) })
	}
	wg.Wait()
	var count [3]int
	for i := range conns {
		if errs[i] != nil {
			t.Errorf("client %d: %v", i, errs[i])
		}
		count[outcome[i]]++
	}
	held, err := s.clientSockets()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := s.FDs()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("of %d clients: %d served, %d refused, %d queued; the server holds %d client sockets in %d descriptors",
		n, count[served], count[refused], count[queued], held, fds)
	if count[served] != held {
		t.Errorf("the server holds %d client sockets but serves %d: every accepted client must be served", held, count[served])
	}
	// The table must really have been full, or the EMFILE was not ours;
	// a server may keep one descriptor spare to shed clients with.
	if fds < emfileNoFile-1 {
		t.Errorf("the server holds %d descriptors of %d while clients wait: it stopped accepting too early", fds, emfileNoFile)
	}
	s.requireAlive(t)

	closeAll(conns)
	s.waitNoClients(t, 10*time.Second)
	for range 3 {
		s.checkServes(t)
	}
}

// probeQueued is probe for a client that may still wait in the listen
// backlog: no answer within timeout means queued (2), not an error. It
// returns 0 for an echo and 1 when the server closed the connection.
func probeQueued(c *net.TCPConn, msg []byte, timeout time.Duration) (int, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(msg); err != nil {
		if isClosedByPeer(err) {
			return 1, nil
		}
		return 0, err
	}
	got := make([]byte, len(msg))
	n, err := io.ReadFull(c, got)
	switch {
	case n == 0 && isClosedByPeer(err):
		return 1, nil
	case n == 0 && errors.Is(err, os.ErrDeadlineExceeded):
		return 2, nil
	case err != nil:
		return 0, err
	case string(got) != string(msg):
		return 0, mismatch(got, msg)
	}
	return 0, nil
}

// testEMFILEChurn keeps the server's descriptor table full (64 slots, more
// clients than fit) for a few seconds while clients come and go in waves:
// every client the server holds pushes until the server stops reading it
// (its 1 MiB queue full), never reading anything back; then
// they all leave and the ones waiting in the backlog take their places. A
// Go server's heap swings between tens of megabytes and nothing; after
// such a drop its scavenger has memory to return and sleeps on a timer,
// which is when the Go runtime opens its own poller if it has not yet
// (fatal at EMFILE). The server must live through it, log the EMFILE, and
// serve again once the clients leave.
func testEMFILEChurn(t *testing.T, s *server) {
	const (
		crowd = 80 // clients kept connected: more than the table holds
		batch = 60 // clients that push, never read, and leave per turn: about all the server holds
		churn = 3 * time.Second
		turns = 1000 // a bound on the loop besides the time
	)
	push := streamBytes(1<<20, 3)
	const pushMax = 32 << 20 // a bound: the server stops reading at about 10 MiB
	var live []*net.TCPConn
	defer func() { closeAll(live) }()
	start := time.Now()
	n := 0
	for ; n < turns && time.Since(start) < churn; n++ {
		for len(live) < crowd {
			c, err := dialSmallBuffers(s.Addr)
			if err != nil {
				t.Fatalf("turn %d: %v", n, err)
			}
			live = append(live, c)
		}
		var wg sync.WaitGroup
		for _, c := range live[:batch] {
			wg.Go(func() {
				// Until the server stops reading (its queue for this client
				// full) or, for a client still in the backlog, at once.
				for sent := 0; sent < pushMax; sent += len(push) {
					_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
					if _, err := c.Write(push); err != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		closeAll(live[:batch])
		live = live[batch:]
		s.requireAlive(t)
	}
	t.Logf("%d turns of %d clients in %v with the table full", n, batch, time.Since(start).Round(time.Millisecond))
	if !s.waitLog(2*time.Second, "too many open files", "emfile") {
		t.Errorf("no log line about accept's EMFILE: the table was never full")
	}
	closeAll(live)
	live = nil
	s.waitNoClients(t, 10*time.Second)
	for range 3 {
		s.checkServes(t)
	}
}
