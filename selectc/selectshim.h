/*
 * selectshim: thin C shims over the C library's select(2) and its fd_set
 * macros, shared by the Go package selectc (through cgo) and the C prototype
 * echo server.
 *
 * Every function checks an fd before it touches an fd_set. On Unix that is
 * 0 <= fd < FD_SETSIZE: FD_SET and friends index a fixed 1024-bit array
 * with no bounds check (undefined behaviour; glibc aborts only under
 * _FORTIFY_SOURCE). On Windows an fd_set is Winsock's list of SOCKETs
 * (fd_count, fd_array), FD_SETSIZE counts its entries, and the check is a
 * count: selectshim_windows.c says what differs there, once.
 * One convention for all of selectc's C (libuv's): a call that can fail
 * returns 0, or a count where it says so, or -errno, so errno never
 * crosses the cgo boundary; any other result comes back through an
 * out-parameter.
 */
#ifndef SELECTSHIM_H
#define SELECTSHIM_H

#include <stdint.h>

/* shim_sec_t and shim_usec_t are the types of struct timeval's fields:
 * time_t and suseconds_t on Unix, long (32 bits, even on Win64) in
 * Winsock. SHIM_FD_SETSIZE is the fd_set capacity selectc is built with:
 * the C library's own on Unix; on Windows the header may set it, and
 * selectc sets it to glibc's 1024 (package doc, "Windows", says why). */
#ifdef _WIN32
#define SHIM_FD_SETSIZE 1024
#ifndef FD_SETSIZE
#define FD_SETSIZE SHIM_FD_SETSIZE
#endif
#include <winsock2.h>
#include <errno.h>
#define ESHUTDOWN WSAESHUTDOWN /* the registry's "closed"; mingw's errno.h has no ESHUTDOWN */
typedef long shim_sec_t;
typedef long shim_usec_t;
#define SHIM_NFDS_USED 0       /* Winsock ignores select's nfds */
#define SHIM_WRITE_IN_EXCEPT 1 /* a failed connect is in the except set */
#else
#include <sys/select.h>
#include <sys/time.h>
#define SHIM_FD_SETSIZE FD_SETSIZE
typedef time_t shim_sec_t;
typedef suseconds_t shim_usec_t;
#define SHIM_NFDS_USED 1
#define SHIM_WRITE_IN_EXCEPT 0
#endif
_Static_assert(FD_SETSIZE == SHIM_FD_SETSIZE, "winsock2.h was included before selectshim.h set FD_SETSIZE");

/* What the timeval conversions below rely on, on every C library. */
_Static_assert((shim_sec_t)-1 < 0, "tv_sec is a signed integer type");
_Static_assert(sizeof(shim_sec_t) == 4 || sizeof(shim_sec_t) == 8, "tv_sec is 32 or 64 bits");

/* Interest and readiness bits of one entry of a batched select: bit k is
 * the k-th fd_set of select(2) (read, write, except), which the loops over
 * three sets in the C and selectc.Events rely on. */
enum {
	SHIM_READ   = 1,
	SHIM_WRITE  = 2,
	SHIM_EXCEPT = 4,
};
_Static_assert(SHIM_READ == 1 << 0 && SHIM_WRITE == 1 << 1 && SHIM_EXCEPT == 1 << 2,
               "bit k of an event set is select's k-th fd_set");

/* FD_SETSIZE of the C library this was compiled against (1024 on glibc). */
int shim_fd_setsize(void);

/* The four macros as functions. FD_SET and FD_CLR return 0, or -ERANGE
 * (touching nothing) when fd is out of range: outside [0, FD_SETSIZE), or
 * on Windows negative. On Windows FD_SET returns -ENOSPC, touching
 * nothing, when fd is not a member and the set already holds FD_SETSIZE
 * sockets (Winsock's macro would drop it silently). FD_ISSET returns 1 or
 * 0; an out-of-range fd is never a member. */
void shim_fd_zero(fd_set *set);
int  shim_fd_set(int fd, fd_set *set);
int  shim_fd_clr(int fd, fd_set *set);
int  shim_fd_isset(int fd, const fd_set *set);

/* shim_time_max is the largest tv_sec: 2^63-1, or 2^31-1 seconds (about
 * 68 years) where it is 32 bits (time_t on glibc's armhf and i386, long
 * on Windows). Every timeout selectc hands select(2) saturates at it,
 * never wraps. */
int64_t shim_time_max(void);

/* shim_timeval_from_ns turns a duration in nanoseconds into a timeval,
 * rounding UP to whole microseconds so that a positive timeout never becomes
 * a poll, and saturating tv_sec at shim_time_max. Negative durations become
 * zero. */
struct timeval shim_timeval_from_ns(int64_t ns);

/* shim_select is select(2) as C has it. nfds must be in [0, FD_SETSIZE];
 * tv may be NULL (block). On return *tv holds the time not used (zero on a
 * timeout), as the Linux kernel writes it, whatever the C library or an
 * emulator passes back: musl hands the kernel a copy, and qemu-user writes
 * nothing back on EINTR, so this counts it on the monotonic clock itself.
 * Returns the number of ready bits, or -errno; without calling the
 * kernel, -ERANGE for an nfds outside [0, FD_SETSIZE] (as for an fd: past
 * FD_SETSIZE select would read beyond the sets), and -EINVAL for a timeval
 * glibc would misread (a negative field, or tv_usec of a second or more:
 * glibc keeps only its low 32 bits). On Windows Winsock's select stands in
 * for select(2) with Linux's answers: nfds is checked, then ignored;
 * three empty sets sleep for the timeout instead of failing with
 * WSAEINVAL; errors are -WSAGetLastError() (selectshim_windows.h). */
int shim_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);

/* shim_select_retry is shim_select retried after EINTR, and the one home of
 * selectc's EINTR rule: every wait of the library (Select and SelectContext
 * through shim_select_batch, the Poller, the Loop) goes through it, and only
 * SelectFdSet, which is select(2) as C has it, hands EINTR back. A signal
 * interrupting the call is counted in *eintr (when eintr is not NULL) and
 * the select made again on the same sets (Linux leaves them as they were
 * when select fails) with the time left on the monotonic clock, so the
 * first call's deadline holds (PEP 475); once it has passed, the last try
 * polls. Retrying here, in C, costs no cgo crossing per signal (the Go
 * runtime's preemption signal lands in long selects), and it is the only
 * place that can retry for the Loop, whose Run is one C call for its life.
 * On return *tv holds the time not used, as shim_select's does, so a
 * caller that retries on other grounds (a stale EBADF) keeps the deadline
 * too. Arguments and errors as shim_select's, EINTR never among them. */
int shim_select_retry(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv, uint64_t *eintr);

/* shim_select_batch is one whole select in one call: entry i asks for the
 * events ev[i] (SHIM_READ|SHIM_WRITE|SHIM_EXCEPT) on fds[i]. Entries may
 * repeat an fd. It builds the three fd_sets, calls select once with nfds one
 * above the highest fd, and overwrites ev[i] with the subset of the asked
 * events that are ready.
 *
 * timeout_ns < 0 blocks; 0 polls; > 0 is rounded up to whole microseconds.
 *
 * Returns select's count (ready bits, not entries), or -errno. An fd outside
 * [0, FD_SETSIZE) gives -ERANGE and no system call; a negative n gives
 * -EINVAL. EINTR is retried by shim_select_retry, which counts it in
 * *eintr (eintr may be NULL). ev[] is only rewritten on success.
 * On Windows (SHIM_WRITE_IN_EXCEPT) a SHIM_WRITE entry sits in the except
 * set too and an except there reads as SHIM_WRITE, since Winsock reports a
 * failed non-blocking connect only in the except set; an fd is out of
 * range only when negative, and more than FD_SETSIZE distinct sockets in
 * one set give -ENOSPC. */
int shim_select_batch(const int *fds, uint8_t *ev, int n, int64_t timeout_ns, uint64_t *eintr);

#endif /* SELECTSHIM_H */
