package callgrind

// The two ways of counting one server's echoes: two dumps in one
// valgrind process, or the totals of two processes.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/selectc/selectc/cmd/echo-bench/internal/console"
	"github.com/selectc/selectc/cmd/echo-bench/internal/servers"
	"github.com/selectc/selectc/cmd/internal/loadgen"
	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// inOneProcess measures s in one valgrind process with two dumps. An
// error carries valgrind's output, for valgrindTrouble to read.
func inOneProcess(ctx context.Context, valgrind string, s servers.Server, cfg Config) (ir1, ir2 uint64, note string, err error) {
	outFile := filepath.Join(cfg.Dir, "callgrind."+s.Name+".out")
	removeDumps(outFile)
	p, err := serverproc.Start(ctx, spec(ctx, valgrind, s, outFile), serverproc.Options{NoFile: cfg.NoFile, CPU: -1, Stderr: console.Prefixed(cfg.Verbose, s.Name)})
	if err != nil {
		return 0, 0, "", err // serverproc appends the output
	}
	defer p.Stop()
	counts, err := echoAndDump(ctx, p, outFile, cfg)
	if err != nil {
		return 0, 0, "", withOutput(err, p)
	}
	// The counts are in, and nothing valgrind writes at exit is wanted:
	// kill it rather than send SIGTERM, on which callgrind 3.19 fails an
	// assertion of its own in a Go server (threads.c, post_signal).
	if err := p.Cmd.Process.Kill(); err != nil {
		return 0, 0, "", fmt.Errorf("callgrind: kill %s: %w", s.Name, err)
	}
	select {
	case <-p.Done():
	case <-time.After(callgrindStall):
		return 0, 0, "", fmt.Errorf("callgrind: %s still running %v after SIGKILL", s.Name, callgrindStall)
	}
	if t := valgrindTrouble(p.Log()); t != "" {
		note = "valgrind complained, counts unaffected: " + t
	}
	// Dumps reset the counters: the first holds start-up and N1 echoes,
	// the second the N2-N1 echoes after it.
	return counts[0], counts[0] + counts[1], note, nil
}

// echoAndDump runs N1 echoes, dumps, runs N2-N1 more and dumps again, and
// returns the two dumps' counts.
func echoAndDump(ctx context.Context, p *serverproc.Proc, outFile string, cfg Config) ([2]uint64, error) {
	var counts [2]uint64
	sess, err := loadgen.Open(ctx, loadgen.Config{Addr: p.Addr, Conns: 1, Size: cfg.Size, DialTimeout: callgrindStall, Stall: callgrindStall})
	if err != nil {
		return counts, err
	}
	defer sess.Close()
	for i, n := range []int64{cfg.N1, cfg.N2 - cfg.N1} {
		if err := echoExactly(ctx, sess, n); err != nil {
			return counts, err
		}
		c, err := dumpAndRead(ctx, p.PID(), outFile, i+1)
		if err != nil {
			return counts, err
		}
		counts[i] = c
	}
	return counts, nil
}

// withOutput stops p (so valgrind has written its last words) and appends
// what it printed to err, keeping err's identity for errors.Is.
func withOutput(err error, p *serverproc.Proc) error {
	_, stopErr := p.Stop()
	out := p.Log()
	if stopErr != nil {
		out += "\n" + stopErr.Error()
	}
	return fmt.Errorf("%w\nvalgrind output:\n%s", err, console.Tail(out, 8<<10))
}

// inTwoRuns measures s in two valgrind processes, of N1 and N2 echoes,
// and returns their totals: what callgrind writes at exit.
func inTwoRuns(ctx context.Context, valgrind string, s servers.Server, cfg Config) (ir1, ir2 uint64, err error) {
	totals := make([]uint64, 2)
	for i, n := range []int64{cfg.N1, cfg.N2} {
		outFile := filepath.Join(cfg.Dir, fmt.Sprintf("callgrind.%s.run%d.out", s.Name, i+1))
		removeDumps(outFile)
		p, err := serverproc.Start(ctx, spec(ctx, valgrind, s, outFile), serverproc.Options{NoFile: cfg.NoFile, CPU: -1, Stderr: console.Prefixed(cfg.Verbose, s.Name)})
		if err != nil {
			return 0, 0, err
		}
		sess, err := loadgen.Open(ctx, loadgen.Config{Addr: p.Addr, Conns: 1, Size: cfg.Size, DialTimeout: callgrindStall, Stall: callgrindStall})
		if err == nil {
			err = echoExactly(ctx, sess, n)
			sess.Close()
		}
		_, stopErr := p.Stop() // callgrind writes its totals at exit
		if err = errors.Join(err, stopErr); err != nil {
			return 0, 0, fmt.Errorf("%w\nvalgrind output:\n%s", err, console.Tail(p.Log(), 8<<10))
		}
		if totals[i], err = readCallgrindTotal(outFile); err != nil {
			return 0, 0, err
		}
	}
	return totals[0], totals[1], nil
}

// echoExactly runs n verified echoes on the session's one connection.
func echoExactly(ctx context.Context, sess *loadgen.Session, n int64) error {
	res, err := sess.Run(ctx, loadgen.Window{Duration: callgrindWindow, MaxEchoes: n})
	if err != nil {
		return err
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d echo errors: %s", res.Errors, strings.Join(res.ErrorSamples, "; "))
	}
	if res.Echoes != n {
		return fmt.Errorf("%d echoes instead of %d within %v", res.Echoes, n, callgrindWindow)
	}
	return nil
}
