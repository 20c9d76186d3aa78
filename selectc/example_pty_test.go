//go:build linux

package selectc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/selectc"
)

// Port is a serial-port style reader, as go.bug.st/serial's Unix port
// reads: a raw non-blocking descriptor, a read timeout, and a Read that a
// Close from another goroutine ends at once. Where serial keeps a private
// pipe in every select for Close to write to, Port hands SelectContext a
// context that Close cancels.
type Port struct {
	fd      int
	Timeout time.Duration // for each Read; negative: none

	mu      sync.RWMutex // Reads hold it shared; Close takes it to close fd once they are out
	closing context.Context
	close   context.CancelFunc
}

// ErrPortClosed is Read's error on a closed port.
var ErrPortClosed = errors.New("port closed")

// NewPort reads from fd, which must be non-blocking.
func NewPort(fd int, timeout time.Duration) *Port {
	ctx, cancel := context.WithCancel(context.Background())
	return &Port{fd: fd, Timeout: timeout, closing: ctx, close: cancel}
}

// Read waits for data until the timeout (os.ErrDeadlineExceeded), ctx's
// end (its error), or Close (ErrPortClosed), and reads what came.
func (p *Port) Read(ctx context.Context, buf []byte) (int, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	ctx, stop := context.WithCancel(ctx) // ends with the caller's ctx or with Close
	defer stop()
	defer context.AfterFunc(p.closing, stop)()
	deadline := time.Now().Add(p.Timeout)
	fds := []selectc.FD{selectc.FD(p.fd)}
	for {
		timeout := selectc.Forever
		if p.Timeout >= 0 {
			timeout = max(time.Until(deadline), 0) // never negative: that would block
		}
		r, _, _, err := selectc.SelectContext(ctx, fds, nil, fds, timeout)
		switch {
		case p.closing.Err() != nil:
			return 0, ErrPortClosed
		case err != nil:
			return 0, err
		case len(r) == 0:
			return 0, os.ErrDeadlineExceeded
		}
		n, err := unix.Read(p.fd, buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue // readiness gone stale
		}
		return max(n, 0), err
	}
}

// Close ends every Read in progress, waits for them to return, and closes
// the descriptor.
func (p *Port) Close() error {
	p.close()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fd < 0 {
		return ErrPortClosed
	}
	err := unix.Close(p.fd)
	p.fd = -1
	return err
}

// openPty opens a pseudo-terminal pair: the master, non-blocking, plays the
// serial port; the slave, the device at the other end of the line.
func openPty() (master int, slave *os.File, err error) {
	master, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, nil, err
	}
	// unlockpt(3) and ptsname(3), as ioctls.
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(master)
		return -1, nil, err
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		unix.Close(master)
		return -1, nil, err
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		unix.Close(master)
		return -1, nil, err
	}
	return master, slave, nil
}

// A serial-port reader on a pty: data is read as it comes, a quiet line
// times out, and a Close from another goroutine ends a blocked Read at once.
func ExampleSelectContext_serialPort() {
	master, device, err := openPty()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer device.Close()
	port := NewPort(master, 50*time.Millisecond)
	buf := make([]byte, 64)

	device.Write([]byte("hello"))
	n, err := port.Read(context.Background(), buf)
	fmt.Printf("%q %v\n", buf[:n], err)

	_, err = port.Read(context.Background(), buf)
	fmt.Println(err)

	port.Timeout = -1 // no timeout: only Close can end this Read
	time.AfterFunc(20*time.Millisecond, func() { port.Close() })
	_, err = port.Read(context.Background(), buf)
	fmt.Println(err)
	// Output:
	// "hello" <nil>
	// i/o timeout
	// port closed
}

func TestPortOnPty(t *testing.T) {
	master, device, err := openPty()
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	defer device.Close()
	port := NewPort(master, 100*time.Millisecond)
	defer port.Close()
	buf := make([]byte, 64)

	t.Run("data", func(t *testing.T) {
		time.AfterFunc(10*time.Millisecond, func() { device.Write([]byte("ping")) })
		n, err := port.Read(context.Background(), buf)
		if err != nil || string(buf[:n]) != "ping" {
			t.Fatalf("read %q, %v; want \"ping\"", buf[:n], err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		n, err := port.Read(context.Background(), buf)
		took := time.Since(start)
		if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 {
			t.Fatalf("read %d, %v; want a timeout", n, err)
		}
		if took < 60*time.Millisecond || took > 2*time.Second {
			t.Fatalf("timed out after %v, want about 100ms", took)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		port.Timeout = -1
		defer func() { port.Timeout = 100 * time.Millisecond }()
		if _, err := port.Read(ctx, buf); !errors.Is(err, context.Canceled) {
			t.Fatalf("read: %v, want context.Canceled", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		port.Timeout = -1
		done := make(chan error, 1)
		go func() {
			_, err := port.Read(context.Background(), buf)
			done <- err
		}()
		time.Sleep(20 * time.Millisecond) // blocked in select
		go port.Close()
		// The Read waits forever (Timeout -1), so its ending at all is
		// Close's doing; how soon is a benchmark's question, not a test's
		// (under qemu on a busy machine it took 22 ms).
		select {
		case err := <-done:
			if !errors.Is(err, ErrPortClosed) {
				t.Fatalf("read after Close: %v; want %v", err, ErrPortClosed)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end the blocked Read")
		}
		if _, err := port.Read(context.Background(), buf); !errors.Is(err, ErrPortClosed) {
			t.Fatalf("read on a closed port: %v", err)
		}
	})
}
