package loadgen

import (
	"bytes"
	"testing"
)

func TestPatternsDifferPerMessageAndConnection(t *testing.T) {
	for _, size := range []int{1, 7, 8, 9, 64, 16384} {
		a, b := newPattern(1, 0, size), newPattern(1, 1, size)
		seen := map[string]bool{}
		buf := make([]byte, size)
		for seq := uint64(0); seq < 300; seq++ {
			a.fill(buf, seq)
			if err := a.check(buf, seq); err != nil {
				t.Fatalf("size %d: message %d fails its own check: %v", size, seq, err)
			}
			if size >= 2 && seen[string(buf)] {
				t.Fatalf("size %d: message %d repeats an earlier one", size, seq)
			}
			seen[string(buf)] = true
			if a.check(buf, seq+1) == nil || a.check(buf, seq-1) == nil {
				t.Fatalf("size %d: message %d passes as a neighbour", size, seq)
			}
			if b.check(buf, seq) == nil {
				t.Fatalf("size %d: connection 0's message %d passes on connection 1", size, seq)
			}
			for _, i := range []int{0, size / 2, size - 1} {
				bad := bytes.Clone(buf)
				bad[i] ^= 1
				if a.check(bad, seq) == nil {
					t.Fatalf("size %d: flipped byte %d of message %d not caught", size, i, seq)
				}
			}
		}
	}
}
