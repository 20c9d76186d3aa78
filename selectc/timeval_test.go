package selectc

import (
	"testing"
	"time"
)

func TestNewTimevalRoundsUp(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want Timeval
	}{
		{-time.Second, Timeval{}},
		{0, Timeval{}},
		{1, Timeval{0, 1}},
		{time.Microsecond, Timeval{0, 1}},
		{time.Microsecond + 1, Timeval{0, 2}},
		{999999 * time.Microsecond, Timeval{0, 999999}},
		{time.Second - 1, Timeval{1, 0}},
		{1500 * time.Millisecond, Timeval{1, 500000}},
		{90*time.Minute + 7, Timeval{5400, 1}},
	}
	for _, c := range cases {
		if got := NewTimeval(c.d); got != c.want {
			t.Errorf("NewTimeval(%v) = %v, want %v", c.d, got, c.want)
		}
		// The batched select builds its timeval in C: the two must agree.
		if got := cTimevalFromNs(c.d); got != c.want {
			t.Errorf("C shim_timeval_from_ns(%d) = %v, want %v", int64(c.d), got, c.want)
		}
		if c.d > 0 {
			if back := c.want.Duration(); back < c.d || back-c.d >= time.Microsecond {
				t.Errorf("%v -> %v -> %v: not the smallest whole microsecond >= d", c.d, c.want, back)
			}
		}
	}
}
