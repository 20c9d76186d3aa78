package calls

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
)

// A call worker is a long-lived process that times one select wrapper on
// request: csrc/selectcalls.c (C), cmd/echo-py/select_calls.py (Python),
// cmd/echo-bench/internal/selectcalls-go (selectc, cgo) and
// .../selectcalls-unix (x/sys/unix, no cgo). One process per wrapper, so
// no wrapper runs in another's heap or interpreter, and each is started
// once, so start-up is never timed. They all speak one line protocol:
//
//	measure FIRST N READY WARMUP_NS MIN_NS MAX_CALLS
//	  -> ok CALLS NS
//	  -> error MESSAGE
//
// FIRST..FIRST+N-1 are the watched descriptors, dups of an empty pipe or,
// for those READY (one: the last, all, none) names, of a pipe holding a
// byte. The worker checks the ready list before and after timing and the
// ready count of every timed call, so a broken wrapper answers "error".
type callWorker struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr *bytes.Buffer
	mu     sync.Mutex // guards stderr, which the exec package's goroutine writes
	dead   error      // set once the worker is unusable
}

// firstFD is the first watched descriptor in every worker: above the
// few a runtime or interpreter opens at start-up, and low enough that 1000
// fit below FD_SETSIZE.
const firstFD = 20

// callReplyTimeout bounds one measurement, however slow the wrapper: the
// slowest (Python on 1000 descriptors) takes well under a millisecond a
// call, and a measurement stops after its window.
const callReplyTimeout = 30 * time.Second

// startCallWorker starts argv pinned to cpu (-1: unpinned).
func startCallWorker(name string, argv []string, env []string, cpu int) (*callWorker, error) {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	w := &callWorker{name: name, cmd: cmd, lines: make(chan string, 1), stderr: &bytes.Buffer{}}
	cmd.Stderr = lockedWriter{&w.mu, w.stderr}
	var err error
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	return w, nil
}

// measure asks for one measurement and returns the calls timed and the
// time they took. An "error" answer is returned as an error and leaves
// the worker usable; a worker that exits or stops answering is not.
func (w *callWorker) measure(ctx context.Context, n int, ready string, warmup, window time.Duration, maxCalls int64) (int64, time.Duration, error) {
	if w.dead != nil {
		return 0, 0, w.dead
	}
	req := fmt.Sprintf("measure %d %d %s %d %d %d\n", firstFD, n, ready, warmup.Nanoseconds(), window.Nanoseconds(), maxCalls)
	if _, err := io.WriteString(w.stdin, req); err != nil {
		return 0, 0, w.fail(fmt.Errorf("send: %w", err))
	}
	timer := time.NewTimer(callReplyTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-w.lines:
		if !ok {
			return 0, 0, w.fail(errors.New("exited"))
		}
		return parseReply(line)
	case <-timer.C:
		return 0, 0, w.fail(fmt.Errorf("no answer within %v", callReplyTimeout))
	case <-ctx.Done():
		return 0, 0, w.fail(ctx.Err())
	}
}

func parseReply(line string) (int64, time.Duration, error) {
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return 0, 0, errors.New(msg)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "ok" {
		return 0, 0, fmt.Errorf("unexpected answer %q", line)
	}
	calls, err1 := strconv.ParseInt(f[1], 10, 64)
	ns, err2 := strconv.ParseInt(f[2], 10, 64)
	if err := errors.Join(err1, err2); err != nil || calls < 1 || ns <= 0 {
		return 0, 0, fmt.Errorf("unexpected answer %q", line)
	}
	return calls, time.Duration(ns), nil
}

// fail marks the worker unusable, kills it and says why, with what it
// printed on stderr.
func (w *callWorker) fail(err error) error {
	_ = w.cmd.Process.Kill()
	w.mu.Lock()
	out := strings.TrimSpace(w.stderr.String())
	w.mu.Unlock()
	w.dead = fmt.Errorf("worker %s: %w", w.name, err)
	if out != "" {
		w.dead = fmt.Errorf("%w; it printed: %s", w.dead, console.Tail(out, 1024))
	}
	return w.dead
}

// close ends the worker: EOF on stdin asks it to exit, a kill makes sure.
func (w *callWorker) close() error {
	w.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		if w.dead != nil {
			return nil // already reported
		}
		return err
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		<-done
		return fmt.Errorf("worker %s: still running 5s after EOF, killed", w.name)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// closeInheritedOnExec marks every descriptor above stderr close-on-exec.
// Go opens its own that way, but ones inherited from the shell are not,
// and would reach the workers, maybe inside their fixed range of watched
// descriptors (which they refuse to dup2 over).
func closeInheritedOnExec() error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		if flags&unix.FD_CLOEXEC == 0 {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC); err != nil {
				return fmt.Errorf("fd %d: %w", fd, err)
			}
		}
	}
	return nil
}
