//go:build libcurl

package main

import (
	"fmt"
	"net/http"
	"strconv"
)

// pattern is byte i of body seed: a different stream per transfer, so a
// byte lost, repeated or delivered to the wrong transfer shows.
func pattern(seed, i int) byte { return byte(i%251) ^ byte(seed*37) }

// checkBody returns an error naming the first byte of b that is not
// pattern seed's, or the length if it is short or long.
func checkBody(b []byte, seed, n int) error {
	for i, c := range b {
		if want := pattern(seed, i); c != want {
			return fmt.Errorf("byte %d of transfer %d is %#x, want %#x", i, seed, c, want)
		}
	}
	if len(b) != n {
		return fmt.Errorf("transfer %d: %d bytes, want %d", seed, len(b), n)
	}
	return nil
}

// serveBytes answers /bytes?n=N&seed=S with N bytes of pattern S and a
// Content-Length.
func serveBytes(w http.ResponseWriter, r *http.Request) {
	n, err1 := strconv.Atoi(r.FormValue("n"))
	seed, err2 := strconv.Atoi(r.FormValue("seed"))
	if err1 != nil || err2 != nil || n < 0 {
		http.Error(w, "want /bytes?n=N&seed=S", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(n))
	buf := make([]byte, min(n, 32<<10))
	for off := 0; off < n; off += len(buf) {
		chunk := buf[:min(len(buf), n-off)]
		for i := range chunk {
			chunk[i] = pattern(seed, off+i)
		}
		if _, err := w.Write(chunk); err != nil {
			return // the client went away
		}
	}
}

// bytesURL is the URL of transfer seed of n bytes on the server at base.
func bytesURL(base string, n, seed int) string {
	return fmt.Sprintf("%s/bytes?n=%d&seed=%d", base, n, seed)
}
