// Package selectc wraps the C library's real select(2) through cgo, at the
// two levels the C prototype and Python's select module offer, and in the
// two shapes an event loop takes across a language boundary:
//
//   - the fd_set level: [FdSet] with the four macros as methods, [FdSetSize],
//     [Timeval] and [SelectFdSet], which is select(2) as C has it;
//   - the Python level: [Select] and [SelectContext], which take lists of
//     descriptors (an [FD], an *os.File, anything with an Fd method) and
//     return the ready ones themselves, like select.select(rlist, wlist,
//     xlist, timeout); [Selector] is the same with its memory kept;
//   - [Loop], the loop in C calling a Go [Handler] per ready descriptor;
//   - [Poller], the fd_sets kept in C and the loop in Go: each wait hands
//     back every ready descriptor at once;
//   - a C library gives you fd_sets (libcurl's curl_multi_fdset): [FdSet] +
//     [SelectFdSet], with the pointer from [FdSet.CPointer] (a set C owns
//     read in place with [FdSetFromC]) and timevals through [TimevalFromC]
//     and [Timeval.ToC]; cmd/curl-multi is the worked example.
//
// On glibc an fd_set is a fixed 1024-bit mask: FD_SETSIZE is 1024 and cannot
// be changed by the caller. A descriptor outside [0, FdSetSize) can never be
// watched by select(2); passing one to FD_SET is undefined behaviour in C (it
// writes past the mask, or aborts under _FORTIFY_SOURCE). Every entry point
// here checks the range first and returns an error naming the fd instead.
//
// Every wait crosses into C once, however many descriptors it watches:
// Select builds the three fd_sets, selects and reads them back in a single
// C call; a Poller's Wait copies the sets it keeps in C, selects and writes
// every ready descriptor into the caller's slice in one. [Loop] is one cgo
// call for its whole life, with a C-to-Go callback per ready descriptor.
//
// # Ending a wait early
//
// SelectContext (and Selector.SelectContext) is Select that a context can
// cancel; a Poller has Wake and WaitContext. All of them wake select(2) the
// same way: an eventfd of selectc's own, always below FdSetSize, sits in
// the read set and a context's AfterFunc (or Wake) writes to it, in the
// same one cgo call per wait. SelectContext borrows the eventfd from a
// small pool; a Poller owns one; Loop's C side uses the same helpers. When
// readiness and cancellation end the same select, the ready descriptors
// are returned and the error is not: readiness is level-triggered, so the
// next call reports the cancellation at once and nothing is lost. A nil
// context panics, as it does in package context and net.Dialer: an error
// would let a read loop that retries on error spin on a caller's bug.
//
// # Go files and connections
//
// A list element that is also a syscall.Conn, such as *os.File, is read
// through SyscallConn().Control and never through Fd, which would switch
// the file to blocking mode and stop its deadlines; a closed file gives an
// error wrapping os.ErrClosed. A net.Conn has no Fd method: select on
// ConnFD(conn), and keep the connection open and reachable until the select
// has returned.
//
// # Blocking in C
//
// A select that blocks holds its goroutine's P, as any cgo call or system
// call does. When no other P is idle (GOMAXPROCS=1), the runtime's sysmon
// takes the P back from a call it finds still running after one of its
// ticks (20 µs and up) and hands it to another thread, which wakes, finds
// nothing to run and sleeps again. And a loop goroutine that only ever
// waits in select never passes through the scheduler, so every 10 ms sysmon
// takes it for a goroutine that hogs its P, preempts it and drops back to
// its fastest ticks. A server loop built on Select does better with one P
// to spare (GOMAXPROCS >= 2, which costs no CPU when nothing else runs: Ps
// are not CPUs) and a runtime.Gosched every few dozen descriptors served.
// Measured on cmd/echo-server (pinned to one core, one connection, 64 B
// echoes): 1.49× the C prototype's CPU per echo and 1.89 context switches
// per echo with neither, 0.98× and 1.06 with both; with 900 idle clients,
// 0.50 switches per echo fell to 0.025 (BENCHMARKS.md, "Where the time
// goes"). cmd/echo-server does both (-min-procs, default 2).
//
// # Full descriptor tables
//
// The Go runtime opens its own poller (an epoll descriptor and an eventfd)
// lazily, the first time any timer is armed, and dies if that fails. A
// select server armed no timer of its own, so the first one may come from
// the runtime itself (the GC's scavenger going to sleep) at the moment its
// descriptor table is full: "fatal error: runtime: netpollinit failed".
// Importing selectc makes the runtime open its poller at start-up instead,
// so a program built on selectc survives EMFILE like a C program does.
//
// # Descriptors closed during a wait
//
// Closing a descriptor that another goroutine's select(2) is waiting on
// does not end the wait: the kernel took its own reference to the file for
// the length of the call, goes on watching it, and may report it ready,
// with no error. That is select(2) itself, in C as here. Only the next call
// sees the close: EBADF, or, if the number was reused meanwhile, the new
// file. Take a descriptor out of every list (or off the Loop) before
// closing it, and wake the wait if it must notice at once.
//
// The package requires cgo; a build with CGO_ENABLED=0 fails at compile time.
package selectc
