// Package conformance is the test suite every echo server must pass: the
// seed post's client, interleaved clients, large payloads, the ways a
// client can leave (close, reset, half-close, urgent data), slow readers,
// a thousand clients, the FD_SETSIZE and EMFILE limits, another client's
// latency while never-readers flood the server, idle CPU and a prompt
// SIGTERM. Each server runs as a real subprocess (see serverproc)
// on its own loopback port.
//
// Run it with
//
//	go test -race ./cmd/internal/conformance/                               # builds the servers into a temp dir
//	SELECTC_BIN=$PWD/bin go test -race ./cmd/internal/conformance/          # uses prebuilt binaries
//	go test -race ./cmd/internal/conformance/ -run 'TestConformance/^c$/'   # one server
//	go test -race ./cmd/internal/conformance/ -run 'TestConformance//emfile' # one scenario everywhere
//	SELECTC_FLOOD_PRESSURE=1 go test -race -v ./cmd/internal/conformance/ -run TestFloodPastPressure
//	    # the flood past the kernel's TCP memory pressure threshold, machine-wide: on a quiet machine only
//
// (-run matches each level of a subtest name as an unanchored regexp, so
// "c" alone would also pick c-asan and go-select.)
package conformance
