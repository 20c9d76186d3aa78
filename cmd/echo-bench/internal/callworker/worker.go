// Package callworker is the shared half of the Go workers of echo-bench's
// call-level benchmark (echo-bench -calls): it opens the watched
// descriptors, checks a wrapper's answers, times its calls and speaks the
// line protocol echo-bench drives every worker with (cmd/echo-bench/internal/
// calls/worker.go). A worker program only names its wrappers and calls Main.
//
// The Go wrappers live in two programs because one must not link cgo:
// selectcalls-go (selectc, cgo) and selectcalls-unix (x/sys/unix.Select,
// built with CGO_ENABLED=0). This package itself needs no cgo.
package callworker

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Wrapper binds one way of calling select to a layout's descriptors.
type Wrapper func(l *Layout) (Bound, error)

// Bound is a wrapper bound to one layout. If it is also an io.Closer,
// Measure closes it when done.
type Bound interface {
	// Call selects once on the layout's descriptors for reading, with a
	// zero timeout, and returns how many the wrapper reports ready. It is
	// the timed unit.
	Call() (int, error)
	// ReadyList selects once and returns the ready descriptors, ascending.
	ReadyList() ([]int, error)
}

// Main runs a worker: -api picks one of wrappers, then commands are read
// from stdin and answered on stdout until EOF.
func Main(wrappers map[string]Wrapper) {
	names := slices.Sorted(maps.Keys(wrappers))
	api := flag.String("api", "", "wrapper to time: "+strings.Join(names, ", "))
	flag.Parse()
	w, ok := wrappers[*api]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown -api %q (want one of %s)\n", *api, strings.Join(names, ", "))
		os.Exit(2)
	}
	if err := Serve(os.Stdin, os.Stdout, w); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Serve answers each command line of in on out:
//
//	measure FIRST N READY WARMUP_NS MIN_NS MAX_CALLS
//	  -> ok CALLS NS      CALLS timed calls took NS nanoseconds
//	  -> error MESSAGE    nothing was timed, or a check failed
//
// A failed measurement is an answer, not the end of the worker; Serve
// returns at EOF, or with the error of reading or writing.
func Serve(in io.Reader, out io.Writer, w Wrapper) error {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		reply := "error "
		cmd, err := parse(sc.Text())
		if err == nil {
			var calls int64
			var d time.Duration
			if calls, d, err = Measure(w, cmd); err == nil {
				reply = fmt.Sprintf("ok %d %d", calls, d.Nanoseconds())
			}
		}
		if err != nil {
			reply += strings.ReplaceAll(err.Error(), "\n", " ")
		}
		if _, err := fmt.Fprintln(out, reply); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Command is one measurement request.
type Command struct {
	First, N int
	Ready    string
	Warmup   time.Duration
	Min      time.Duration
	MaxCalls int64
}

func parse(line string) (Command, error) {
	f := strings.Fields(line)
	if len(f) != 7 || f[0] != "measure" {
		return Command{}, fmt.Errorf("cannot parse %q", line)
	}
	var nums [5]int64
	for i, s := range []string{f[1], f[2], f[4], f[5], f[6]} {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Command{}, fmt.Errorf("cannot parse %q: %w", line, err)
		}
		nums[i] = n
	}
	c := Command{First: int(nums[0]), N: int(nums[1]), Ready: f[3],
		Warmup: time.Duration(nums[2]), Min: time.Duration(nums[3]), MaxCalls: nums[4]}
	if c.MaxCalls < 1 {
		return Command{}, errors.New("MAX_CALLS < 1")
	}
	return c, nil
}

// Measure opens the layout, checks the wrapper's ready list, warms up,
// times calls until cmd.Min has passed or cmd.MaxCalls were made, and
// checks the ready list again. Every timed call's count is checked too, so
// a wrapper that does not select cannot report a fast time.
func Measure(w Wrapper, cmd Command) (calls int64, d time.Duration, err error) {
	l, err := NewLayout(cmd.First, cmd.N, cmd.Ready)
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, l.Close()) }()
	b, err := w(l)
	if err != nil {
		return 0, 0, err
	}
	if c, ok := b.(io.Closer); ok { // a wrapper with state of its own (a Poller)
		defer func() { err = errors.Join(err, c.Close()) }()
	}
	if err := checkList(b, l, "before timing"); err != nil {
		return 0, 0, err
	}
	if _, _, err := timed(b, len(l.Ready), cmd.Warmup, cmd.MaxCalls); err != nil {
		return 0, 0, err
	}
	if calls, d, err = timed(b, len(l.Ready), cmd.Min, cmd.MaxCalls); err != nil {
		return 0, 0, err
	}
	return calls, d, checkList(b, l, "after timing")
}

func checkList(b Bound, l *Layout, when string) error {
	got, err := b.ReadyList()
	if err != nil {
		return err
	}
	if !slices.Equal(got, l.Ready) {
		return fmt.Errorf("ready list %s: %d descriptors %v, want %d %v", when, len(got), head(got), len(l.Ready), head(l.Ready))
	}
	return nil
}

func head(fds []int) []int { return fds[:min(len(fds), 8)] }

// timed calls b until minDur has passed (after at least one call) or
// maxCalls were made, in batches so the clock is read rarely: each batch is
// what the rate so far says is left, at most twice the last one.
func timed(b Bound, want int, minDur time.Duration, maxCalls int64) (calls int64, d time.Duration, err error) {
	batch := int64(1)
	t0 := time.Now()
	for calls < maxCalls {
		for range batch {
			n, err := b.Call()
			if err != nil {
				return calls, 0, err
			}
			if n != want {
				return calls, 0, fmt.Errorf("%d ready, want %d", n, want)
			}
		}
		calls += batch
		if d = time.Since(t0); d >= minDur {
			break
		}
		left := int64(float64(calls)*float64(minDur-d)/float64(max(d, 1))) + 1
		batch = min(left, 2*batch, maxCalls-calls)
	}
	return calls, d, nil
}
