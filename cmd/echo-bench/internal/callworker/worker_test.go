package callworker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fake is a wrapper that really selects (through x/sys/unix) and then
// lies as told, to prove that Measure catches it.
type fake struct {
	l         *Layout
	countSkew int  // added to every count
	dropLast  bool // ReadyList leaves out the last ready fd
	calls     int
}

func (f *fake) ready() ([]int, error) {
	var set unix.FdSet
	for _, fd := range f.l.Fds {
		set.Set(fd)
	}
	tv := unix.Timeval{}
	if _, err := unix.Select(f.l.Nfds(), &set, nil, nil, &tv); err != nil {
		return nil, err
	}
	var out []int
	for _, fd := range f.l.Fds {
		if set.IsSet(fd) {
			out = append(out, fd)
		}
	}
	return out, nil
}

func (f *fake) Call() (int, error) {
	f.calls++
	r, err := f.ready()
	return len(r) + f.countSkew, err
}

func (f *fake) ReadyList() ([]int, error) {
	r, err := f.ready()
	if f.dropLast && len(r) > 0 {
		r = r[:len(r)-1]
	}
	return r, err
}

func wrap(f *fake) Wrapper {
	return func(l *Layout) (Bound, error) { f.l = l; return f, nil }
}

var cmd = Command{First: 40, N: 8, Ready: "all", Warmup: time.Millisecond, Min: 2 * time.Millisecond, MaxCalls: 1000}

func TestMeasureHonestWrapper(t *testing.T) {
	f := &fake{}
	calls, d, err := Measure(wrap(f), cmd)
	if err != nil {
		t.Fatal(err)
	}
	if calls < 1 || calls > cmd.MaxCalls || d <= 0 || f.calls < int(calls) {
		t.Errorf("calls %d in %v (wrapper called %d times)", calls, d, f.calls)
	}
	// Bounded by count: a window far longer than MaxCalls calls take.
	long := cmd
	long.Min, long.MaxCalls = time.Hour, 50
	if calls, _, err := Measure(wrap(&fake{}), long); err != nil || calls != 50 {
		t.Errorf("count bound: %d calls, %v; want 50", calls, err)
	}
}

func TestMeasureCatchesWrongAnswers(t *testing.T) {
	for name, f := range map[string]*fake{
		"wrong count": {countSkew: 1},
		"zero count":  {countSkew: -8},
		"wrong list":  {dropLast: true},
	} {
		if _, _, err := Measure(wrap(f), cmd); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		ready string
		want  []int
	}{{"all", []int{40, 41, 42}}, {"one", []int{42}}, {"none", []int{}}} {
		l, err := NewLayout(40, 3, tc.ready)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.Fds, []int{40, 41, 42}) || !slices.Equal(l.Ready, tc.want) || l.Nfds() != 43 {
			t.Errorf("%s: fds %v ready %v nfds %d", tc.ready, l.Fds, l.Ready, l.Nfds())
		}
		// What select says must match what the layout claims.
		got, err := (&fake{l: l}).ready()
		if err != nil || !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
			t.Errorf("%s: select finds %v (%v), want %v", tc.ready, got, err, tc.want)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := unix.FcntlInt(40, unix.F_GETFD, 0); err != unix.EBADF {
			t.Errorf("fd 40 still open after Close")
		}
	}
	// An fd already open in the range is refused, and left alone.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := unix.Dup3(p[0], 45, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(45)
	if _, err := NewLayout(40, 8, "all"); err == nil || !strings.Contains(err.Error(), "fd 45 is already open") {
		t.Errorf("err %v; want fd 45 refused", err)
	}
	if _, err := unix.FcntlInt(45, unix.F_GETFD, 0); err != nil {
		t.Errorf("fd 45 closed by the failed layout: %v", err)
	}
	for _, bad := range [][2]int{{2, 1}, {40, 0}, {40, 985}} {
		if _, err := NewLayout(bad[0], bad[1], "all"); err == nil {
			t.Errorf("NewLayout(%d, %d): no error", bad[0], bad[1])
		}
	}
	if _, err := NewLayout(40, 1, "some"); err == nil {
		t.Error("ready some: no error")
	}
}

func TestServe(t *testing.T) {
	in := "measure 40 4 one 100000 200000 100\nbogus\nmeasure 40 4 all 0 0 0\nmeasure 40 4 none 100000 200000 100\n"
	var out strings.Builder
	if err := Serve(strings.NewReader(in), &out, wrap(&fake{})); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ok ") || !strings.HasPrefix(lines[1], "error cannot parse") ||
		!strings.HasPrefix(lines[2], "error MAX_CALLS") || !strings.HasPrefix(lines[3], "ok ") {
		t.Errorf("replies:\n%s", out.String())
	}
	bad := &fake{countSkew: 2}
	out.Reset()
	if err := Serve(strings.NewReader("measure 40 4 one 0 1000 10\n"), &out, wrap(bad)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "error ") {
		t.Errorf("a lying wrapper answered %q", out.String())
	}
}
