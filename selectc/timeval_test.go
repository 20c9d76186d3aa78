package selectc

import (
	"errors"
	"math"
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

// Durations too large for a microsecond rounding that adds first must
// still convert, to the largest whole microsecond, never to a negative.
func TestNewTimevalHugeDurations(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want Timeval
	}{
		{math.MaxInt64, Timeval{9223372036, 854776}},       // 9223372036.854775807 s, rounded up
		{math.MaxInt64 - 807, Timeval{9223372036, 854775}}, // already whole
		{math.MaxInt64 - 806, Timeval{9223372036, 854776}},
	}
	for _, c := range cases {
		got := NewTimeval(c.d)
		if got != c.want {
			t.Errorf("NewTimeval(%d) = %+v, want %+v", c.d, got, c.want)
		}
		if err := got.check(); err != nil {
			t.Errorf("NewTimeval(%d) = %+v is refused by select: %v", c.d, got, err)
		}
		if cg := cTimevalFromNs(c.d); cg != c.want {
			t.Errorf("C shim_timeval_from_ns(%d) = %+v, want %+v", c.d, cg, c.want)
		}
		// Rounding up went past MaxInt64: the way back saturates.
		if back := got.Duration(); back < c.d {
			t.Errorf("%+v.Duration() = %d, want >= %d", got, back, c.d)
		}
	}
}

func TestTimevalDurationSaturates(t *testing.T) {
	cases := []struct {
		tv   Timeval
		want time.Duration
	}{
		{Timeval{1, 500000}, 1500 * time.Millisecond},
		{Timeval{-1, 0}, -time.Second},
		{Timeval{math.MaxInt64, 0}, math.MaxInt64},
		{Timeval{math.MinInt64, 0}, math.MinInt64},
		{Timeval{9223372036, 854775}, math.MaxInt64 - 807},
		{Timeval{9223372036, 854776}, math.MaxInt64},
		{Timeval{9223372036, math.MaxInt64}, math.MaxInt64},
		{Timeval{0, math.MaxInt64}, math.MaxInt64},
		{Timeval{0, math.MinInt64}, math.MinInt64},
		{Timeval{-9223372036, -854775}, math.MinInt64 + 808},
		{Timeval{-9223372036, -854776}, math.MinInt64},
		{Timeval{0, 1 << 32}, (1 << 32) * time.Microsecond},
	}
	for _, c := range cases {
		if got := c.tv.Duration(); got != c.want {
			t.Errorf("%+v.Duration() = %d, want %d", c.tv, got, c.want)
		}
	}
}

// SelectFdSet refuses, before the kernel, every Timeval that select(2)
// would refuse or misread; it takes the huge ones the kernel saturates.
func TestSelectFdSetTimevalEdges(t *testing.T) {
	r := readyPipe(t)
	fd := int(r.Fd())
	bad := []Timeval{
		{-1, 0}, {0, -1}, {0, 1e6}, {0, 1 << 32}, {0, 1<<32 + 300000},
		{math.MinInt64, 0}, {0, math.MaxInt64},
	}
	for _, tv := range bad {
		var set FdSet
		if err := set.Set(fd); err != nil {
			t.Fatal(err)
		}
		in := tv
		n, err := SelectFdSet(fd+1, &set, nil, nil, &tv)
		if !errors.Is(err, ErrTimeval) {
			t.Errorf("SelectFdSet with %+v = %d, %v; want an error wrapping ErrTimeval", in, n, err)
		}
		if tv != in {
			t.Errorf("a refused timeval was rewritten: %+v -> %+v", in, tv)
		}
	}
	// In range, however large: the ready pipe is reported at once.
	for _, tv := range []Timeval{{0, 999999}, {math.MaxInt64, 999999}, NewTimeval(math.MaxInt64)} {
		var set FdSet
		if err := set.Set(fd); err != nil {
			t.Fatal(err)
		}
		in := tv
		n, err := SelectFdSet(fd+1, &set, nil, nil, &tv)
		if err != nil || n != 1 || !set.IsSet(fd) {
			t.Errorf("SelectFdSet with %+v = %d, %v (fd set: %v); want 1, nil, true", in, n, err, set.IsSet(fd))
		}
		if tv.Sec < 0 || tv.Usec < 0 || tv.Usec >= 1e6 || tv.Duration() > in.Duration() {
			t.Errorf("time left %+v after %+v: out of range or more than given", tv, in)
		}
	}
}
