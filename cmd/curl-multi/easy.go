//go:build libcurl

package main

/*
#cgo LDFLAGS: -lcurl
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

// body is one transfer's bytes, kept in C memory up to max: the write
// callback runs inside curl_multi_perform, so collecting in C costs no cgo
// crossing per chunk. errbuf is curl's detail for a failed transfer.
typedef struct {
	char *buf;
	size_t len, cap, max;
	char errbuf[CURL_ERROR_SIZE];
} body;

static size_t body_write(char *p, size_t size, size_t n, void *ud)
{
	body *b = ud;
	size_t k = size * n; // size is always 1 (CURLOPT_WRITEFUNCTION)
	if (k > b->max - b->len)
		return 0; // short write: the transfer ends with CURLE_WRITE_ERROR
	if (b->len + k > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + k && cap < b->max)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		char *nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, k);
	b->len += k;
	return k;
}

static body *easy_body(CURL *h)
{
	char *b = NULL;
	curl_easy_getinfo(h, CURLINFO_PRIVATE, &b);
	return (body *)b;
}

// easy_free is curl_easy_cleanup and the body's memory.
static void easy_free(CURL *h)
{
	body *b = easy_body(h);
	curl_easy_cleanup(h);
	if (b) {
		free(b->buf);
		free(b);
	}
}

// easy_new is an easy handle for url that writes into a body of at most
// max bytes and gives up after timeout_ms (0: never), or NULL with the
// reason in *rc. curl_easy_setopt is variadic, which cgo cannot call.
static CURL *easy_new(const char *url, long timeout_ms, size_t max, CURLcode *rc)
{
	body *b = calloc(1, sizeof *b);
	CURL *h = curl_easy_init();
	if (!b || !h) {
		free(b);
		if (h)
			curl_easy_cleanup(h);
		*rc = CURLE_OUT_OF_MEMORY;
		return NULL;
	}
	b->max = max;
	CURLcode r = curl_easy_setopt(h, CURLOPT_PRIVATE, b);
	if (r == CURLE_OK)
		r = curl_easy_setopt(h, CURLOPT_URL, url); // curl keeps a copy
	if (r == CURLE_OK)
		r = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	if (r == CURLE_OK)
		r = curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	if (r == CURLE_OK)
		r = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, b->errbuf);
	if (r == CURLE_OK) // no SIGALRM around name lookups: Go owns the signals
		r = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (r == CURLE_OK) // an HTTP error status is an error, not a body
		r = curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	if (r == CURLE_OK)
		r = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (r != CURLE_OK) {
		easy_free(h);
		*rc = r;
		return NULL;
	}
	return h;
}

static long easy_status(CURL *h)
{
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

// multi_done is the next finished transfer and its result, or NULL when
// none is left to report (curl_multi_info_read's message is a union).
static CURL *multi_done(CURLM *m, CURLcode *result)
{
	int left;
	CURLMsg *msg;
	while ((msg = curl_multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE) {
			*result = msg->data.result;
			return msg->easy_handle;
		}
	return NULL;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// CurlError is a failed transfer as libcurl reports it: the CURLcode, its
// curl_easy_strerror text and curl's detail for this transfer.
type CurlError struct {
	Code   int    // the CURLcode: 7 couldn't connect, 28 timeout, 56 receive failure, ...
	Text   string // curl_easy_strerror(Code)
	Detail string // CURLOPT_ERRORBUFFER, often with the address and the errno's text
}

// Error reads as curl's command line prints it, with the detail after:
// "curl: (7) Couldn't connect to server: Failed to connect to ...".
func (e *CurlError) Error() string {
	if e.Detail == "" || e.Detail == e.Text {
		return fmt.Sprintf("curl: (%d) %s", e.Code, e.Text)
	}
	return fmt.Sprintf("curl: (%d) %s: %s", e.Code, e.Text, e.Detail)
}

func curlError(rc C.CURLcode, errbuf *C.char) error {
	if rc == C.CURLE_OK {
		return nil
	}
	e := &CurlError{Code: int(rc), Text: C.GoString(C.curl_easy_strerror(rc))}
	if errbuf != nil {
		e.Detail = C.GoString(errbuf)
	}
	return e
}

// multiError is a failed curl_multi_* call.
func multiError(op string, mc C.CURLMcode) error {
	return fmt.Errorf("%s: CURLMcode %d: %s", op, int(mc), C.GoString(C.curl_multi_strerror(mc)))
}

var globalInit = sync.OnceValue(func() error {
	// Not thread-safe in libcurl, so once, before the first handle.
	return curlError(C.curl_global_init(C.CURL_GLOBAL_DEFAULT), nil)
})

// liveEasy counts easy handles made and not yet freed: the test's proof
// that a cancelled loop leaks none.
var liveEasy atomic.Int64

// easy is one transfer's handle; its body lives in C until taken.
type easy struct{ h unsafe.Pointer } // a CURL *, which curl.h declares as void *

func newEasy(url string, timeout time.Duration, maxBody int) (easy, error) {
	curl := C.CString(url)
	defer C.free(unsafe.Pointer(curl))
	var rc C.CURLcode
	h := C.easy_new(curl, C.long(timeout.Milliseconds()), C.size_t(maxBody), &rc)
	if h == nil {
		return easy{}, curlError(rc, nil)
	}
	liveEasy.Add(1)
	return easy{h}, nil
}

// result copies out what the transfer received and how it ended.
func (e easy) result(rc C.CURLcode) (body []byte, status int, err error) {
	b := C.easy_body(e.h)
	return C.GoBytes(unsafe.Pointer(b.buf), C.int(b.len)), int(C.easy_status(e.h)), curlError(rc, &b.errbuf[0])
}

func (e easy) free() {
	C.easy_free(e.h)
	liveEasy.Add(-1)
}

// nextDone is the next finished transfer of m and how it ended; ok is false
// when none is left to report.
func nextDone(m unsafe.Pointer) (e easy, rc C.CURLcode, ok bool) {
	h := C.multi_done(m, &rc)
	return easy{h}, rc, h != nil
}
