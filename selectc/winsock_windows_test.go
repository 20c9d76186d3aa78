//go:build windows

package selectc

// The rules selectc adds where Winsock's own are unsafe or differ from
// Linux's (the package doc's "Windows"), one table per rule. A "socket"
// that only goes into a set is any SOCKET value: FD_SET takes it unchecked.

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// fdCount is Winsock's fd_count of s.
func fdCount(s *FdSet) int { return int(*(*uint32)(s.CPointer())) }

// A full set refuses one more socket with an error naming it and is left
// as it was; Winsock's FD_SET would drop it silently. A member already in
// a full set is no new entry.
func TestWinsockFullSet(t *testing.T) {
	var s FdSet
	for i := 1; i <= FdSetSize; i++ {
		if err := s.Set(4*i + 1); err != nil {
			t.Fatalf("Set(%d) into a set of %d: %v", 4*i+1, i-1, err)
		}
	}
	before := s
	cases := []struct {
		name string
		fd   int
		want error // nil: accepted, the set unchanged all the same
	}{
		{"one more", 4*FdSetSize + 5, ErrTooManyFds},
		{"a member again", 5, nil},
		{"the last member again", 4*FdSetSize + 1, nil},
		{"negative", -1, ErrFdRange},
		{"past 32 bits", 1 << 40, ErrFdRange},
	}
	for _, c := range cases {
		err := s.Set(c.fd)
		if c.want == nil && err != nil {
			t.Errorf("%s: Set(%d) = %v; want nil", c.name, c.fd, err)
		}
		if c.want != nil {
			wantFdError(t, err, "FD_SET", c.fd, c.want)
		}
		if s != before || fdCount(&s) != FdSetSize {
			t.Errorf("%s: Set(%d) changed a full set (count %d)", c.name, c.fd, fdCount(&s))
		}
	}
	s.Clr(5)
	if err := s.Set(4*FdSetSize + 5); err != nil || fdCount(&s) != FdSetSize {
		t.Errorf("after Clr, Set = %v, count %d; want room for one", err, fdCount(&s))
	}
}

// Every entry point that fills a set refuses a full one before Winsock is
// called: FdSetSize sockets plus the wake socket of SelectContext, a
// Poller or a Loop.
func TestWinsockFullEntryPoints(t *testing.T) {
	many := make([]FD, FdSetSize)
	for i := range many {
		many[i] = FD(4*i + 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _, _, err := SelectContext(ctx, many, nil, nil, time.Second)
	if !errors.Is(err, ErrTooManyFds) {
		t.Errorf("SelectContext on %d sockets and its wake: %v; want ErrTooManyFds", FdSetSize, err)
	}
	_, _, _, err = Select(append(many, FD(4*FdSetSize+1)), nil, nil, time.Second)
	if !errors.Is(err, ErrTooManyFds) {
		t.Errorf("Select on %d sockets: %v; want ErrTooManyFds", FdSetSize+1, err)
	}
	p := newPoller(t)
	l := newLoop(t)
	for _, fd := range many[:FdSetSize-1] {
		if err := p.Register(int(fd), Read); err != nil {
			t.Fatalf("Poller.Register(%d): %v", fd, err)
		}
		if err := l.Register(int(fd), Read, handlerFunc(func(int, Events) {})); err != nil {
			t.Fatalf("Loop.Register(%d): %v", fd, err)
		}
	}
	last := int(many[FdSetSize-1])
	wantFdError(t, p.Register(last, Write), "register", last, ErrTooManyFds)
	wantFdError(t, l.Register(last, Write, handlerFunc(func(int, Events) {})), "register", last, ErrTooManyFds)
	if err := p.Unregister(int(many[0])); err != nil {
		t.Fatal(err)
	}
	if err := p.Register(last, Read); err != nil {
		t.Errorf("Register after an Unregister made room: %v", err)
	}
}

// A handle that is no socket (a file, a pipe) gets an error naming it
// and wrapping WSAENOTSOCK (errBadFd), from every entry point.
func TestWinsockNotASocket(t *testing.T) {
	f, err := os.Open(os.Args[0]) // the test binary: a file handle
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for _, file := range []*os.File{f, pr} {
		h := int(file.Fd())
		_, _, _, err := Select([]*os.File{file}, nil, nil, time.Second)
		wantFdError(t, err, "select", h, errBadFd)
		_, _, _, err = SelectContext(context.Background(), []FD{FD(h)}, nil, nil, time.Second)
		wantFdError(t, err, "select", h, errBadFd)
		var s FdSet
		if err := s.Set(h); err != nil {
			t.Fatal(err)
		}
		tv := NewTimeval(time.Second)
		// SelectFdSet is select as C has it: Winsock's own code, which
		// is WSAENOTSOCK on Windows and WSAEOPNOTSUPP under wine.
		var errno syscall.Errno
		if _, err := SelectFdSet(0, &s, nil, nil, &tv); !errors.As(err, &errno) || !isBadFd(errno) {
			t.Errorf("SelectFdSet on %s: %v; want WSAENOTSOCK", file.Name(), err)
		}
		p := newPoller(t)
		if err := p.Register(h, Read); err != nil {
			t.Fatal(err)
		}
		_, err = p.Wait(make([]PollEvent, 1), time.Second)
		wantFdError(t, err, "select", h, errBadFd)
		l := newLoop(t)
		if err := l.Register(h, Read, handlerFunc(func(int, Events) {})); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := runCtx(t)
		err = l.Run(ctx)
		cancel()
		wantFdError(t, err, "select", h, errBadFd)
	}
}

// Winsock ignores nfds: SelectFdSet checks it as on Linux, then a ready
// socket is reported whatever nfds says.
func TestWinsockNfdsIgnored(t *testing.T) {
	fd := int(readySocket(t))
	for _, nfds := range []int{0, 1, FdSetSize} {
		var s FdSet
		if err := s.Set(fd); err != nil {
			t.Fatal(err)
		}
		tv := NewTimeval(time.Second)
		if n, err := SelectFdSet(nfds, &s, nil, nil, &tv); n != 1 || err != nil {
			t.Errorf("SelectFdSet(nfds %d) on a ready socket = %d, %v; want 1", nfds, n, err)
		}
	}
	var s FdSet
	if _, err := SelectFdSet(FdSetSize+1, &s, nil, nil, nil); !errors.Is(err, ErrFdRange) {
		t.Errorf("SelectFdSet(nfds %d): %v; want ErrFdRange, as on Linux", FdSetSize+1, err)
	}
}

// struct timeval's tv_sec is a 32-bit long: a longer Timeval saturates at
// 2^31-1 s, never wraps, where it is written into C.
func TestWinsockTimevalSaturates(t *testing.T) {
	cases := []struct {
		in, want Timeval
	}{
		{Timeval{Sec: 1 << 31, Usec: 5}, Timeval{Sec: 1<<31 - 1, Usec: 999999}},
		{Timeval{Sec: 1 << 40}, Timeval{Sec: 1<<31 - 1, Usec: 999999}},
		{NewTimeval(100 * 365 * 24 * time.Hour), Timeval{Sec: 1<<31 - 1, Usec: 999999}},
		{Timeval{Sec: 1<<31 - 1, Usec: 7}, Timeval{Sec: 1<<31 - 1, Usec: 7}},
	}
	for _, c := range cases {
		var mem [4]int64
		if err := c.in.ToC(unsafePointer(&mem)); err != nil {
			t.Fatal(err)
		}
		if got := TimevalFromC(unsafePointer(&mem)); got != c.want {
			t.Errorf("%+v in C = %+v; want %+v", c.in, got, c.want)
		}
	}
}
