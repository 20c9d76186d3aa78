//go:build asan

package selectc

// asanBuild: the tests run under -asan (make test-c), where the compiler
// treats a raw system call's pointer arguments as escaping, so the fast
// paths' scratch sets move to the heap.
const asanBuild = true
