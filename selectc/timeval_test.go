package selectc

import (
	"errors"
	"math"
	"runtime"
	"strconv"
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
		// In C, tv_sec saturates where time_t is 32 bits.
		if cg, want := cTimevalFromNs(c.d), capTimeT(c.want); cg != want {
			t.Errorf("C shim_timeval_from_ns(%d) = %+v, want %+v (largest time_t %d)", c.d, cg, want, maxTimeT)
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
	fd := int(readySocket(t))
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
	// In range, however large: the ready socket is reported at once.
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

// capTimeT is tv as C can hold it: Sec saturated at the largest time_t.
func capTimeT(tv Timeval) Timeval {
	if tv.Sec > maxTimeT {
		return Timeval{Sec: maxTimeT, Usec: 999999}
	}
	return tv
}

// The largest tv_sec is 2^63-1, or 2^31-1 (about 68 years) where it is 32
// bits, which only a 32-bit platform's time_t or Windows' long may be
// (selectshim-test checks it against sizeof(time_t)).
func TestMaxTimeT(t *testing.T) {
	switch {
	case maxTimeT == math.MaxInt64:
	case maxTimeT == math.MaxInt32 && (strconv.IntSize == 32 || runtime.GOOS == "windows"):
		t.Logf("tv_sec is 32 bits: timeouts saturate at %d s", maxTimeT)
	default:
		t.Fatalf("maxTimeT = %d on a %d-bit platform", maxTimeT, strconv.IntSize)
	}
}

// Timeouts past what time_t holds wait, through every path into C: a
// pipe that becomes readable later is reported, with no error, and the
// time left is never negative nor more than given. Where time_t is 32 bits
// these wrapped before: to a negative (EINVAL) or a short wait (a poll).
func TestHugeTimeoutsWait(t *testing.T) {
	const later = 50 * time.Millisecond
	hundredYears := 100 * 365 * 24 * time.Hour
	for _, d := range []time.Duration{hundredYears, math.MaxInt64} {
		r := socketReadableAfter(t, later)
		got, _, _, err := Select([]FD{r}, nil, nil, d)
		if err != nil || len(got) != 1 {
			t.Errorf("Select(socket, %v) = %d ready, %v; want the socket", d, len(got), err)
		}
		p := newPoller(t)
		r = socketReadableAfter(t, later)
		if err := p.Register(int(r.Fd()), Read); err != nil {
			t.Fatal(err)
		}
		if n, err := p.Wait(make([]PollEvent, 1), d); err != nil || n != 1 {
			t.Errorf("Poller.Wait(%v) = %d, %v; want the socket", d, n, err)
		}
	}
	for _, tv := range []Timeval{{Sec: 1 << 40}, {Sec: math.MaxInt64, Usec: 999999}, NewTimeval(hundredYears)} {
		r := socketReadableAfter(t, later)
		var set FdSet
		if err := set.Set(int(r.Fd())); err != nil {
			t.Fatal(err)
		}
		in := tv
		start := time.Now()
		n, err := SelectFdSet(int(r.Fd())+1, &set, nil, nil, &tv)
		took := time.Since(start)
		if err != nil || n != 1 || took < later/2 {
			t.Errorf("SelectFdSet(socket, %+v) = %d, %v after %v; want 1, nil after about %v", in, n, err, took, later)
		}
		if tv.Sec < 0 || tv.Usec < 0 || tv.Usec >= 1e6 || tv.Sec > min(in.Sec, maxTimeT) {
			t.Errorf("time left %+v after %+v: negative, out of range or more than C was given", tv, in)
		}
	}
}
