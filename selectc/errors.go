//go:build cgo && (linux || windows)

package selectc

import (
	"errors"
	"os"
	"strconv"
	"syscall"
)

// ErrFdRange is wrapped by every error about a descriptor that select(2)
// cannot watch: below 0, or at or above FdSetSize.
var ErrFdRange = errors.New("fd out of range for select (" + fdRangeRule + ")")

// ErrTooManyFds is returned when one list holds more than FdSetSize entries,
// more than an fd_set can describe.
var ErrTooManyFds = errors.New("too many descriptors for select (more than FD_SETSIZE in one list)")

// ErrClosed is wrapped by every error a Poller or Loop returns because it
// cannot be used: it is closed, or NewPoller or NewLoop did not make it
// ("Misuse" in the package doc lists the cases). ErrPollerClosed and
// ErrLoopClosed wrap it. Like net.ErrClosed it is selectc's own: it does
// not match os.ErrClosed, which is about files.
var ErrClosed = errors.New("closed")

// FdError records an error and the operation and descriptor that caused it,
// in the manner of *os.SyscallError and *net.OpError.
//
// Every error selectc returns is one of three kinds, and each kind has one
// shape, whichever constructor or method returns it:
//
//   - Range: a descriptor select(2) cannot watch, below 0 or at FdSetSize
//     and above, found before any system call. Always an *FdError wrapping
//     ErrFdRange, its Op the C call or method ("FD_SET", "select",
//     "eventfd", "register", "modify", "unregister"), its Fd the
//     descriptor: "register: fd 1500: fd out of range ...". This covers the
//     wake eventfd of NewPoller, NewLoop and SelectContext, and
//     SelectFdSet's nfds (its Fd is nfds-1, the highest descriptor nfds
//     would have select read).
//   - System: a C call that failed with an errno. An *os.SyscallError named
//     after the call ("select", "eventfd", "calloc") wrapping the
//     syscall.Errno: "eventfd: too many open files"; but when the errno is
//     about a descriptor selectc can name (EBADF, pinned with fcntl), an
//     *FdError for each bad descriptor, Op "select", wrapping the Errno:
//     "select: fd 7: bad file descriptor". errors.Is(err, syscall.EBADF)
//     holds either way. EINTR is never one of them, except from
//     SelectFdSet, which is select(2) as C has it.
//   - Misuse of a Poller or Loop (closed, or not made by NewPoller or
//     NewLoop): an error wrapping ErrClosed (through ErrPollerClosed or
//     ErrLoopClosed), in an *FdError naming the descriptor when the method
//     takes one ("register: fd 5: poller closed"), and as it is otherwise
//     ("poller closed").
//
// What the object's state or the arguments forbid (ErrRegistered,
// ErrNotRegistered, ErrLoopRunning, ErrEvents, ErrNilHandler) is shaped as
// misuse: the sentinel, in an *FdError when the call names a descriptor.
// A value no call accepts (ErrTimeval, ErrTooManyFds) wraps its sentinel
// after the operation and the value: "select: timeval {...}: ...".
// The C underneath speaks -errno (selectshim.h); the mapping is here and in
// each caller, never in C.
type FdError struct {
	// Op names what failed: the C macro or system call when selectc stands
	// for one ("FD_SET", "FD_CLR", "FD_ISSET", "select", "eventfd"), and the
	// method in lower case when it does not ("register", "modify",
	// "unregister", "close").
	Op  string
	Fd  int   // the descriptor at fault
	Err error // the cause: ErrFdRange, syscall.EBADF, ...
}

// Error names the operation and the descriptor: "select: fd 7: bad file descriptor".
func (e *FdError) Error() string {
	cause := "<nil>" // the zero FdError has no cause; its Error still says so rather than panic
	if e.Err != nil {
		cause = e.Err.Error()
	}
	return e.Op + ": fd " + strconv.Itoa(e.Fd) + ": " + cause
}

// Unwrap returns the cause, so errors.Is(err, syscall.EBADF) and
// errors.Is(err, ErrFdRange) work.
func (e *FdError) Unwrap() error { return e.Err }

// allocError is the error of a C constructor (selectloop_new,
// selectpoller_new) handed a wake descriptor openWake vetted: all that is
// left to fail is its calloc.
func allocError(rc int32) error {
	return os.NewSyscallError("calloc", cErrno(rc))
}

// checkFd returns an *FdError wrapping ErrFdRange when fd cannot go in an
// fd_set (fdInRange, the system's rule).
func checkFd(op string, fd int) error {
	if !fdInRange(fd) {
		return &FdError{Op: op, Fd: fd, Err: ErrFdRange}
	}
	return nil
}

// registryError names a -errno from a C registry (Loop's or Poller's; they
// share the C's codes) as the package's errors, wrapped in an *FdError for op
// and fd; fd < 0 means the error is the registry's own. closed is the
// error for -ESHUTDOWN: ErrLoopClosed or ErrPollerClosed.
func registryError(op string, fd int, rc int32, closed error) error {
	if rc == 0 {
		return nil
	}
	var err error
	switch errno := cErrno(rc); errno {
	case syscall.ERANGE:
		err = ErrFdRange
	case errFull:
		err = ErrTooManyFds
	case syscall.EINVAL:
		err = ErrEvents
	case syscall.EEXIST:
		err = ErrRegistered
	case syscall.ENOENT:
		err = ErrNotRegistered
	case syscall.ESHUTDOWN:
		err = closed
	case syscall.EBUSY:
		err = ErrLoopRunning
	default:
		err = errno
	}
	if fd < 0 {
		return err
	}
	return &FdError{Op: op, Fd: fd, Err: err}
}

// badFds names which of fds select refused with errno (isBadFd): one
// *FdError per descriptor isClosedFd finds bad, wrapping errBadFd (EBADF,
// or WSAENOTSOCK on Windows), or, when none is bad any more (closed and
// reopened since), what select said. Select, Loop and Poller all report a
// bad descriptor this way.
func badFds[T ~int32](fds []T, errno syscall.Errno) error {
	var errs []error
	seen := make(map[T]bool)
	for _, fd := range fds {
		if !seen[fd] && isClosedFd(int(fd)) {
			errs = append(errs, &FdError{Op: "select", Fd: int(fd), Err: errBadFd})
		}
		seen[fd] = true
	}
	switch len(errs) {
	case 0:
		return os.NewSyscallError("select", errno)
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
