//go:build linux || windows

package selectc

// The package's C sits in this folder (select*.c, select*.h) so that the go
// command compiles, hashes and vendors it with the Go; csrc/ holds the C
// programs and tests built on it. The #cgo CFLAGS line is in cgo_flags.go,
// generated from csrc/flags.mk.
//go:generate go run ../cmd/internal/gencgo

/*
#include "selectshim.h"
*/
import "C"

// cgoCall makes one cgo crossing that does nothing useful; benchmarks use it
// to price a crossing on its own.
func cgoCall() { C.shim_fd_setsize() }
