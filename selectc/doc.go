// Package selectc wraps the C library's real select(2) through cgo. Which
// call to use:
//
//   - In a script, or wherever Python would call select.select: [Select],
//     on lists of descriptors ([FD], *os.File, anything with an Fd method),
//     returning the ready ones. [Selector] is the same with its memory kept
//     from call to call.
//   - In a server loop: [Poller]. Register each descriptor once; every
//     [Poller.Wait] returns all the ready ones in one call.
//   - To end a wait from another goroutine: [SelectContext], or
//     [Poller.WaitContext] and [Poller.Wake].
//   - When a C library hands you fd_sets (libcurl's curl_multi_fdset):
//     [FdSet] and [SelectFdSet], select(2) as C has it, with
//     [FdSet.CPointer], [FdSetFromC], [Timeval.ToC] and [TimevalFromC] to
//     pass them between C and Go.
//   - [Loop], the loop in C calling a Go [Handler] per ready descriptor, is
//     the C-driven design, kept for comparison; a Poller does the same
//     work for less (the README's "Three designs").
//
// On Linux an fd_set is a fixed 1024-bit mask: FD_SETSIZE is 1024 and cannot
// be changed by the caller. A descriptor outside [0, FdSetSize) can never be
// watched by select(2); passing one to FD_SET is undefined behaviour in C (it
// writes past the mask, or aborts under _FORTIFY_SOURCE). Every entry point
// here checks the range first and returns an error naming the fd instead;
// [FdError] says how every error selectc returns is shaped. On Windows the
// same API stands on Winsock, whose fd_set is another thing: see "Windows"
// below.
//
// Every wait crosses into C at most once, however many descriptors it
// watches: Select builds the three fd_sets, selects and reads them back in a
// single C call; a Poller's Wait copies the sets it keeps in C, selects and
// writes every ready descriptor into the caller's slice in one. [Loop] is
// one cgo call for its whole life, with a C-to-Go callback per ready
// descriptor.
//
// # The answer that is there already
//
// A cgo call, like a system call made with syscall.Syscall, tells Go's
// scheduler that the thread may sleep in the kernel (entersyscall and
// exitsyscall), and that handshake costs more than the crossing itself. A
// select with a zero timeout cannot sleep, so when descriptors are ready
// already, Poller.Wait, Select and Selector.Select answer from Go with a
// raw system call that skips it, on the same sets (the C registry's, for a
// Poller) and with the same answers; only a wait that has to sleep goes
// through C. A poll (timeout 0) always goes that way; a wait with a
// timeout tries it first, and after finding nothing ready skips it for the
// next waits, up to 1023 in a row, so a loop whose every wait sleeps pays
// about one extra poll in 1024. On either path a set with nothing in it goes
// to the kernel as NULL, which spares the kernel copying it in and out and
// changes nothing the caller sees. The README's "The floor" says what is
// left, and what no Go program can save.
//
// # Ending a wait early
//
// SelectContext (and Selector.SelectContext) is Select that a context can
// cancel; a Poller has Wake and WaitContext. All of them wake select(2) the
// same way: a wake descriptor of selectc's own (an eventfd, always below
// FdSetSize, on Linux; a socket on Windows) sits in the read set and a
// context's AfterFunc (or Wake) writes to it, in the same one cgo call per
// wait. SelectContext borrows the eventfd from a
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
// are not CPUs) and a runtime.Gosched every few dozen descriptors served;
// what each saves on cmd/echo-server, which does both (-min-procs, default
// 2), is measured in BENCHMARKS.md, "Where the time goes".
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
// # Misuse
//
// Go cannot forbid a zero value, a second Close or a Close racing with a
// call, so selectc answers each with an error, never a crash in C nor a
// hang. [ErrClosed] is the one error to test for: errors.Is(err,
// ErrClosed) holds for every error a Poller or Loop returns because it
// cannot be used.
//
//   - A zero Poller or Loop, and a nil *Poller or *Loop, act as one already
//     closed: every method, Close included, returns an error wrapping
//     ErrPollerClosed or ErrLoopClosed (both wrap ErrClosed) that says the
//     object was not made by NewPoller or NewLoop.
//   - After Close, every method returns ErrPollerClosed or ErrLoopClosed,
//     and so does a second Close.
//   - Close may come from any goroutine at any moment. A Poller's Close
//     ends every Wait in progress (each returns ErrPollerClosed) and frees
//     the C side only after the last call into it has returned. A Loop's
//     Close fails with ErrLoopRunning while Run runs (cancel Run's context
//     first); its C side is freed only once the Loop is unreachable.
//   - A Poller or Loop must not be copied: a copy would share the C state
//     but not what guards it. go vet's copylocks check reports a copy.
//   - The zero value of every other type is ready to use: an empty FdSet,
//     a Selector, a zero Timeval (a poll), FD 0 (standard input).
//
// # Windows
//
// On windows/amd64 (built with mingw-w64: CGO_ENABLED=1 GOOS=windows
// CC=x86_64-w64-mingw32-gcc) the API is the same, and a program written for
// Linux compiles unchanged; a descriptor is a SOCKET handle, as ConnFD
// returns it, and Winsock's select takes nothing else (no files, no pipes).
// Winsock's fd_set is not a bit mask but a list, { u_int fd_count; SOCKET
// fd_array[FD_SETSIZE]; }: FD_SETSIZE counts the sockets in a set, whatever
// their values; it is 64 unless the program defines it before including
// winsock2.h. The seed post describes this fd_set ("FD_SETSIZE ... 64 by
// default"; "FD_ZERO: every element becomes 3435973836", which is
// 0xCCCCCCCC, MSVC's debug fill of the uninitialised array that FD_ZERO
// leaves alone: it only sets fd_count to 0).
//
// selectc compiles its C with FD_SETSIZE 1024, so FdSetSize is 1024 here
// too (checked against the header at compile time, as on Linux) and
// sizeof(fd_set) is 8200 bytes: a program can watch as many sockets on
// Windows as on Linux (CPython chooses 512 for the same reason). C code that
// hands selectc an fd_set through FdSetFromC must be compiled with the same
// FD_SETSIZE; a default one (64) is too small for FdSet's methods to write.
//
// Where Winsock is unsafe or answers otherwise than Linux, selectc gives
// Linux's answer:
//
//   - Full set: Winsock's FD_SET drops a socket silently when the set holds
//     FD_SETSIZE already. FdSet.Set returns an *FdError naming the socket
//     and wrapping ErrTooManyFds, the set unchanged; Select and SelectContext
//     (whose wake socket takes a place), Poller.Register and Loop.Register
//     (likewise) refuse the same way before calling Winsock. A descriptor is
//     out of range (ErrFdRange) only when negative or past 2^31-1.
//   - nfds: Winsock ignores it. SelectFdSet checks it as on Linux, then
//     ignores it too.
//   - Timeouts: struct timeval's fields are long, 32 bits on Win64, so a
//     timeout saturates at 2^31-1 s as on a 32-bit time_t (see Timeval),
//     and selectc waits long timeouts in slices Winsock cannot misread.
//     Winsock writes no time left back; SelectFdSet counts it, as on Linux.
//   - Empty sets: Winsock fails with WSAEINVAL when all three are empty.
//     Every entry point sleeps for the timeout instead, as Linux does, so a
//     loop whose lists happen to empty out behaves the same on both
//     systems; the waits a context or Wake can end still can, since the
//     wake socket is always in their read set.
//   - Errors are Winsock's codes as syscall.Errno values (WSAGetLastError),
//     so errors.Is works with them: a closed socket, or a handle that is no
//     socket (an *os.File, a pipe), gives an *FdError naming it and wrapping
//     WSAENOTSOCK, syscall.Errno(10038), where Linux gives EBADF.
//     SelectFdSet returns Winsock's own code (WSAEOPNOTSUPP under wine).
//   - A failed non-blocking connect: Winsock reports it in the except set
//     only. Write interest (Select's wlist, Poller and Loop's Write) also
//     watches the except set and reports Write, as Linux does; Python's
//     selectors pass the write set as the except set on Windows for this.
//   - There is no EINTR; the wake descriptor is a UDP socket on 127.0.0.1
//     connected to itself, one socket being both ends of the pair.
//
// selectc calls WSAStartup when the program starts. The tests and the
// servers run under wine in make test-cross (README, "Platforms").
//
// The package requires cgo, and Linux or Windows; a build with
// CGO_ENABLED=0 or for another GOOS fails at compile time with a message
// saying why. The C libraries and architectures it is tested on are in the
// README's "Platforms" section.
package selectc
