//go:build !libcurl

package main

import (
	"fmt"
	"os"
)

// main without libcurl explains itself: a build tag cannot check for a
// header, so the Makefile does (see doc.go), and go vet ./... and go test
// ./... stay green on a machine without libcurl's headers.
func main() {
	fmt.Fprintln(os.Stderr, "curl-multi: built without libcurl; install libcurl4-openssl-dev and build with -tags libcurl")
	os.Exit(2)
}
