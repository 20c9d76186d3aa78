/*
 * selectpoller_test.c: checks selectpoller and the selectwake helpers
 * against the C library and the kernel, under ASan and UBSan (see the
 * Makefile). No framework: one line per check, then
 * "selectpoller-test: N passed, M failed"; the exit status is 1 when
 * anything failed.
 */
#include "selectpoller.h"
#include "check.h"
#include "selectshim.h"
#include "selectwake.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&t, NULL);
}

/* readable polls fd for reading. */
static int readable(int fd)
{
	fd_set r;
	struct timeval tv = {0, 0};
	shim_fd_zero(&r);
	shim_fd_set(fd, &r);
	return shim_select(fd + 1, &r, NULL, NULL, &tv) == 1;
}

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* selectpoller reads fd_sets a word at a time: bit fd % B of word fd / B,
 * B the bits of an unsigned long (64, or 32 on armhf). */
static void test_word_layout(void)
{
	enum { B = 8 * sizeof(unsigned long) };
	int fds[] = {0, 1, 31, 32, 33, 63, 64, 65, 1023};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		fd_set s;
		unsigned long words[FD_SETSIZE / B];
		int fd = fds[i];
		shim_fd_zero(&s);
		shim_fd_set(fd, &s);
		memcpy(words, &s, sizeof words);
		int ok = 1;
		for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
			unsigned long want = w == (size_t)fd / B ? 1UL << (fd % B) : 0;
			ok &= words[w] == want;
		}
		check(ok, "fd %d: FD_SET sets bit %d of word %d and nothing else", fd, (int)(fd % B), (int)(fd / B));
	}
}

static void test_wake(void)
{
	int fd = -1;
	int rc = selectwake_open(&fd);
	check(rc == 0 && fd >= 0 && fd < FD_SETSIZE, "selectwake_open: fd %d in range (rc %d)", fd, rc);
	check(fcntl(fd, F_GETFL) & O_NONBLOCK, "the wake fd is non-blocking");
	check(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the wake fd is close-on-exec");
	check(!readable(fd), "a new wake fd is not readable");
	check(selectwake_signal(fd) == 0 && selectwake_signal(fd) == 0 && readable(fd), "two signals: readable");
	check(selectwake_drain(fd) == 0 && !readable(fd), "one drain empties both signals");
	check(selectwake_drain(fd) == 0, "draining an empty wake fd is not an error");
	check(selectwake_close(fd) == 0 && !is_open(fd), "selectwake_close closes it");
	check(selectwake_signal(fd) == -EBADF, "signalling a closed wake fd: -EBADF");

	/* With every number below FD_SETSIZE taken, the eventfd lands above. */
	struct rlimit lim;
	getrlimit(RLIMIT_NOFILE, &lim);
	if (lim.rlim_max < 2 * FD_SETSIZE) {
		printf("skip wake fd out of range: hard RLIMIT_NOFILE %llu\n", (unsigned long long)lim.rlim_max);
		return;
	}
	struct rlimit raised = {2 * FD_SETSIZE, lim.rlim_max};
	setrlimit(RLIMIT_NOFILE, &raised);
	static int filler[FD_SETSIZE];
	int nfill = 0, top = -1;
	while (top < FD_SETSIZE - 1 && nfill < FD_SETSIZE && (top = dup(0)) >= 0)
		filler[nfill++] = top;
	fd = -1;
	rc = selectwake_open(&fd);
	check(rc == -ERANGE && fd >= FD_SETSIZE, "selectwake_open with no number below FD_SETSIZE: -ERANGE (got %d, fd %d)",
	      rc, fd);
	check(fd >= 0 && !is_open(fd), "and the eventfd it got (%d) is closed again", fd);
	for (int i = 0; i < nfill; i++)
		close(filler[i]);
	setrlimit(RLIMIT_NOFILE, &lim);
}

static void test_registry(int wakefd)
{
	selectpoller *p = NULL;
	check(selectpoller_new(-1, &p) == -ERANGE && selectpoller_new(FD_SETSIZE, &p) == -ERANGE && !p,
	      "selectpoller_new refuses a wake fd out of range");
	check(selectpoller_new(wakefd, &p) == 0 && p, "selectpoller_new");
	int bad[] = {-1, FD_SETSIZE};
	for (int i = 0; i < 2; i++) {
		check(selectpoller_add(p, bad[i], SHIM_READ) == -ERANGE, "add fd %d: -ERANGE", bad[i]);
		check(selectpoller_mod(p, bad[i], SHIM_READ) == -ERANGE, "mod fd %d: -ERANGE", bad[i]);
		check(selectpoller_del(p, bad[i]) == -ERANGE, "del fd %d: -ERANGE", bad[i]);
	}
	check(selectpoller_add(p, 5, 0) == -EINVAL && selectpoller_add(p, 5, 8) == -EINVAL, "add with no or unknown events: -EINVAL");
	check(selectpoller_mod(p, 5, SHIM_READ) == -ENOENT && selectpoller_del(p, 5) == -ENOENT, "mod and del unregistered: -ENOENT");
	check(selectpoller_add(p, wakefd, SHIM_READ) == -EEXIST, "add the wake fd: -EEXIST");
	check(selectpoller_add(p, 5, SHIM_READ) == 0 && selectpoller_add(p, 5, SHIM_WRITE) == -EEXIST, "add twice: -EEXIST");
	check(selectpoller_add(p, 1023, SHIM_EXCEPT) == 0, "add fd 1023");
	check(selectpoller_mod(p, 5, 0) == -EINVAL && selectpoller_mod(p, 5, SHIM_WRITE) == 0, "mod");
	int fds[FD_SETSIZE];
	int n = selectpoller_fds(p, fds);
	check(n == 2 && fds[0] == 5 && fds[1] == 1023, "fds lists 5 and 1023, not the wake fd (n=%d)", n);
	check(selectpoller_del(p, 1023) == 0 && selectpoller_del(p, 5) == 0 && selectpoller_fds(p, fds) == 0, "del both");
	struct selectpoller_event ev[1];
	check(selectpoller_wait(p, ev, 0, 0) == -EINVAL, "wait with no room: -EINVAL");
	selectpoller_free(p);
}

static void test_wait(int wakefd)
{
	selectpoller *p;
	struct selectpoller_event ev[16];
	int a[2], b[2], n;

	check(selectpoller_new(wakefd, &p) == 0, "selectpoller_new");
	check(pipe(a) == 0 && pipe(b) == 0, "two pipes");
	check(selectpoller_add(p, a[0], SHIM_READ) == 0 && selectpoller_add(p, b[0], SHIM_READ | SHIM_EXCEPT) == 0 &&
	          selectpoller_add(p, b[1], SHIM_WRITE) == 0,
	      "register both read ends and one write end");
	n = selectpoller_wait(p, ev, 16, 0);
	check(n == 1 && ev[0].fd == b[1] && ev[0].ev == SHIM_WRITE, "poll: only the write end, writable (n=%d)", n);

	check(write(a[1], "x", 1) == 1, "write into pipe a");
	n = selectpoller_wait(p, ev, 16, 0);
	int lo = a[0] < b[1] ? 0 : 1;
	check(n == 2 && ev[lo].fd == a[0] && ev[lo].ev == SHIM_READ && ev[1 - lo].fd == b[1],
	      "poll: a's read end readable and b's write end, in fd order (n=%d)", n);

	check(selectpoller_mod(p, b[1], SHIM_READ) == 0, "b's write end: read interest only");
	n = selectpoller_wait(p, ev, 16, 0);
	check(n == 1 && ev[0].fd == a[0], "poll after mod: a's read end only (n=%d)", n);

	char c;
	check(read(a[0], &c, 1) == 1, "drain pipe a");
	int64_t t0 = now_ns();
	n = selectpoller_wait(p, ev, 16, 20000000);
	int64_t took = now_ns() - t0;
	check(n == 0 && took >= 20000000, "20 ms with nothing ready: 0 after %lld ns", (long long)took);

	check(selectwake_signal(wakefd) == 0, "signal the wake fd");
	t0 = now_ns();
	n = selectpoller_wait(p, ev, 16, -1);
	took = now_ns() - t0;
	check(n == 0 && took < 1000000000, "a wake ends a blocking wait with nothing reported (%lld ns)", (long long)took);
	check(!readable(wakefd), "and the wait drained the wake fd");

	/* More ready than room: successive waits take turns. */
	int many[12][2], seen[FD_SETSIZE] = {0}, distinct = 0;
	for (int i = 0; i < 12; i++) {
		if (pipe(many[i]) != 0 || write(many[i][1], "y", 1) != 1 || selectpoller_add(p, many[i][0], SHIM_READ) != 0)
			check(0, "pipe %d", i);
	}
	for (int round = 0; round < 4; round++) {
		n = selectpoller_wait(p, ev, 4, 0);
		check(n == 4, "round %d with room for 4 of 12 ready: 4 (got %d)", round, n);
		for (int i = 0; i < n; i++)
			if (!seen[ev[i].fd]++)
				distinct++;
	}
	check(distinct == 12, "4 waits of 4 reported all 12 ready descriptors (%d distinct)", distinct);
	for (int i = 0; i < 12; i++) {
		selectpoller_del(p, many[i][0]);
		close(many[i][0]);
		close(many[i][1]);
	}

	/* A registered descriptor closed: EBADF. */
	close(a[0]);
	n = selectpoller_wait(p, ev, 16, -1);
	check(n == -EBADF, "a registered fd closed: -EBADF (got %d)", n);
	check(selectpoller_del(p, a[0]) == 0 && selectpoller_wait(p, ev, 16, 0) == 0, "unregistered, the wait works again");

	close(a[1]);
	close(b[0]);
	close(b[1]);
	selectpoller_free(p);
}

struct waiter {
	selectpoller *p;
	int64_t timeout_ns;
	int n;
	struct selectpoller_event ev[4];
	int64_t took_ns;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = now_ns();
	w->n = selectpoller_wait(w->p, w->ev, 4, w->timeout_ns);
	w->took_ns = now_ns() - t0;
	return NULL;
}

/* A descriptor removed during a wait, closed, and its number given to a
 * new file registered again, is not reported by that wait. */
static void test_stale(int wakefd)
{
	selectpoller *p;
	int old[2], fresh[2];
	check(selectpoller_new(wakefd, &p) == 0 && pipe(old) == 0, "poller and a pipe");
	int num = old[0];
	check(selectpoller_add(p, num, SHIM_READ) == 0, "register fd %d", num);
	struct waiter w = {p, 5000000000LL, 0, {{0, 0}}, 0};
	pthread_t t;
	pthread_create(&t, NULL, wait_thread, &w);
	sleep_ms(30); /* the wait is asleep in select */
	check(selectpoller_del(p, num) == 0, "unregister fd %d during the wait", num);
	close(num);
	int rc = pipe(fresh);
	check(rc == 0 && fresh[0] == num, "a new pipe gets the number %d (got %d)", num, fresh[0]);
	check(write(fresh[1], "z", 1) == 1 && selectpoller_add(p, num, SHIM_READ) == 0, "with data, registered again");
	close(old[1]); /* the old file turns readable: the wait wakes */
	pthread_join(t, NULL);
	check(w.n == 0, "the wait in progress reported nothing (n=%d)", w.n);
	struct selectpoller_event ev[4];
	int n = selectpoller_wait(p, ev, 4, 0);
	check(n == 1 && ev[0].fd == num, "the next wait reports the new registration (n=%d)", n);
	selectpoller_del(p, num);
	close(fresh[0]);
	close(fresh[1]);
	selectpoller_free(p);
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A signal interrupting a wait is retried, against the first deadline. */
static void test_eintr(int wakefd)
{
	selectpoller *p;
	check(selectpoller_new(wakefd, &p) == 0, "selectpoller_new");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	struct waiter w = {p, 300000000, 0, {{0, 0}}, 0};
	pthread_t t;
	pthread_create(&t, NULL, wait_thread, &w);
	sleep_ms(100);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	check(selectpoller_eintr(p) == 1, "the signal interrupted select once (%llu)", (unsigned long long)selectpoller_eintr(p));
	check(w.n == 0, "the wait was retried and timed out (n=%d)", w.n);
	check(w.took_ns >= 290000000 && w.took_ns < 390000000,
	      "300 ms in all, not 300 ms after the signal: %lld ns", (long long)w.took_ns);
	signal(SIGUSR1, SIG_DFL);
	selectpoller_free(p);
}

/* Shutdown ends every wait in progress, and every call after it fails. */
static void test_shutdown(int wakefd)
{
	selectpoller *p;
	check(selectpoller_new(wakefd, &p) == 0, "selectpoller_new");
	struct waiter w[2] = {{p, -1, 0, {{0, 0}}, 0}, {p, -1, 0, {{0, 0}}, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, wait_thread, &w[i]);
	sleep_ms(30);
	check(selectpoller_shutdown(p) == 0, "shutdown with two waits blocked");
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		check(w[i].n == -ESHUTDOWN, "wait %d ended with -ESHUTDOWN (got %d)", i, w[i].n);
	}
	struct selectpoller_event ev[1];
	check(selectpoller_add(p, 5, SHIM_READ) == -ESHUTDOWN && selectpoller_mod(p, 5, SHIM_READ) == -ESHUTDOWN &&
	          selectpoller_del(p, 5) == -ESHUTDOWN && selectpoller_wait(p, ev, 1, 0) == -ESHUTDOWN,
	      "every call after shutdown: -ESHUTDOWN");
	check(selectpoller_shutdown(p) == -ESHUTDOWN, "a second shutdown: -ESHUTDOWN");
	selectpoller_free(p);
	selectwake_drain(wakefd);
}

int main(void)
{
	int wakefd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_word_layout();
	test_wake();
	if (selectwake_open(&wakefd) != 0) {
		perror("selectwake_open");
		return 1;
	}
	test_registry(wakefd);
	test_wait(wakefd);
	test_stale(wakefd);
	test_eintr(wakefd);
	test_shutdown(wakefd);
	selectwake_close(wakefd);
	return check_done("selectpoller-test");
}
