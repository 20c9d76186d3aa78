package serverproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Time limits of a server's life cycle.
const (
	startTimeout = 10 * time.Second // from exec until a TCP connect succeeds
	stopTimeout  = 5 * time.Second  // from SIGTERM until SIGKILL
)

// Options tune how Start runs a server.
type Options struct {
	// NoFile, when not 0, sets RLIMIT_NOFILE soft=hard=NoFile through
	// `prlimit --nofile=N:N --`. Both limits, because a Go server raises its
	// soft limit to the hard one at start-up.
	NoFile uint64
	// CPU pins the server to that CPU through `taskset -c CPU` when >= 0;
	// a negative CPU leaves it unpinned.
	CPU int
	// Verbose passes -v, so the server logs the post's event lines.
	Verbose bool
	// Stderr also receives everything the server prints; the text is kept
	// for Log either way.
	Stderr io.Writer
	// Env is extra environment, KEY=VALUE, after the spec's.
	Env []string
	// Wrap is a command line put in front of the server's, after prlimit
	// and taskset; it must exec the server (the conformance suite's
	// fault injector does).
	Wrap []string
}

// Proc is one running server.
type Proc struct {
	Spec Spec      // what was started
	Addr string    // 127.0.0.1:PORT it listens on
	Cmd  *exec.Cmd // the process; Cmd.Process.Pid is the server itself, the wrappers exec it

	log  *logBuffer
	done chan struct{} // closed once the process has exited and been reaped

	// Written by the reaper before done is closed.
	exitedAt time.Time
	waitErr  error

	stopOnce sync.Once
	stopDur  time.Duration
	stopErr  error
}

// Start runs spec on a free loopback port and returns once a TCP connect to
// it succeeds (that probe connection is closed at once). It fails, with
// what the server printed, if the server exits first or is not accepting
// within 10 s. ctx bounds only the start-up: the server then lives until
// Stop (or until the test process dies: it is sent SIGKILL then).
func Start(ctx context.Context, spec Spec, opt Options) (*Proc, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	var argv []string
	if opt.NoFile > 0 {
		argv = append(argv, "prlimit", fmt.Sprintf("--nofile=%d:%d", opt.NoFile, opt.NoFile), "--")
	}
	if opt.CPU >= 0 {
		argv = append(argv, "taskset", "-c", strconv.Itoa(opt.CPU))
	}
	argv = append(argv, opt.Wrap...)
	argv = append(argv, spec.Path)
	argv = append(argv, spec.Args...)
	if opt.Verbose {
		argv = append(argv, "-v")
	}
	argv = append(argv, "-addr", addr)

	p := &Proc{Spec: spec, Addr: addr, log: &logBuffer{}, done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), spec.Env...), opt.Env...)
	var out io.Writer = p.log
	if opt.Stderr != nil {
		out = io.MultiWriter(p.log, opt.Stderr)
	}
	// Stdout too: a server should print nothing there, and if it does the
	// text belongs next to its log rather than in the test's output.
	cmd.Stdout, cmd.Stderr = out, out
	// A test binary killed by its timeout must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.Cmd = cmd
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	go p.reap()

	if err := p.waitReady(ctx); err != nil {
		p.kill()
		return nil, fmt.Errorf("start %s (%s): %w\nserver output:\n%s", spec.Name, cmd.String(), err, tail(p.Log()))
	}
	return p, nil
}

// reap waits for the process and records when and how it ended.
func (p *Proc) reap() {
	err := p.Cmd.Wait()
	p.exitedAt = time.Now()
	p.waitErr = err
	close(p.done)
}

// waitReady polls with TCP connects until one succeeds, the server exits,
// ctx ends or startTimeout passes. A connect is the one readiness signal
// every server gives alike: their start-up lines differ, and some come
// before the listener is open.
func (p *Proc) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	delay := 2 * time.Millisecond
	for {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", p.Addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before accepting connections: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not accepting on %s: %w (last dial: %v)", p.Addr, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// freeAddr finds a loopback port nobody listens on by letting the kernel
// pick one and closing it again; the server binds it right after.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// PID is the server's process id (not a wrapper's: prlimit and taskset exec it).
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Log returns what the server printed so far (stderr and stdout).
func (p *Proc) Log() string { return p.log.String() }

// Done is closed once the server has exited, for whatever reason.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err reports how the server ended once Done is closed: nil for exit
// status 0, else an *exec.ExitError. Before that it returns nil.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return nil
	}
}

// Stop sends SIGTERM and returns the time from the signal until the
// process had exited. A server still running 5 s later is killed and Stop
// returns an error, as it does for an exit status other than 0 or a server
// that had already exited. Later calls return the first call's result.
func (p *Proc) Stop() (time.Duration, error) {
	p.stopOnce.Do(func() { p.stopDur, p.stopErr = p.stop() })
	return p.stopDur, p.stopErr
}

func (p *Proc) stop() (time.Duration, error) {
	select {
	case <-p.done:
		return 0, p.exitError("had exited before Stop")
	default:
	}
	t0 := time.Now()
	sig := p.Spec.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	if err := p.Cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.kill()
		return 0, fmt.Errorf("stop %s: %w", p.Spec.Name, err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		if p.waitErr == nil {
			return p.exitedAt.Sub(t0), nil
		}
		return p.exitedAt.Sub(t0), p.exitError("after SIGTERM")
	case <-timer.C:
		p.kill()
		return time.Since(t0), fmt.Errorf("stop %s: still running %v after SIGTERM, killed\nserver output:\n%s",
			p.Spec.Name, stopTimeout, tail(p.Log()))
	}
}

// kill sends SIGKILL and waits until the process is reaped.
func (p *Proc) kill() {
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// exitError describes how the process ended, with the server's output.
func (p *Proc) exitError(when string) error {
	status := "exit status 0"
	if p.waitErr != nil {
		status = p.waitErr.Error()
	}
	return fmt.Errorf("server %s %s: %s\nserver output:\n%s", p.Spec.Name, when, status, tail(p.Log()))
}

// tail keeps error messages readable when a server logged a lot.
func tail(s string) string {
	const keep = 8 << 10
	if len(s) <= keep {
		return s
	}
	return "[...]" + s[len(s)-keep:]
}
