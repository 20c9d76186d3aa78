package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// injectEnv, when set to an errno name, makes the test binary a fault
// injector instead of a test run: it installs a seccomp filter under which
// accept(2) and accept4(2) fail with that errno, then execs its arguments
// (the server). The kernel never dequeues a connection, so the error
// persists for as long as clients wait: the worst case of an accept error.
const injectEnv = "SELECTC_INJECT_ACCEPT_ERRNO"

// injectable are the errnos the injector knows.
var injectable = map[string]unix.Errno{
	"ENOBUFS": unix.ENOBUFS, // a resource running out
	"EINVAL":  unix.EINVAL,  // what nobody expects: the listener itself is broken
}

// injectOptions runs a server under the injector with errno name.
func injectOptions(name string) func(spec serverproc.Spec) serverproc.Options {
	return func(serverproc.Spec) serverproc.Options {
		return serverproc.Options{CPU: -1, Wrap: []string{os.Args[0]}, Env: []string{injectEnv + "=" + name}}
	}
}

// runInjector is the injector's main; it returns only on failure.
func runInjector(name string, argv []string) error {
	errno, ok := injectable[name]
	if !ok || len(argv) == 0 {
		return fmt.Errorf("inject: unknown errno %q or no command", name)
	}
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("inject: the filter is written for amd64, not %s", runtime.GOARCH)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	// The filter belongs to this thread, and exec keeps the thread's filter.
	runtime.LockOSThread()
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.AUDIT_ARCH_X86_64, Jt: 0, Jf: 3},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_ACCEPT, Jt: 2, Jf: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_ACCEPT4, Jt: 1, Jf: 0},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return os.NewSyscallError("seccomp", e)
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if len(kv) < len(injectEnv) || kv[:len(injectEnv)] != injectEnv {
			env = append(env, kv)
		}
	}
	return unix.Exec(path, argv, env)
}
