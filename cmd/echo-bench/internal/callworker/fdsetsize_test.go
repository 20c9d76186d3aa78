//go:build cgo

package callworker_test

import (
	"testing"

	"github.com/selectc/selectc/cmd/echo-bench/internal/callworker"
	"github.com/selectc/selectc/selectc"
)

// selectc's FdSetSize is checked against the C header at compile time;
// callworker's, which cannot be (it builds without cgo), against selectc's.
func TestFdSetSizeIsSelectcs(t *testing.T) {
	if callworker.FdSetSize != selectc.FdSetSize {
		t.Fatalf("callworker.FdSetSize = %d, selectc.FdSetSize = %d", callworker.FdSetSize, selectc.FdSetSize)
	}
}
