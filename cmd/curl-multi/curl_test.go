//go:build libcurl

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/selectc/selectc/selectc"
)

// openFds counts this process's descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// noLeaks fails the test unless, once the test and its later cleanups (the
// servers) are done, no easy handle is left and the descriptor count is
// back where it was. Closed server connections may take a moment to be
// released, so it looks again for up to a second.
func noLeaks(t *testing.T) {
	t.Helper()
	if err := globalInit(); err != nil { // whatever curl opens once, before counting
		t.Fatal(err)
	}
	before := openFds(t)
	t.Cleanup(func() {
		if n := liveEasy.Load(); n != 0 {
			t.Errorf("%d curl easy handles not cleaned up", n)
		}
		deadline := time.Now().Add(time.Second)
		for openFds(t) != before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if after := openFds(t); after != before {
			t.Errorf("%d descriptors open after the test, %d before", after, before)
		}
	})
}

// newServer is an HTTP server on 127.0.0.1 with /bytes and the handlers
// given, closed when the test ends.
func newServer(t *testing.T, extra map[string]http.HandlerFunc) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes", serveBytes)
	for path, h := range extra {
		mux.HandleFunc(path, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// 20 transfers of 100,000 B each at once, every byte checked.
func TestFetchManyTransfers(t *testing.T) {
	noLeaks(t)
	const n, size = 20, 100_000
	base := newServer(t, nil)
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{URL: bytesURL(base, size, i), Timeout: time.Minute}
	}
	start := time.Now()
	results, st, err := Fetch(t.Context(), reqs)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, r := range results {
		if r.Err != nil || r.Status != http.StatusOK {
			t.Fatalf("transfer %d: status %d, %v", i, r.Status, r.Err)
		}
		if err := checkBody(r.Body, i, size); err != nil {
			t.Fatal(err)
		}
		total += len(r.Body)
	}
	if st.Selects == 0 || st.Performs != st.Selects+1 {
		t.Errorf("stats %+v: want at least one select and a perform after each", st)
	}
	t.Logf("%d transfers, %d B, every byte checked, %d selects, %d performs, %v",
		len(results), total, st.Selects, st.Performs, elapsed)
}

// A cancel while every transfer is half done ends the loop at once: each
// transfer ends with the context's error, no handle or descriptor is left.
func TestFetchCancelMidTransfer(t *testing.T) {
	noLeaks(t)
	const n, size, half = 8, 100_000, 50_000
	var started sync.WaitGroup
	started.Add(n)
	base := newServer(t, map[string]http.HandlerFunc{
		"/half": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(size))
			w.Write(make([]byte, half))
			w.(http.Flusher).Flush()
			started.Done()
			<-r.Context().Done() // the rest never comes: the client leaves first
		},
	})
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{URL: base + "/half"} // no limit of their own
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancelled := make(chan time.Time, 1)
	go func() {
		started.Wait()
		time.Sleep(50 * time.Millisecond) // let curl read the halves
		cancelled <- time.Now()
		cancel()
	}()
	results, st, err := Fetch(ctx, reqs)
	returned := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch: err = %v, want context.Canceled", err)
	}
	late := returned.Sub(<-cancelled)
	for i, r := range results {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("transfer %d: err = %v, want context.Canceled", i, r.Err)
		}
		if len(r.Body) == 0 || len(r.Body) >= size {
			t.Errorf("transfer %d: %d bytes at the cancel, want part of %d", i, len(r.Body), size)
		}
	}
	// With no deadline curl asks for none, and the loop would wait idleWait
	// per select: ending well inside that is the waker's doing.
	if late >= idleWait.Duration() {
		t.Errorf("Fetch returned %v after the cancel, want well under %v", late, idleWait.Duration())
	}
	t.Logf("cancelled mid-transfer: returned %v after the cancel, %d selects; %v", late.Round(time.Microsecond), st.Selects, results[0].Err)
}

// Three faults in one multi with good transfers: each ends with the error
// libcurl reports, and the loop goes on serving the others.
func TestFetchFaults(t *testing.T) {
	noLeaks(t)
	const size = 100_000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close() // nobody listens there now
	base := newServer(t, map[string]http.HandlerFunc{
		"/reset": func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)
			buf.Write(make([]byte, size/2))
			buf.Flush()
			conn.(*net.TCPConn).SetLinger(0) // close sends RST, not FIN
			conn.Close()
		},
		"/stall": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(size))
			w.Write(make([]byte, 10_000))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		"/paced": func(w http.ResponseWriter, r *http.Request) { // good, but outlives the faults
			w.Header().Set("Content-Length", fmt.Sprint(size))
			bw := bufio.NewWriterSize(w, size/10)
			for i := range size {
				bw.WriteByte(pattern(99, i))
				if bw.Available() == 0 {
					bw.Flush()
					w.(http.Flusher).Flush()
					time.Sleep(60 * time.Millisecond)
				}
			}
			bw.Flush()
		},
	})
	const stallLimit = 300 * time.Millisecond
	faults := []struct {
		name string
		req  Request
		code int
	}{
		{"refused", Request{URL: refused, Timeout: time.Minute}, 7},               // CURLE_COULDNT_CONNECT
		{"reset", Request{URL: base + "/reset", Timeout: time.Minute}, 56},        // CURLE_RECV_ERROR
		{"stall", Request{URL: base + "/stall", Timeout: stallLimit}, 28},         // CURLE_OPERATION_TIMEDOUT
		{"paced", Request{URL: base + "/paced?seed=99", Timeout: time.Minute}, 0}, // good
	}
	var reqs []Request
	for _, f := range faults {
		reqs = append(reqs, f.req)
	}
	const good = 6
	for i := range good {
		reqs = append(reqs, Request{URL: bytesURL(base, size, i), Timeout: time.Minute})
	}
	results, st, err := Fetch(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	paced := results[3]
	for i, f := range faults[:3] {
		r := results[i]
		var ce *CurlError
		if !errors.As(r.Err, &ce) || ce.Code != f.code {
			t.Errorf("%s: err = %v, want CURLcode %d", f.name, r.Err, f.code)
			continue
		}
		if len(r.Body) >= size {
			t.Errorf("%s: %d bytes, want fewer than %d", f.name, len(r.Body), size)
		}
		if r.Took >= paced.Took {
			t.Errorf("%s ended at %v, after the paced transfer (%v): want the loop to go on past it", f.name, r.Took, paced.Took)
		}
		t.Logf("%-7s after %6v, %6d B: %v", f.name, r.Took.Round(time.Millisecond), len(r.Body), r.Err)
	}
	// curl times a transfer on its own clock, kept in milliseconds and read
	// at its own moments, so it may fire a hair before Go's clock says the
	// limit has passed (299.986 ms seen in CI); a millisecond is its grain.
	if r := results[2]; r.Took < stallLimit-time.Millisecond {
		t.Errorf("stall ended after %v, before its limit of %v", r.Took, stallLimit)
	}
	if paced.Err != nil {
		t.Fatalf("paced: %v", paced.Err)
	}
	if err := checkBody(paced.Body, 99, size); err != nil {
		t.Fatal(err)
	}
	for i, r := range results[len(faults):] {
		if r.Err != nil {
			t.Fatalf("good transfer %d: %v", i, r.Err)
		}
		if err := checkBody(r.Body, i, size); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("paced   after %6v, %6d B, every byte checked; %d more good transfers checked; %d selects",
		paced.Took.Round(time.Millisecond), len(paced.Body), good, st.Selects)
}

// A connection numbered FD_SETSIZE or more: curl_multi_fdset leaves it out
// (maxfd -1), so nothing past the sets reaches FD_SET and the loop does not
// fail; the transfer moves on the loop's 100 ms waits and completes.
func TestFetchSocketAboveFdSetSize(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < uint64(selectc.FdSetSize+64) {
		t.Skipf("skipped: RLIMIT_NOFILE's hard limit %d leaves no descriptor above FD_SETSIZE", lim.Max)
	}
	raised := lim
	raised.Cur = uint64(selectc.FdSetSize + 64)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	noLeaks(t)
	const size = 100_000
	base := newServer(t, nil)

	var filler []int // every free number up to FD_SETSIZE, so curl's socket is above
	t.Cleanup(func() {
		for _, fd := range filler {
			syscall.Close(fd)
		}
	})
	testHookSetUp = func() {
		for {
			fd, err := syscall.Dup(0)
			if err != nil {
				t.Errorf("dup: %v", err)
				return
			}
			filler = append(filler, fd)
			if fd >= selectc.FdSetSize {
				return
			}
		}
	}
	t.Cleanup(func() { testHookSetUp = nil })
	results, st, err := Fetch(t.Context(), []Request{{URL: bytesURL(base, size, 5), Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if r := results[0]; r.Err != nil {
		t.Fatal(r.Err)
	} else if err := checkBody(r.Body, 5, size); err != nil {
		t.Fatal(err)
	}
	if st.Selects == 0 {
		t.Fatal("no select: the transfer did not run on a descriptor above FD_SETSIZE")
	}
	t.Logf("socket above fd %d: %d B in %v, %d selects of up to %v", filler[len(filler)-1], size, results[0].Took.Round(time.Millisecond), st.Selects, noFdWait.Duration())
}
