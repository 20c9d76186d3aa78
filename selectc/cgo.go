package selectc

// The #cgo CFLAGS line is in cgo_flags.go, generated from csrc/flags.mk
// with a fingerprint of the C in csrc/ that this package includes: the go
// command hashes only the files in this folder, so without it an edit to
// csrc/ would leave a stale build in its cache.
//go:generate go run ../cmd/internal/gencgo

/*
#include "selectshim.h"
*/
import "C"

// cgoCall makes one cgo crossing that does nothing useful; benchmarks use it
// to price a crossing on its own.
func cgoCall() { C.shim_fd_setsize() }
