# The flag sets every piece of C in the project is compiled with, and their
# one home. The Makefile includes this file; selectc's #cgo line is generated
# from it (go generate ./selectc); serverproc (the builds `go test` makes
# without make) and echo-bench (its environment header) read it through
# cmd/internal/cflags. One NAME := value per line.

# Every build, optimised or sanitized.
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
# Optimised builds (cgo, bin/echo-server-c): FORTIFY turns a range check
# missed on the Go side into an abort instead of memory corruption.
CFLAGS_OPT := -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
# The C tests and bin/echo-server-c-asan.
CFLAGS_ASAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# The C tests where threads meet.
CFLAGS_TSAN := -O1 -g -fsanitize=thread
# Every Windows C build (mingw-w64): C99's printf formats (%zd) in mingw's
# stdio, not msvcrt's.
CFLAGS_WINDOWS := -D__USE_MINGW_ANSI_STDIO=1
# What a Windows build of the library links (mingw-w64): Winsock, and
# winpthreads (selectloop's mutexes, clock_gettime) linked in statically,
# so a program needs no DLL beyond Windows' own.
LDFLAGS_WINDOWS := -lws2_32 -Wl,-Bstatic -lpthread -Wl,-Bdynamic
