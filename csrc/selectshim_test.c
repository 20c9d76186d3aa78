/*
 * selectshim_test.c: checks the selectshim functions against the C library
 * and the kernel. No framework: one line per check, then "N passed, M failed";
 * the exit status is 1 when anything failed.
 */
#include "selectshim.h"
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* An fd_set between guard bytes, so a stray write next to it shows up too. */
struct guarded {
	unsigned char before[64];
	fd_set set;
	unsigned char after[64];
};

static void test_fd_macros(void)
{
	struct guarded g, snap;

	check(FD_SETSIZE == 1024, "FD_SETSIZE is 1024 (got %d)", FD_SETSIZE);
	check(shim_fd_setsize() == FD_SETSIZE, "shim_fd_setsize() == FD_SETSIZE (got %d)", shim_fd_setsize());

	memset(&g, 0xA5, sizeof g);
	shim_fd_zero(&g.set);
	int all_zero = 1;
	for (size_t i = 0; i < sizeof g.set; i++)
		all_zero &= ((unsigned char *)&g.set)[i] == 0;
	check(all_zero, "shim_fd_zero clears every byte of the set");
	int guards_kept = 1;
	for (size_t i = 0; i < sizeof g.before; i++)
		guards_kept &= g.before[i] == 0xA5 && g.after[i] == 0xA5;
	check(guards_kept, "shim_fd_zero leaves the guard bytes alone");

	int fds[] = {0, 1023};
	for (int k = 0; k < 2; k++) {
		int fd = fds[k];
		check(shim_fd_isset(fd, &g.set) == 0, "fd %d: not a member of an empty set", fd);
		check(shim_fd_set(fd, &g.set) == 0, "fd %d: shim_fd_set returns 0", fd);
		check(shim_fd_isset(fd, &g.set) == 1, "fd %d: member after shim_fd_set", fd);
		check(FD_ISSET(fd, &g.set), "fd %d: the C library's FD_ISSET agrees", fd);
		int others = 0;
		for (int j = 0; j < FD_SETSIZE; j++)
			others += j != fd && shim_fd_isset(j, &g.set);
		check(others == 0, "fd %d: no other fd became a member (%d did)", fd, others);
		check(shim_fd_clr(fd, &g.set) == 0, "fd %d: shim_fd_clr returns 0", fd);
		check(shim_fd_isset(fd, &g.set) == 0, "fd %d: not a member after shim_fd_clr", fd);
	}

	/* Out of range must fail and touch nothing, with a member in the set to keep. */
	shim_fd_set(5, &g.set);
	int bad[] = {-1, 1024};
	for (int k = 0; k < 2; k++) {
		int fd = bad[k];
		memcpy(&snap, &g, sizeof g);
		check(shim_fd_set(fd, &g.set) == -ERANGE, "fd %d: shim_fd_set returns -ERANGE", fd);
		check(memcmp(&snap, &g, sizeof g) == 0, "fd %d: shim_fd_set left the set and guards untouched", fd);
		check(shim_fd_clr(fd, &g.set) == -ERANGE, "fd %d: shim_fd_clr returns -ERANGE", fd);
		check(memcmp(&snap, &g, sizeof g) == 0, "fd %d: shim_fd_clr left the set and guards untouched", fd);
		check(shim_fd_isset(fd, &g.set) == 0, "fd %d: shim_fd_isset says not a member", fd);
	}
	check(shim_fd_isset(5, &g.set) == 1, "fd 5 is still a member after the out-of-range calls");
}

static void test_timeval(void)
{
	static const struct {
		int64_t ns;
		long sec, usec;
	} cases[] = {
		{0, 0, 0},
		{1, 0, 1},
		{999, 0, 1},
		{1000, 0, 1},
		{1001, 0, 2},
		{1500000000, 1, 500000},
		{999999001, 1, 0},   /* rounds up across the second: usec stays < 1e6 */
		{-1, 0, 0},
		{-1500000000, 0, 0},
		{INT64_MIN, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct timeval tv = shim_timeval_from_ns(cases[i].ns);
		check(tv.tv_sec == cases[i].sec && tv.tv_usec == cases[i].usec,
		      "shim_timeval_from_ns(%lld) = {%ld, %ld} (want {%ld, %ld})", (long long)cases[i].ns,
		      (long)tv.tv_sec, (long)tv.tv_usec, cases[i].sec, cases[i].usec);
	}

	/* Past what time_t holds (2^31-1 s where it is 32 bits), tv_sec
	 * saturates: 100 years and INT64_MAX ns must not wrap to a negative
	 * (EINVAL) or a short wait. */
	int64_t max = shim_time_max();
	check(max == (sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX), "shim_time_max() = %lld for a %d-byte time_t",
	      (long long)max, (int)sizeof(time_t));
	static const int64_t huge_sec[] = {3153600000, 9223372036}; /* 100 years; INT64_MAX ns, rounded up */
	static const int64_t huge_ns[] = {3153600000 * (int64_t)1000000000, INT64_MAX};
	static const long huge_usec[] = {0, 854776};
	for (int i = 0; i < 2; i++) {
		struct timeval tv = shim_timeval_from_ns(huge_ns[i]);
		int64_t sec = huge_sec[i] > max ? max : huge_sec[i];
		long usec = huge_sec[i] > max ? 999999 : huge_usec[i];
		check((int64_t)tv.tv_sec == sec && tv.tv_usec == usec,
		      "shim_timeval_from_ns(%lld) = {%lld, %ld} (want {%lld, %ld}, time_t %d bytes)", (long long)huge_ns[i],
		      (long long)tv.tv_sec, (long)tv.tv_usec, (long long)sec, usec, (int)sizeof(time_t));
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* The time left after EINTR is the kernel's on glibc, but musl hands the
 * kernel a copy and qemu-user writes nothing back on EINTR: shim_select
 * counts it itself, so it holds everywhere. */
static void test_select_eintr(int p[2])
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: select ends with EINTR */
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	fd_set r;
	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	struct timeval tv = {1, 0};
	int n = shim_select(p[0] + 1, &r, NULL, NULL, &tv);
	int64_t left = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	check(n == -EINTR, "shim_select interrupted by SIGALRM after 50 ms returns -EINTR (got %d)", n);
	check(left > 500000 && left < 1000000, "time left after EINTR, 50 ms into 1 s: %lld us (want in (0.5 s, 1 s))",
	      (long long)left);
	sigaction(SIGALRM, &old, NULL);
}

/* shim_select_retry, the one EINTR rule: three signals 50 ms apart into a
 * 300 ms wait on an empty pipe are counted and retried, and the wait ends
 * at the first call's deadline, not 300 ms after the last signal. */
static void test_select_retry(int p[2])
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = {{0, 50000}, {0, 50000}}, off = {{0, 0}, {0, 0}};
	fd_set r;
	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	struct timeval tv = {0, 300000};
	uint64_t eintr = 0;
	int64_t t0 = now_ns();
	setitimer(ITIMER_REAL, &it, NULL);
	int n = shim_select_retry(p[0] + 1, &r, NULL, NULL, &tv, &eintr);
	setitimer(ITIMER_REAL, &off, NULL);
	int64_t took = now_ns() - t0;
	sigaction(SIGALRM, &old, NULL);
	check(n == 0 && !shim_fd_isset(p[0], &r), "shim_select_retry on an empty pipe times out, set cleared (got %d)", n);
	check(eintr >= 3, "shim_select_retry counted the signals (%llu, want 3 or more)", (unsigned long long)eintr);
	check(took >= 290000000 && took < 400000000, "300 ms in all, not 300 ms after the last signal: %lld ns",
	      (long long)took);
	check(tv.tv_sec == 0 && tv.tv_usec == 0, "no time left after the timeout ({%ld, %ld})", (long)tv.tv_sec,
	      (long)tv.tv_usec);
	tv = (struct timeval){0, 1};
	check(shim_select_retry(FD_SETSIZE + 1, NULL, NULL, NULL, &tv, NULL) == -ERANGE && tv.tv_usec == 1,
	      "shim_select_retry refuses a bad nfds as shim_select does, without a system call");
}

static void test_select(int p[2])
{
	fd_set r;
	struct timeval tv;
	int n;

	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	tv = (struct timeval){0, 0};
	n = shim_select(p[0] + 1, &r, NULL, NULL, &tv);
	check(n == 0 && !shim_fd_isset(p[0], &r), "shim_select: empty pipe not readable with a 0 timeout (n=%d)", n);

	check(write(p[1], "x", 1) == 1, "write one byte into the pipe");
	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	tv = (struct timeval){0, 0};
	n = shim_select(p[0] + 1, &r, NULL, NULL, &tv);
	check(n == 1 && shim_fd_isset(p[0], &r), "shim_select: pipe readable after a write (n=%d)", n);

	/* Ready at once: the kernel hands back nearly the whole second. */
	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	tv = (struct timeval){1, 0};
	n = shim_select(p[0] + 1, &r, NULL, NULL, &tv);
	int64_t left = (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
	check(n == 1 && left > 900000000, "shim_select: ready pipe with 1 s leaves %lld ns (> 0.9 s)", (long long)left);

	char c;
	check(read(p[0], &c, 1) == 1, "drain the pipe");

	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	tv = (struct timeval){0, 20000};
	int64_t t0 = now_ns();
	n = shim_select(p[0] + 1, &r, NULL, NULL, &tv);
	int64_t took = now_ns() - t0;
	check(n == 0 && tv.tv_sec == 0 && tv.tv_usec == 0, "shim_select: 20 ms on an empty pipe times out, left {%ld, %ld}",
	      (long)tv.tv_sec, (long)tv.tv_usec);
	check(took >= 20000000, "shim_select: the 20 ms timeout really waited (%lld ns)", (long long)took);

	/* The largest timeval, saturated where time_t is 32 bits, waits: a
	 * ready pipe is reported and the time left is in range. */
	check(write(p[1], "x", 1) == 1, "write one byte into the pipe");
	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	tv = shim_timeval_from_ns(INT64_MAX);
	struct timeval given = tv;
	n = shim_select(p[0] + 1, &r, NULL, NULL, &tv);
	check(n == 1 && tv.tv_sec >= 0 && tv.tv_sec <= given.tv_sec && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
	      "shim_select with {%lld, %ld} on a ready pipe: 1 (got %d), time left {%lld, %ld} in range",
	      (long long)given.tv_sec, (long)given.tv_usec, n, (long long)tv.tv_sec, (long)tv.tv_usec);
	check(read(p[0], &c, 1) == 1, "drain the pipe");

	/* A bad nfds must not reach the kernel, which would write the unused time back. */
	int bad_nfds[] = {FD_SETSIZE + 1, -1};
	for (int k = 0; k < 2; k++) {
		tv = (struct timeval){0, 1};
		n = shim_select(bad_nfds[k], NULL, NULL, NULL, &tv);
		check(n == -ERANGE, "shim_select(nfds=%d) returns -ERANGE (got %d)", bad_nfds[k], n);
		check(tv.tv_sec == 0 && tv.tv_usec == 1, "shim_select(nfds=%d) did not call select (timeval untouched)",
		      bad_nfds[k]);
	}

	/* Nor a timeval glibc would misread: it keeps 32 bits of tv_usec, so
	 * 1<<32 µs would poll and 1<<32 + 300000 wait 0.3 s. Those two exist
	 * only where suseconds_t is 64 bits. */
	int64_t big = (int64_t)1 << 32;
	struct timeval bad_tv[] = {{-1, 0}, {0, -1}, {0, 1000000}, {0, 0}, {0, 0}};
	size_t nbad = 3;
	if (sizeof(suseconds_t) == 8) {
		bad_tv[nbad++].tv_usec = (suseconds_t)big;
		bad_tv[nbad++].tv_usec = (suseconds_t)(big + 300000);
	}
	for (size_t k = 0; k < nbad; k++) {
		tv = bad_tv[k];
		int64_t t0 = now_ns();
		n = shim_select(p[0] + 1, NULL, NULL, NULL, &tv);
		int64_t took = now_ns() - t0;
		check(n == -EINVAL && took < 100000000 && tv.tv_sec == bad_tv[k].tv_sec && tv.tv_usec == bad_tv[k].tv_usec,
		      "shim_select with timeval {%ld, %ld}: -EINVAL, untouched, no wait (got %d after %lld ns)",
		      (long)bad_tv[k].tv_sec, (long)bad_tv[k].tv_usec, n, (long long)took);
	}
}

static void test_batch(int p[2])
{
	/* Entry 2 repeats fd p[0]; entry 3 asks for reading on the write end. */
	int fds[] = {p[0], p[1], p[0], p[1]};
	uint8_t ev[4];
	int n;

	memcpy(ev, (uint8_t[]){SHIM_READ, SHIM_WRITE, SHIM_READ | SHIM_EXCEPT, SHIM_READ}, 4);
	n = shim_select_batch(fds, ev, 4, 0, NULL);
	check(n == 1, "batch on an empty pipe: 1 ready bit (write end writable), got %d", n);
	check(ev[0] == 0 && ev[1] == SHIM_WRITE && ev[2] == 0 && ev[3] == 0,
	      "batch on an empty pipe: ev = {0, W, 0, 0} (got {%d, %d, %d, %d})", ev[0], ev[1], ev[2], ev[3]);

	check(write(p[1], "y", 1) == 1, "write one byte into the pipe");
	memcpy(ev, (uint8_t[]){SHIM_READ, SHIM_WRITE, SHIM_READ | SHIM_EXCEPT, SHIM_READ}, 4);
	n = shim_select_batch(fds, ev, 4, 1000000000, NULL);
	check(n == 2, "batch after a write: 2 ready bits, counted per set not per entry (got %d)", n);
	check(ev[0] == SHIM_READ && ev[1] == SHIM_WRITE && ev[2] == SHIM_READ && ev[3] == 0,
	      "batch after a write: ev = {R, W, R, 0}, repeated fd answered twice (got {%d, %d, %d, %d})",
	      ev[0], ev[1], ev[2], ev[3]);

	char c;
	check(read(p[0], &c, 1) == 1, "drain the pipe");

	int only_read[] = {p[0]};
	ev[0] = SHIM_READ;
	int64_t t0 = now_ns();
	n = shim_select_batch(only_read, ev, 1, 20000000, NULL);
	int64_t took = now_ns() - t0;
	check(n == 0 && ev[0] == 0, "batch: 20 ms on an empty pipe times out, ev %d", ev[0]);
	check(took >= 20000000, "batch: the 20 ms timeout really waited (%lld ns)", (long long)took);

	/* A socket with data is readable and writable: both bits in one entry. */
	int sv[2];
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && write(sv[0], "z", 1) == 1,
	      "socketpair with one byte in flight");
	ev[0] = SHIM_READ | SHIM_WRITE | SHIM_EXCEPT;
	n = shim_select_batch(&sv[1], ev, 1, 0, NULL);
	check(n == 2 && ev[0] == (SHIM_READ | SHIM_WRITE), "batch: one entry reports R|W together (n=%d, ev=%d)", n,
	      ev[0]);
	close(sv[0]);
	close(sv[1]);

	/* Out of range: -ERANGE, ev untouched, and no select (a 1 s wait would show). */
	int cases[][3] = {{p[0], 1024, p[1]}, {-1, p[0], p[1]}};
	int bad[] = {1024, -1};
	for (int k = 0; k < 2; k++) {
		memcpy(ev, (uint8_t[]){SHIM_READ, SHIM_READ, SHIM_WRITE}, 3);
		t0 = now_ns();
		n = shim_select_batch(cases[k], ev, 3, 1000000000, NULL);
		took = now_ns() - t0;
		check(n == -ERANGE, "batch with fd %d: -ERANGE (got %d)", bad[k], n);
		check(ev[0] == SHIM_READ && ev[1] == SHIM_READ && ev[2] == SHIM_WRITE,
		      "batch with fd %d: ev untouched", bad[k]);
		check(took < 100000000, "batch with fd %d: returned without waiting (%lld ns)", bad[k], (long long)took);
	}
}

/* A set with nothing in it goes to the kernel as NULL (selectshim_unix.h's
 * in_use), which spares the kernel copying it in and its answer back out.
 * In read-only memory a set the kernel is given draws EFAULT when it
 * writes the answer back: sets of zero words there draw none, and a set
 * with a bit in it there does. */
static void test_empty_sets(int p[2])
{
	fd_set *ro = mmap(NULL, 2 * sizeof(fd_set), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(ro != MAP_FAILED, "mmap two fd_sets"))
		return;
	shim_fd_zero(&ro[0]);
	shim_fd_zero(&ro[1]);
	shim_fd_set(p[0], &ro[1]);
	check(mprotect(ro, 2 * sizeof(fd_set), PROT_READ) == 0, "make them read-only");

	fd_set r;
	shim_fd_zero(&r);
	shim_fd_set(p[0], &r);
	struct timeval tv = {0, 0};
	int n = shim_select(p[0] + 1, &r, &ro[0], &ro[0], &tv);
	check(n >= 0, "shim_select: empty write and except sets in read-only memory go as NULL (n=%d)", n);
	shim_fd_zero(&r);
	tv = (struct timeval){0, 0};
	n = shim_select(p[0] + 1, &r, NULL, &ro[1], &tv);
	check(n == -EFAULT, "shim_select: a set with a bit in it goes to the kernel, which cannot write read-only memory (n=%d, want %d)", n, -EFAULT);
	munmap(ro, 2 * sizeof(fd_set));
}

int main(void)
{
	int p[2];

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_fd_macros();
	test_timeval();
	if (pipe(p) != 0) {
		perror("pipe");
		return 1;
	}
	test_select(p);
	test_select_eintr(p);
	test_select_retry(p);
	test_batch(p);
	test_empty_sets(p);
	close(p[0]);
	close(p[1]);
	return check_done("selectshim-test");
}
