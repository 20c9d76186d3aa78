package conformance

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testPost is the seed post's client: two sockets, each of the three
// messages sent on both, then each echo read back.
func testPost(t *testing.T, s *server) {
	messages := []string{"This is the message ", "It will be sent ", "in parts "}
	var socks [2]*net.TCPConn
	for i := range socks {
		c, err := dial(s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		socks[i] = c
	}
	for index, m := range messages {
		msg := []byte(m + strconv.Itoa(index))
		for i, c := range socks {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(msg); err != nil {
				t.Fatalf("socket %d: sending %q: %v", i, msg, err)
			}
		}
		for i, c := range socks {
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("socket %d: reading the echo of %q: %v", i, msg, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("socket %d: received %q, want %q", i, got, msg)
			}
		}
	}
}

// testTenByThirty interleaves ten clients over thirty rounds: every client
// sends its own line, then every client reads; each echo must be its own,
// and nothing more may follow the last one.
func testTenByThirty(t *testing.T, s *server) {
	const clients, rounds = 10, 30
	conns, err := dialMany(s.Addr, clients, clients)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	for r := range rounds {
		for i, c := range conns {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(message(i, r)); err != nil {
				t.Fatalf("client %d round %d: write: %v", i, r, err)
			}
		}
		for i, c := range conns {
			want := message(i, r)
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("client %d round %d: read: %v", i, r, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("client %d round %d: got %q, want %q", i, r, got, want)
			}
		}
	}
	// A copy sent to the wrong client in the last round would still sit
	// unread: half-close and require a clean end of stream with nothing
	// before it.
	for i, c := range conns {
		if err := c.CloseWrite(); err != nil {
			t.Fatalf("client %d: shutdown: %v", i, err)
		}
	}
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { errs[i] = expectEOF(c, 5*time.Second) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d after the last round: %v", i, err)
		}
	}
}

// testOneMiB sends a 1 MiB random payload on one connection, reading while
// writing, and requires all of it back intact.
func testOneMiB(t *testing.T, s *server) {
	payload := randomBytes(1<<20, 1)
	c, err := dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := echo(c, payload, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// The connection must still be usable after the big echo.
	if err := echo(c, []byte("and a small one after\n"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}
