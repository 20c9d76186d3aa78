package echoserver

import "fmt"

// FD is a socket descriptor in the loop's lists. It has the Fd method of
// selectc.Filer, so *selectc.Selector[FD] is a Selector, while this package
// itself stays pure Go and builds with CGO_ENABLED=0 (cmd/echo-go).
type FD int

// Fd returns the descriptor itself.
func (fd FD) Fd() uintptr { return uintptr(fd) }

// FdSetSize is glibc's FD_SETSIZE: select(2) cannot watch a descriptor at or
// above it. selectc checks its own copy against the C header at compile time.
const FdSetSize = 1024

// errFdSetSize is why a connection is refused at accept: the number the
// kernel gave it is one select(2) cannot watch.
var errFdSetSize = fmt.Errorf(">= FD_SETSIZE %d, select cannot watch it", FdSetSize)
