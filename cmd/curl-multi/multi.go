//go:build libcurl

package main

/*
#include <curl/curl.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/selectc/selectc/selectc"
	"golang.org/x/sys/unix"
)

// Request is one transfer: a URL and how long it may take in all (0: no
// limit of its own).
type Request struct {
	URL     string
	Timeout time.Duration
}

// Result is how one transfer ended: the bytes received (all of them, or
// as many as came before the error), the HTTP status, and a *CurlError, or
// the context's error for a transfer the loop was cancelled under.
type Result struct {
	Body   []byte
	Status int
	Err    error
	Took   time.Duration // from Fetch's start to this transfer's end
}

// Stats counts the loop's work.
type Stats struct {
	Selects  int // SelectFdSet calls
	Performs int // curl_multi_perform calls
}

// errLoopFailed ends the transfers still running when Fetch returns an
// error of the loop's own (a failed curl_multi_* call or select).
var errLoopFailed = errors.New("transfer abandoned: the multi loop failed")

// maxBody caps what one transfer may hold in memory; more ends it with
// CURLE_WRITE_ERROR.
const maxBody = 64 << 20

// idleWait is the wait when curl sets no deadline (curl_multi_timeout -1):
// its docs ask for a wait of the caller's own rather than forever.
// noFdWait is the wait when curl is busy with something it has no socket
// for (curl_multi_fdset's maxfd -1): its docs suggest about 100 ms.
var (
	idleWait = selectc.Timeval{Sec: 1}
	noFdWait = selectc.NewTimeval(100 * time.Millisecond)
)

// Fetch runs every request at once in one curl multi handle, driven by
// selectc.SelectFdSet on the fd_sets curl_multi_fdset fills, until all are
// done or ctx ends. It returns a Result per request, in order; a failed
// transfer is its Result's error and the others go on. When ctx ends first,
// the transfers still running end with ctx's error, and Fetch returns it
// too; either way every handle has been freed and every socket closed.
func Fetch(ctx context.Context, reqs []Request) ([]Result, Stats, error) {
	var st Stats
	start := time.Now()
	if err := globalInit(); err != nil {
		return nil, st, err
	}
	results := make([]Result, len(reqs))
	m := C.curl_multi_init()
	if m == nil {
		return nil, st, errors.New("curl_multi_init failed")
	}
	running := map[unsafe.Pointer]int{} // handle -> index in reqs
	defer func() {
		cause := context.Cause(ctx)
		if cause == nil {
			cause = errLoopFailed
		}
		for h, i := range running { // cancelled, or the loop failed
			C.curl_multi_remove_handle(m, h)
			results[i].Body, results[i].Status, _ = easy{h}.result(C.CURLE_OK)
			results[i].Err = fmt.Errorf("%s: %w", reqs[i].URL, cause)
			results[i].Took = time.Since(start)
			easy{h}.free()
		}
		C.curl_multi_cleanup(m) // closes the connections curl kept
	}()
	for i, rq := range reqs {
		e, err := newEasy(rq.URL, rq.Timeout, maxBody)
		if err != nil {
			results[i].Err = err
			continue
		}
		if mc := C.curl_multi_add_handle(m, e.h); mc != C.CURLM_OK {
			e.free()
			return results, st, multiError("curl_multi_add_handle", mc)
		}
		running[e.h] = i
	}

	wake, err := newWaker(ctx)
	if err != nil {
		return results, st, err
	}
	defer wake.close()
	if testHookSetUp != nil {
		testHookSetUp()
	}

	var n C.int
	for {
		if mc := C.curl_multi_perform(m, &n); mc != C.CURLM_OK {
			return results, st, multiError("curl_multi_perform", mc)
		}
		st.Performs++
		for e, rc, ok := nextDone(m); ok; e, rc, ok = nextDone(m) {
			i := running[e.h]
			delete(running, e.h)
			C.curl_multi_remove_handle(m, e.h)
			results[i].Body, results[i].Status, results[i].Err = e.result(rc)
			results[i].Took = time.Since(start)
			e.free()
		}
		if len(running) == 0 {
			return results, st, nil
		}

		// curl's own multi-app loop: its fd_sets and deadline, one select.
		var r, w, x selectc.FdSet
		var maxfd C.int
		if mc := C.curl_multi_fdset(m, cFdSet(&r), cFdSet(&w), cFdSet(&x), &maxfd); mc != C.CURLM_OK {
			return results, st, multiError("curl_multi_fdset", mc)
		}
		var ms C.long
		if mc := C.curl_multi_timeout(m, &ms); mc != C.CURLM_OK {
			return results, st, multiError("curl_multi_timeout", mc)
		}
		tv := idleWait
		if ms >= 0 {
			tv = selectc.Timeval{Sec: int64(ms / 1000), Usec: int64(ms%1000) * 1000}
		}
		if maxfd < 0 && tv.Duration() > noFdWait.Duration() {
			tv = noFdWait
		}
		if err := r.Set(wake.fd); err != nil {
			return results, st, err
		}
		_, err := selectc.SelectFdSet(max(int(maxfd), wake.fd)+1, &r, &w, &x, &tv)
		st.Selects++
		if err != nil && !errors.Is(err, syscall.EINTR) {
			return results, st, err
		}
		if ctx.Err() != nil {
			return results, st, context.Cause(ctx)
		}
	}
}

// testHookSetUp, when set, runs once Fetch holds its descriptors and
// before curl opens any connection.
var testHookSetUp func()

// cFdSet is s as the fd_set * curl's functions take: exact, because a
// selectc.FdSet is the C library's fd_set (see FdSet.CPointer).
func cFdSet(s *selectc.FdSet) *C.fd_set { return (*C.fd_set)(s.CPointer()) }

// waker is a pipe whose read end sits in every select's read set; ctx's
// end writes a byte to it, so a cancel ends the wait at once.
type waker struct {
	fd, w int
	stop  func() bool
	fired chan struct{}
}

func newWaker(ctx context.Context) (*waker, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("pipe2: %w", err)
	}
	k := &waker{fd: p[0], w: p[1], fired: make(chan struct{})}
	k.stop = context.AfterFunc(ctx, func() {
		defer close(k.fired)
		unix.Write(k.w, []byte{1}) // full is fine: one byte wakes it
	})
	return k, nil
}

// close waits out a write already under way, so it never lands on a
// descriptor number reused after the close.
func (k *waker) close() {
	if !k.stop() {
		<-k.fired
	}
	unix.Close(k.fd)
	unix.Close(k.w)
}
