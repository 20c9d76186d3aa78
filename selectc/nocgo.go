//go:build !cgo

package selectc

// selectc calls the C library's select(2) and cannot be built without cgo.
// This undefined name makes a CGO_ENABLED=0 build fail at compile time with
// a message saying why, instead of failing at run time.
var _ = selectc_requires_cgo__build_with_CGO_ENABLED_1
