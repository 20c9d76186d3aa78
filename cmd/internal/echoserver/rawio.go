package echoserver

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawRead and rawWrite are read(2) and write(2) on a non-blocking socket,
// made with RawSyscall: such a call never blocks, so the scheduler's syscall
// bookkeeping (entersyscall/exitsyscall, ~170 instructions a call under
// callgrind) buys nothing. The C server pays for neither.
func rawRead(fd int, p []byte) (int, error) {
	return rawIO(unix.SYS_READ, fd, p)
}

func rawWrite(fd int, p []byte) (int, error) {
	return rawIO(unix.SYS_WRITE, fd, p)
}

func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	var buf unsafe.Pointer
	if len(p) > 0 {
		buf = unsafe.Pointer(&p[0])
	}
	n, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(buf), uintptr(len(p)))
	if errno != 0 {
		return 0, syscall.Errno(errno)
	}
	return int(n), nil
}
