/*
 * selectloop_test.c: checks selectloop (see selectloop.h) on real pipes and
 * sockets: the API contract on one thread, dispatch and changes made from
 * dispatch, stop from another thread, then threads hammering the registry
 * while the loop dispatches. The Makefile builds it twice, under ASan+UBSan
 * and under ThreadSanitizer. No framework: one line per check, then
 * "selectloop-test: N passed, M failed"; the exit status is 1 when anything
 * failed (a watchdog fails the run if it hangs).
 */
#include "selectloop.h"
#include "check.h"
#include "selectshim.h"
#include "selectwake.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EV_ALL (SHIM_READ | SHIM_WRITE | SHIM_EXCEPT)
#define WATCHDOG_S 60

static void sleep_us(long us)
{
	struct timespec t = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static void *watchdog(void *arg)
{
	(void)arg;
	sleep_us((long)WATCHDOG_S * 1000000);
	printf("FAIL watchdog: still running after %d s\n", WATCHDOG_S);
	printf("selectloop-test: %d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed) + 1);
	fflush(stdout);
	_exit(1);
}

/* readable_pair makes a socketpair with one byte in flight towards sv[0], so
 * that sv[0] is readable (and writable) until someone reads it. */
static int readable_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	if (write(sv[1], "r", 1) != 1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return 0;
}

static void close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* tcp_pair connects two TCP sockets over loopback (TCP has urgent data,
 * which is what select reports as an exceptional condition). */
static int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	int ln = socket(AF_INET, SOCK_STREAM, 0);
	if (ln < 0)
		return -1;
	if (bind(ln, (struct sockaddr *)&a, sizeof a) != 0 || listen(ln, 1) != 0 ||
	    getsockname(ln, (struct sockaddr *)&a, &alen) != 0) {
		close(ln);
		return -1;
	}
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&a, sizeof a) != 0) {
		if (*cli >= 0)
			close(*cli);
		close(ln);
		return -1;
	}
	*srv = accept(ln, NULL, NULL);
	close(ln);
	if (*srv < 0) {
		close(*cli);
		return -1;
	}
	return 0;
}

/* find_eventfd returns the one open eventfd (the loop's wake fd), or -1 when
 * there is none or more than one. */
static int find_eventfd(void)
{
	int found = -1, n = 0;
	char path[64], link[64];
	for (int fd = 0; fd < FD_SETSIZE; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t k = readlink(path, link, sizeof link - 1);
		if (k < 0)
			continue;
		link[k] = 0;
		if (strcmp(link, "anon_inode:[eventfd]") == 0) {
			found = fd;
			n++;
		}
	}
	return n == 1 ? found : -1;
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* fds_are reports whether selectloop_fds lists exactly want[0..n) (in any
 * order) and leaves the rest of out untouched. */
static int fds_are(selectloop *l, const int *want, int n)
{
	int out[FD_SETSIZE + 1], w[16];
	for (int i = 0; i <= FD_SETSIZE; i++)
		out[i] = -7;
	int got = selectloop_fds(l, out);
	if (got != n || out[n] != -7)
		return 0;
	if (n == 0)
		return 1; /* and no NULL to memcpy, which UBSan reports */
	memcpy(w, want, (size_t)n * sizeof *w);
	qsort(out, (size_t)n, sizeof *out, cmp_int);
	qsort(w, (size_t)n, sizeof *w, cmp_int);
	return memcmp(out, w, (size_t)n * sizeof *w) == 0;
}

/* ---- the dispatch log of the single-threaded scenarios ---- */

struct rec {
	uint64_t round; /* selectloop_get_stats().iterations during the dispatch */
	int fd;
	void *h;
	int ev;
};

#define LOG_MAX 64

static struct {
	selectloop *l;
	struct rec log[LOG_MAX];
	int n;
	int bad;  /* calls made by a hook that returned something unexpected */
	int (*hook)(void *h, int fd, int ev, uint64_t round);
} lg;

static int log_dispatch(void *h, int fd, int ev)
{
	uint64_t round = selectloop_get_stats(lg.l).iterations; /* recursive lock */
	if (lg.n >= LOG_MAX)
		return 1; /* runaway: abort the run, the checks will fail */
	lg.log[lg.n++] = (struct rec){round, fd, h, ev};
	return lg.hook ? lg.hook(h, fd, ev, round) : 0;
}

static void log_reset(selectloop *l, int (*hook)(void *, int, int, uint64_t))
{
	memset(&lg, 0, sizeof lg);
	lg.l = l;
	lg.hook = hook;
}

/* log_of copies the entries for handle h into out (up to max), returns how many. */
static int log_of(void *h, struct rec *out, int max)
{
	int k = 0;
	for (int i = 0; i < lg.n; i++)
		if (lg.log[i].h == h) {
			if (k < max)
				out[k] = lg.log[i];
			k++;
		}
	return k;
}

/* The scenarios read selectloop's out-parameter calls as values through
 * these: new_loop is NULL with *err set on failure; del_fd pairs the
 * handle with the error; pop_one is NULL once -ENOENT says nothing is left
 * (any other error counts as a handle, so the checks catch it). */
static selectloop *new_loop(int *err)
{
	selectloop *l = NULL;
	int wakefd = -1;
	*err = selectwake_open(&wakefd);
	if (*err)
		return NULL;
	*err = selectloop_new(wakefd, &l);
	if (*err)
		selectwake_close(wakefd); /* the loop owns it only once made */
	return *err ? NULL : l;
}

struct del_result {
	void *handle;
	int err;
};

static struct del_result del_fd(selectloop *l, int fd)
{
	struct del_result r = {NULL, 0};
	r.err = selectloop_del(l, fd, &r.handle);
	return r;
}

static void *pop_one(selectloop *l)
{
	void *h = NULL;
	int rc = selectloop_pop(l, &h);
	return rc == -ENOENT ? NULL : rc ? (void *)l : h;
}

/* del_is is "del_fd(l, fd) gave back h"; for hooks. */
static int del_is(selectloop *l, int fd, void *h)
{
	struct del_result d = del_fd(l, fd);
	return d.err == 0 && d.handle == h;
}

/* pop_all closes nothing: it pops until NULL and checks that the handles are
 * exactly want[0..n), each once. */
static int pop_all(selectloop *l, void *const *want, int n)
{
	int seen[16] = {0}, extra = 0, total = 0;
	void *h;
	while ((h = pop_one(l)) != NULL && total < 100) {
		total++;
		int k;
		for (k = 0; k < n && want[k] != h; k++)
			;
		if (k < n)
			seen[k]++;
		else
			extra++;
	}
	int ok = extra == 0 && total == n && pop_one(l) == NULL;
	for (int k = 0; k < n; k++)
		ok &= seen[k] == 1;
	return ok;
}

static int H[32]; /* handles of the single-threaded scenarios: &H[i] */

/* ---- 1. the API contract, one thread ---- */

static void test_api(void)
{
	int err = 12345;
	selectloop *l = new_loop(&err);
	if (!check(l != NULL, "api: selectloop_new succeeds (err=%d)", err))
		return;
	int wfd = find_eventfd();
	check(wfd >= 0, "api: the loop has one wake eventfd (fd %d)", wfd);
	struct selectloop_stats st = selectloop_get_stats(l);
	check(st.iterations == 0 && st.dispatches == 0 && st.eintr == 0, "api: a new loop's stats are zero");
	check(fds_are(l, NULL, 0), "api: a new loop lists no fds (the wake fd is not listed)");

	int p[2], sa[2], sb[2];
	if (!check(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sa) == 0 &&
	               socketpair(AF_UNIX, SOCK_STREAM, 0, sb) == 0,
	           "api: pipe and two socketpairs"))
		return;

	int e;
	e = selectloop_add(l, -1, SHIM_READ, &H[0]);
	check(e == -ERANGE, "api: add fd -1 -> -ERANGE (got %d)", e);
	e = selectloop_add(l, FD_SETSIZE, SHIM_READ, &H[0]);
	check(e == -ERANGE, "api: add fd FD_SETSIZE -> -ERANGE (got %d)", e);
	e = selectloop_add(l, p[0], 0, &H[0]);
	check(e == -EINVAL, "api: add with ev 0 -> -EINVAL (got %d)", e);
	e = selectloop_add(l, p[0], 8, &H[0]);
	check(e == -EINVAL, "api: add with ev 8 (unknown bit) -> -EINVAL (got %d)", e);
	e = selectloop_add(l, p[0], SHIM_READ | 0x100, &H[0]);
	check(e == -EINVAL, "api: add with READ|0x100 -> -EINVAL (got %d)", e);
	e = selectloop_add(l, p[0], -1, &H[0]);
	check(e == -EINVAL, "api: add with ev -1 -> -EINVAL (got %d)", e);
	e = selectloop_add(l, p[0], SHIM_READ, NULL);
	check(e == -EINVAL, "api: add with a NULL handle -> -EINVAL (got %d)", e);
	check(fds_are(l, NULL, 0), "api: the rejected adds registered nothing");

	if (wfd >= 0) {
		e = selectloop_add(l, wfd, SHIM_READ, &H[0]);
		check(e == -EEXIST, "api: add the loop's own wake fd -> -EEXIST (got %d)", e);
		e = selectloop_mod(l, wfd, SHIM_WRITE);
		check(e == -ENOENT, "api: mod the wake fd -> -ENOENT (got %d)", e);
		struct del_result d = del_fd(l, wfd);
		check(d.err == -ENOENT && d.handle == NULL, "api: del the wake fd -> -ENOENT, NULL (got %d, %p)", d.err,
		      d.handle);
	}

	e = selectloop_add(l, p[0], SHIM_READ, &H[0]);
	check(e == 0, "api: add p[0] -> 0 (got %d)", e);
	e = selectloop_add(l, p[0], SHIM_READ, &H[1]);
	check(e == -EEXIST, "api: add p[0] again, new handle -> -EEXIST (got %d)", e);
	e = selectloop_add(l, p[0], SHIM_WRITE, &H[0]);
	check(e == -EEXIST, "api: add p[0] again, other events -> -EEXIST (got %d)", e);
	check(fds_are(l, (int[]){p[0]}, 1), "api: fds lists p[0] only");

	e = selectloop_mod(l, -1, SHIM_READ);
	check(e == -ERANGE, "api: mod fd -1 -> -ERANGE (got %d)", e);
	e = selectloop_mod(l, FD_SETSIZE, SHIM_READ);
	check(e == -ERANGE, "api: mod fd FD_SETSIZE -> -ERANGE (got %d)", e);
	e = selectloop_mod(l, p[0], 0);
	check(e == -EINVAL, "api: mod with ev 0 -> -EINVAL (got %d)", e);
	e = selectloop_mod(l, p[0], 8);
	check(e == -EINVAL, "api: mod with ev 8 -> -EINVAL (got %d)", e);
	e = selectloop_mod(l, p[1], SHIM_WRITE);
	check(e == -ENOENT, "api: mod unregistered p[1] -> -ENOENT (got %d)", e);
	e = selectloop_mod(l, p[0], SHIM_WRITE | SHIM_EXCEPT);
	check(e == 0, "api: mod p[0] to WRITE|EXCEPT -> 0 (got %d)", e);
	e = selectloop_mod(l, p[0], EV_ALL);
	check(e == 0, "api: mod p[0] to all three -> 0 (got %d)", e);

	struct del_result d;
	d = del_fd(l, -1);
	check(d.err == -ERANGE && !d.handle, "api: del fd -1 -> -ERANGE, NULL (got %d)", d.err);
	d = del_fd(l, FD_SETSIZE);
	check(d.err == -ERANGE && !d.handle, "api: del fd FD_SETSIZE -> -ERANGE, NULL (got %d)", d.err);
	d = del_fd(l, p[1]);
	check(d.err == -ENOENT && !d.handle, "api: del unregistered p[1] -> -ENOENT, NULL (got %d)", d.err);
	d = del_fd(l, p[0]);
	check(d.err == 0 && d.handle == &H[0], "api: del p[0] returns its handle (err %d)", d.err);
	d = del_fd(l, p[0]);
	check(d.err == -ENOENT && !d.handle, "api: del p[0] a second time -> -ENOENT, NULL (got %d, %p)", d.err,
	      d.handle);
	e = selectloop_mod(l, p[0], SHIM_READ);
	check(e == -ENOENT, "api: mod p[0] after del -> -ENOENT (got %d)", e);
	check(fds_are(l, NULL, 0), "api: fds is empty after the del");

	/* Five registrations, added out of order; one removed again. */
	e = selectloop_add(l, p[0], SHIM_READ, &H[1]);
	check(e == 0, "api: re-add p[0] after del, new handle -> 0 (got %d)", e);
	int ok = selectloop_add(l, sb[1], SHIM_WRITE, &H[2]) == 0;
	ok &= selectloop_add(l, sa[0], SHIM_READ | SHIM_WRITE, &H[3]) == 0;
	ok &= selectloop_add(l, p[1], SHIM_WRITE, &H[4]) == 0;
	ok &= selectloop_add(l, sb[0], SHIM_EXCEPT, &H[5]) == 0;
	check(ok, "api: add sb[1], sa[0], p[1], sb[0] -> 0 each");
	check(fds_are(l, (int[]){p[0], p[1], sa[0], sb[0], sb[1]}, 5), "api: fds lists exactly the five");
	d = del_fd(l, sa[0]);
	check(d.err == 0 && d.handle == &H[3], "api: del sa[0] returns its handle (err %d)", d.err);
	check(fds_are(l, (int[]){p[0], p[1], sb[0], sb[1]}, 4), "api: fds lists the four left");

	int q[2];
	check(pipe2(q, O_NONBLOCK) == 0, "api: a spare pipe for after close");
	e = selectloop_close(l);
	check(e == 0, "api: close -> 0 (got %d)", e);
	if (wfd >= 0) {
		errno = 0;
		int r = fcntl(wfd, F_GETFD);
		check(r == -1 && errno == EBADF, "api: close closed the wake eventfd (fd %d)", wfd);
	}
	e = selectloop_close(l);
	check(e == -ESHUTDOWN, "api: close again -> -ESHUTDOWN (got %d)", e);
	e = selectloop_add(l, sa[0], SHIM_READ, &H[6]);
	check(e == -ESHUTDOWN, "api: add after close -> -ESHUTDOWN (got %d)", e);
	e = selectloop_mod(l, p[0], SHIM_WRITE);
	check(e == -ESHUTDOWN, "api: mod after close -> -ESHUTDOWN (got %d)", e);
	d = del_fd(l, p[0]);
	check(d.err == -ESHUTDOWN && !d.handle, "api: del after close -> -ESHUTDOWN, NULL (got %d)", d.err);
	e = selectloop_run(l, log_dispatch);
	check(e == -ESHUTDOWN, "api: run after close -> -ESHUTDOWN (got %d)", e);

	/* The wake fd's number is free again: give it to the write end of a
	 * pipe. A late stop must not write into whatever file has it now. */
	if (wfd >= 0 && check(dup2(q[1], wfd) == wfd, "api: the wake fd's number reused for a pipe's write end")) {
		selectloop_stop(l);
		selectloop_clear_stop(l);
		char c;
		errno = 0;
		ssize_t r = read(q[0], &c, 1);
		check(r == -1 && errno == EAGAIN, "api: stop after close wrote nothing into the reused fd (read %zd)", r);
		close(wfd);
	}
	close_pair(q);

	void *want[] = {&H[1], &H[2], &H[4], &H[5]};
	check(pop_all(l, want, 4), "api: after close, pop returns each of the 4 handles exactly once, then NULL");
	check(fds_are(l, NULL, 0), "api: fds is empty after popping everything");
	selectloop_free(l);
	close_pair(p);
	close_pair(sa);
	close_pair(sb);
}

/* A loop's wake fd at or above FD_SETSIZE is refused (selectwake_open
 * closes it again), with the range's error, and no fd leaks. */
static void test_new_erange(void)
{
	int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!check(base >= 0, "new: open /dev/null"))
		return;
	int *held = malloc(FD_SETSIZE * sizeof *held), n = 0;
	int before = count_open_fds();
	for (;;) {
		int fd = dup(base);
		if (fd < 0)
			break;
		if (fd >= FD_SETSIZE) {
			close(fd);
			break;
		}
		held[n++] = fd;
	}
	int err = 0;
	selectloop *l = new_loop(&err);
	check(l == NULL && err == -ERANGE, "new: with fds 0..%d taken, a new loop -> NULL, -ERANGE (got %p, %d)",
	      FD_SETSIZE - 1, (void *)l, err);
	/* Under a 1024 limit /proc/self/fd cannot be opened now: free one first. */
	close(held[--n]);
	int after = count_open_fds();
	check(before >= 0 && after == before + n, "new: the failed new loop leaked no fd (%d + %d held, %d now)",
	      before, n, after);
	if (l) {
		selectloop_close(l);
		while (pop_one(l))
			;
		selectloop_free(l);
	}
	for (int i = 0; i < n; i++)
		close(held[i]);
	free(held);
	close(base);
}

/* ---- 2. dispatch: events, handles, interest ---- */

static struct {
	int p[2], s[2], cli, srv;
	int p0_seen, s0_second, srv_seen;
} ev2;

static int hook_events(void *h, int fd, int ev, uint64_t round)
{
	(void)h;
	(void)ev;
	char c;
	if (fd == ev2.p[1] && round == 1) {
		/* Fill the pipe for round 2 and silence its write end: a pipe never
		 * has an exceptional condition. */
		lg.bad += write(ev2.p[1], "x", 1) != 1;
		lg.bad += selectloop_mod(lg.l, ev2.p[1], SHIM_EXCEPT) != 0;
	} else if (fd == ev2.s[0] && round == 1) {
		lg.bad += write(ev2.s[1], "y", 1) != 1;
		lg.bad += selectloop_mod(lg.l, ev2.s[0], SHIM_READ) != 0;
		lg.bad += send(ev2.cli, "!", 1, MSG_OOB) != 1;
	} else if (fd == ev2.p[0]) {
		lg.bad += read(ev2.p[0], &c, 1) != 1;
		ev2.p0_seen = 1;
	} else if (fd == ev2.s[0]) {
		lg.bad += read(ev2.s[0], &c, 1) != 1;
		lg.bad += !del_is(lg.l, ev2.s[0], &H[2]);
		ev2.s0_second = 1;
	} else if (fd == ev2.srv) {
		lg.bad += recv(ev2.srv, &c, 1, MSG_OOB) != 1 || c != '!';
		lg.bad += !del_is(lg.l, ev2.srv, &H[3]);
		ev2.srv_seen = 1;
	}
	if (ev2.p0_seen && ev2.s0_second && ev2.srv_seen)
		selectloop_stop(lg.l); /* from the loop's own thread: run ends after this round */
	return round > 10;
}

static void test_dispatch_events(void)
{
	int err;
	selectloop *l = new_loop(&err);
	if (!check(l != NULL, "events: selectloop_new"))
		return;
	memset(&ev2, 0, sizeof ev2);
	if (!check(pipe(ev2.p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, ev2.s) == 0 &&
	               tcp_pair(&ev2.cli, &ev2.srv) == 0,
	           "events: a pipe, a socketpair and a loopback TCP connection"))
		return;
	int ok = selectloop_add(l, ev2.p[0], SHIM_READ, &H[0]) == 0;
	ok &= selectloop_add(l, ev2.p[1], SHIM_WRITE, &H[1]) == 0;
	ok &= selectloop_add(l, ev2.s[0], EV_ALL, &H[2]) == 0;
	ok &= selectloop_add(l, ev2.srv, SHIM_EXCEPT, &H[3]) == 0; /* writable, but asks for EXCEPT only */
	check(ok, "events: register p[0] R, p[1] W, s[0] R|W|E, tcp E");

	log_reset(l, hook_events);
	int r = selectloop_run(l, log_dispatch);
	check(r == 0, "events: run returns 0 after the in-dispatch stop (got %d)", r);
	check(lg.bad == 0, "events: the dispatch functions' own calls all succeeded (%d did not)", lg.bad);

	struct rec e[4];
	int n;
	n = log_of(&H[1], e, 4);
	check(n == 1 && e[0].round == 1 && e[0].fd == ev2.p[1] && e[0].ev == SHIM_WRITE,
	      "events: empty pipe's write end: WRITE once in round 1, then silent with EXCEPT interest (n=%d)", n);
	n = log_of(&H[2], e, 4);
	check(n == 2 && e[0].round == 1 && e[0].fd == ev2.s[0] && e[0].ev == SHIM_WRITE && e[1].round == 2 &&
	          e[1].fd == ev2.s[0] && e[1].ev == SHIM_READ,
	      "events: socket: WRITE alone in round 1 (no EXCEPT), READ alone in round 2 after mod to READ (n=%d, "
	      "ev %d then %d)",
	      n, n > 0 ? e[0].ev : -1, n > 1 ? e[1].ev : -1);
	n = log_of(&H[0], e, 4);
	check(n == 1 && e[0].round == 2 && e[0].fd == ev2.p[0] && e[0].ev == SHIM_READ,
	      "events: pipe's read end: not in round 1 (empty), READ in round 2 (n=%d)", n);
	n = log_of(&H[3], e, 4);
	check(n == 1 && e[0].round >= 2 && e[0].fd == ev2.srv && e[0].ev == SHIM_EXCEPT,
	      "events: TCP urgent byte: EXCEPT alone (no WRITE) with the right handle (n=%d, ev %d)", n,
	      n > 0 ? e[0].ev : -1);
	check(lg.n == 5, "events: exactly 5 dispatches, none with an unknown handle (got %d)", lg.n);
	struct selectloop_stats st = selectloop_get_stats(l);
	check(st.dispatches == 5, "events: stats count 5 dispatches (got %llu)", (unsigned long long)st.dispatches);

	check(selectloop_close(l) == 0, "events: close");
	void *want[] = {&H[0], &H[1]};
	check(pop_all(l, want, 2), "events: pop returns p[0]'s and p[1]'s handles (the others were deleted)");
	selectloop_free(l);
	close_pair(ev2.p);
	close_pair(ev2.s);
	close(ev2.cli);
	close(ev2.srv);
}

/* ---- 2. stop: before run, and from another thread ---- */

static struct {
	selectloop *l;
	pthread_t th;
	int q[2], f[2];
	atomic_int started, returned, f_seen, unexpected;
	int ret;
	int64_t t_end;
} sp;

static int stop_dispatch(void *h, int fd, int ev)
{
	char c;
	if (fd == sp.q[0] && h == &H[1] && ev == SHIM_READ && read(sp.q[0], &c, 1) == 1)
		atomic_store(&sp.started, 1);
	else if (fd == sp.f[0] && h == &H[2] && ev == SHIM_READ && read(sp.f[0], &c, 1) == 1)
		atomic_store(&sp.f_seen, 1);
	else
		atomic_fetch_add(&sp.unexpected, 1);
	return 0;
}

static void *stop_runner(void *arg)
{
	(void)arg;
	sp.ret = selectloop_run(sp.l, stop_dispatch);
	sp.t_end = now_ns();
	atomic_store(&sp.returned, 1);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int wait_flag(atomic_int *flag, int64_t limit_ns)
{
	int64_t t0 = now_ns();
	while (!atomic_load(flag) && now_ns() - t0 < limit_ns)
		sleep_us(500);
	return atomic_load(flag);
}

static void test_stop(void)
{
	int err;
	memset(&sp, 0, sizeof sp);
	selectloop *l = sp.l = new_loop(&err);
	if (!check(l != NULL, "stop: selectloop_new"))
		return;
	int e[2];
	if (!check(pipe(e) == 0 && pipe(sp.q) == 0 && pipe(sp.f) == 0, "stop: three pipes"))
		return;
	/* e[0] never becomes readable: without a stop, run would block for good. */
	check(selectloop_add(l, e[0], SHIM_READ, &H[0]) == 0, "stop: register an empty pipe");

	selectloop_stop(l);
	int64_t t0 = now_ns();
	int r = selectloop_run(l, stop_dispatch);
	int64_t took = now_ns() - t0;
	struct selectloop_stats st = selectloop_get_stats(l);
	check(r == 0 && took < 500000000 && st.iterations == 0 && st.dispatches == 0,
	      "stop: a stop before run makes it return 0 at once (%d, %.3f ms, %llu selects)", r, took / 1e6,
	      (unsigned long long)st.iterations);

	/* That stop was consumed, and a withdrawn one must not count: the run in
	 * the thread below blocks until stopped. */
	selectloop_stop(l);
	selectloop_clear_stop(l);
	check(write(sp.q[1], "q", 1) == 1 && selectloop_add(l, sp.q[0], SHIM_READ, &H[1]) == 0,
	      "stop: register a readable pipe that tells us run has started");
	struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (!check(pthread_create(&sp.th, NULL, stop_runner, NULL) == 0, "stop: start the loop thread"))
		return;
	check(wait_flag(&sp.started, 2000000000), "stop: the loop thread dispatched (run is running)");
	sleep_us(50000);
	check(!atomic_load(&sp.returned), "stop: run did not return: the first stop was consumed, the second withdrawn");

	r = selectloop_run(l, stop_dispatch);
	check(r == -EBUSY, "stop: run from another thread while running -> -EBUSY (got %d)", r);
	r = selectloop_close(l);
	check(r == -EBUSY, "stop: close from another thread while running -> -EBUSY (got %d)", r);

	/* A readable fd added by another thread wakes the sleeping loop. */
	check(write(sp.f[1], "f", 1) == 1, "stop: fill a third pipe");
	t0 = now_ns();
	r = selectloop_add(l, sp.f[0], SHIM_READ, &H[2]);
	int seen = wait_flag(&sp.f_seen, 2000000000);
	took = now_ns() - t0;
	check(r == 0 && seen && took < 1000000000,
	      "stop: an fd added from another thread is dispatched by the sleeping loop (%.3f ms)", took / 1e6);
	struct del_result d = del_fd(l, sp.f[0]);
	check(d.err == 0 && d.handle == &H[2], "stop: del from another thread while running returns the handle");

	/* Signals interrupt select; the loop retries (and counts them once
	 * select returns for good, so the count is checked after the stop). */
	sleep_us(20000);
	for (int i = 0; i < 3; i++) {
		check(pthread_kill(sp.th, SIGUSR1) == 0, "stop: SIGUSR1 to the sleeping loop thread");
		sleep_us(20000);
	}
	check(!atomic_load(&sp.returned), "stop: run goes on after the signals");

	/* Asleep, not spinning. */
	uint64_t it0 = selectloop_get_stats(l).iterations;
	sleep_us(50000);
	uint64_t it1 = selectloop_get_stats(l).iterations;
	check(it1 == it0 && !atomic_load(&sp.returned), "stop: the idle loop sleeps in select (%llu selects in 50 ms)",
	      (unsigned long long)(it1 - it0));

	t0 = now_ns();
	selectloop_stop(l);
	pthread_join(sp.th, NULL);
	int64_t lat = sp.t_end - t0;
	check(sp.ret == 0 && lat < 1000000000, "stop: stop from another thread wakes the blocked loop: run returns %d "
	      "after %.3f ms (< 1 s)", sp.ret, lat / 1e6);
	printf("     stop-wake latency: %lld ns\n", (long long)lat);
	st = selectloop_get_stats(l);
	check(st.eintr >= 1, "stop: the interrupted selects were counted as eintr (%llu)", (unsigned long long)st.eintr);
	check(atomic_load(&sp.unexpected) == 0, "stop: no unexpected dispatch (%d)", atomic_load(&sp.unexpected));
	signal(SIGUSR1, SIG_DFL);

	check(selectloop_close(l) == 0, "stop: close after run returned");
	void *want[] = {&H[0], &H[1]};
	check(pop_all(l, want, 2), "stop: pop returns the two handles left");
	selectloop_free(l);
	close_pair(e);
	close_pair(sp.q);
	close_pair(sp.f);
}

/* stop "from any thread" includes one racing close: the wake fd is written
 * by one and closed by the other (TSan sees it if wake_mu does not order them). */
static atomic_int spam_go;
static atomic_ulong spam_n;

static void *stop_spammer(void *arg)
{
	selectloop *l = arg;
	while (atomic_load(&spam_go)) {
		selectloop_stop(l);
		selectloop_clear_stop(l);
		atomic_fetch_add(&spam_n, 1);
	}
	return NULL;
}

static void test_stop_vs_close(void)
{
	int err;
	selectloop *l = new_loop(&err);
	if (!check(l != NULL, "stop-vs-close: selectloop_new"))
		return;
	pthread_t th;
	atomic_store(&spam_go, 1);
	atomic_store(&spam_n, 0);
	if (!check(pthread_create(&th, NULL, stop_spammer, l) == 0, "stop-vs-close: start a thread calling stop"))
		return;
	while (atomic_load(&spam_n) < 100)
		sleep_us(100);
	int e = selectloop_close(l);
	unsigned long at_close = atomic_load(&spam_n);
	while (atomic_load(&spam_n) < at_close + 100)
		sleep_us(100);
	atomic_store(&spam_go, 0);
	pthread_join(th, NULL);
	check(e == 0, "stop-vs-close: close while another thread calls stop -> 0 (got %d), %lu stops", e,
	      atomic_load(&spam_n));
	check(pop_one(l) == NULL, "stop-vs-close: nothing to pop");
	selectloop_free(l);
}

/* ---- 3. changes made by dispatch functions ---- */

static struct {
	int a[2], b[2], c[2];
	int rounds; /* dispatches of a (the lowest fd, ready every round) */
	int nb[2];  /* the socketpair that replaces b, in 3b */
	int c_stop; /* c's dispatch count that ends the run */
	int c_seen;
} ch;

/* 3a: a deletes itself and b, which select also reported ready this round. */
static int hook_del(void *h, int fd, int ev, uint64_t round)
{
	(void)ev;
	(void)round;
	if (fd == ch.a[0]) {
		lg.bad += !del_is(lg.l, ch.a[0], h);
		lg.bad += !del_is(lg.l, ch.b[0], &H[11]);
	}
	if (fd == ch.c[0] && ++ch.c_seen == ch.c_stop)
		return 1;
	return 0;
}

/* 3b: a deletes b and re-adds the same socket, still readable, with a new
 * handle; then (3c) closes it and adds a new, empty socket that took its number. */
static int hook_readd(void *h, int fd, int ev, uint64_t round)
{
	(void)h;
	(void)ev;
	(void)round;
	if (fd == ch.a[0]) {
		ch.rounds++;
		if (ch.rounds == 1) {
			lg.bad += !del_is(lg.l, ch.b[0], &H[11]);
			lg.bad += selectloop_add(lg.l, ch.b[0], SHIM_READ, &H[12]) != 0;
		} else if (ch.rounds == 3) {
			lg.bad += !del_is(lg.l, ch.b[0], &H[12]);
			close_pair(ch.b);
			lg.bad += socketpair(AF_UNIX, SOCK_STREAM, 0, ch.nb) != 0;
			lg.bad += selectloop_add(lg.l, ch.nb[0], SHIM_READ, &H[13]) != 0;
		}
	}
	if (fd == ch.c[0] && ++ch.c_seen == ch.c_stop)
		return 1;
	return 0;
}

/* 3d: a changes b's interest every round; b is a socket with data (R|W ready). */
static int hook_mod(void *h, int fd, int ev, uint64_t round)
{
	(void)h;
	(void)ev;
	(void)round;
	static const int plan[] = {0, SHIM_WRITE, SHIM_EXCEPT, SHIM_READ, SHIM_READ | SHIM_WRITE, SHIM_WRITE};
	if (fd == ch.a[0]) {
		ch.rounds++;
		if (ch.rounds < 6)
			lg.bad += selectloop_mod(lg.l, ch.b[0], plan[ch.rounds]) != 0;
	}
	if (fd == ch.c[0] && ++ch.c_seen == ch.c_stop)
		return 1;
	return 0;
}

/* setup_abc registers three readable sockets a < b < c on a new loop. */
static selectloop *setup_abc(const char *name, int bev)
{
	int err;
	memset(&ch, 0, sizeof ch);
	selectloop *l = new_loop(&err);
	if (!l || readable_pair(ch.a) || readable_pair(ch.b) || readable_pair(ch.c)) {
		check(0, "%s: setup", name);
		return NULL;
	}
	int ok = selectloop_add(l, ch.a[0], SHIM_READ, &H[10]) == 0;
	ok &= selectloop_add(l, ch.b[0], bev, &H[11]) == 0;
	ok &= selectloop_add(l, ch.c[0], SHIM_READ, &H[14]) == 0;
	check(ok && ch.a[0] < ch.b[0] && ch.b[0] < ch.c[0], "%s: three readable sockets a=%d < b=%d < c=%d", name,
	      ch.a[0], ch.b[0], ch.c[0]);
	return l;
}

static void teardown_abc(selectloop *l, void *const *want, int n, const char *name)
{
	check(selectloop_close(l) == 0 && pop_all(l, want, n), "%s: close, pop returns exactly the %d handles left",
	      name, n);
	selectloop_free(l);
	close_pair(ch.a);
	close_pair(ch.c);
}

static void test_dispatch_changes(void)
{
	struct rec e[8];
	int n, r;

	/* 3a */
	selectloop *l = setup_abc("del-in-dispatch", SHIM_READ);
	if (!l)
		return;
	log_reset(l, hook_del);
	ch.c_stop = 3;
	r = selectloop_run(l, log_dispatch);
	check(r == SELECTLOOP_ABORTED && lg.bad == 0, "del-in-dispatch: run -> ABORTED after 3 rounds (%d), the dels "
	      "gave back the handles (%d bad)", r, lg.bad);
	n = log_of(&H[10], e, 8);
	check(n == 1 && e[0].round == 1, "del-in-dispatch: a (deleted itself) dispatched once, in round 1 (n=%d)", n);
	n = log_of(&H[11], e, 8);
	check(n == 0, "del-in-dispatch: b, ready in round 1 but deleted by a first, never dispatched (n=%d)", n);
	n = log_of(&H[14], e, 8);
	check(n == 3 && e[2].round == 3 && lg.n == 4, "del-in-dispatch: c dispatched in rounds 1-3, 4 dispatches in all "
	      "(n=%d, total %d)", n, lg.n);
	check(fds_are(l, (int[]){ch.c[0]}, 1), "del-in-dispatch: only c still registered");
	teardown_abc(l, (void *[]){&H[14]}, 1, "del-in-dispatch");
	close_pair(ch.b);

	/* 3b + 3c */
	l = setup_abc("readd-in-dispatch", SHIM_READ);
	if (!l)
		return;
	int old_b = ch.b[0];
	log_reset(l, hook_readd);
	ch.c_stop = 5;
	r = selectloop_run(l, log_dispatch);
	check(r == SELECTLOOP_ABORTED && lg.bad == 0, "readd-in-dispatch: run -> ABORTED after 5 rounds (%d), the "
	      "dispatch functions' calls succeeded (%d bad)", r, lg.bad);
	n = log_of(&H[11], e, 8);
	check(n == 0, "readd-in-dispatch: b's first handle, deleted in round 1 before b's turn, never dispatched (n=%d)",
	      n);
	n = log_of(&H[12], e, 8);
	check(n == 1 && e[0].round == 2 && e[0].fd == old_b && e[0].ev == SHIM_READ,
	      "readd-in-dispatch: b re-added in round 1 skipped in round 1, dispatched with its new handle in round 2 "
	      "(n=%d, round %llu)",
	      n, n ? (unsigned long long)e[0].round : 0ULL);
	n = log_of(&H[13], e, 8);
	check(n == 0, "readd-in-dispatch: a new empty socket (fd %d; old b was %d) added in round 3 under the old "
	      "number never got the old socket's readiness (n=%d)", ch.nb[0], old_b, n);
	n = log_of(&H[14], e, 8);
	check(n == 5 && lg.n == 5 + 5 + 1, "readd-in-dispatch: a and c every round, 11 dispatches in all (c %d, total %d)",
	      n, lg.n);
	/* The replacement is dispatched once it really is readable. */
	log_reset(l, hook_readd);
	ch.rounds = 10;
	ch.c_seen = 0;
	ch.c_stop = 1;
	check(write(ch.nb[1], "n", 1) == 1, "readd-in-dispatch: make the new socket readable");
	r = selectloop_run(l, log_dispatch);
	n = log_of(&H[13], e, 8);
	check(r == SELECTLOOP_ABORTED && n == 1 && e[0].fd == ch.nb[0] && e[0].ev == SHIM_READ,
	      "readd-in-dispatch: then the new socket is dispatched with its own handle (n=%d)", n);
	teardown_abc(l, (void *[]){&H[10], &H[13], &H[14]}, 3, "readd-in-dispatch");
	close_pair(ch.nb);

	/* 3d: modify in dispatch. b has data: select would say R|W. */
	l = setup_abc("mod-in-dispatch", SHIM_READ | SHIM_WRITE);
	if (!l)
		return;
	log_reset(l, hook_mod);
	ch.c_stop = 5;
	r = selectloop_run(l, log_dispatch);
	check(r == SELECTLOOP_ABORTED && lg.bad == 0, "mod-in-dispatch: run -> ABORTED after 5 rounds (%d, %d bad)", r,
	      lg.bad);
	n = log_of(&H[11], e, 8);
	/* Round 1: select saw R|W, a narrowed the interest to W before b's turn.
	 * Round 2: interest E: nothing. Round 3: the sets were taken with E, so
	 * the new R interest finds nothing ready yet. Round 4: select saw R only
	 * (sets taken with R); widening to R|W cannot add W. Round 5: narrowed to W. */
	check(n == 3 && e[0].round == 1 && e[0].ev == SHIM_WRITE && e[1].round == 4 && e[1].ev == SHIM_READ &&
	          e[2].round == 5 && e[2].ev == SHIM_WRITE,
	      "mod-in-dispatch: b delivered W (r1), nothing (r2 E, r3), R (r4), W (r5): got %d: %s", n,
	      n == 3 ? "as planned" : "different");
	for (int i = 0; i < n && i < 8; i++)
		printf("     b: round %llu ev %d\n", (unsigned long long)e[i].round, e[i].ev);
	teardown_abc(l, (void *[]){&H[10], &H[11], &H[14]}, 3, "mod-in-dispatch");
	close_pair(ch.b);
}

/* ---- 5. abort, and EBUSY from inside dispatch ---- */

static struct {
	int busy_run, busy_close;
	int abort_on; /* fd whose dispatch returns rv */
	int rv;
} ab;

static int hook_abort(void *h, int fd, int ev, uint64_t round)
{
	(void)h;
	(void)ev;
	(void)round;
	ab.busy_run = selectloop_run(lg.l, log_dispatch);
	ab.busy_close = selectloop_close(lg.l);
	return fd == ab.abort_on ? ab.rv : 0;
}

/* In a round where the wake fd is ready too, every other ready fd is still
 * dispatched in that same round: the wake fd's bit counts once. */
static selectloop *wc_loop;
static uint64_t wc_round;
static int wc_fd;

static int wake_count_dispatch(void *h, int fd, int ev)
{
	(void)h;
	(void)ev;
	if (fd == wc_fd) {
		wc_round = selectloop_get_stats(wc_loop).iterations;
		return 1;
	}
	return 0;
}

static void test_wake_counted_once(void)
{
	int err, sv[2];
	selectloop *l = wc_loop = new_loop(&err);
	if (!check(l != NULL && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "wake count: a loop and a socket pair"))
		return;
	wc_fd = sv[0];
	check(write(sv[1], "x", 1) == 1 && selectloop_add(l, sv[0], SHIM_READ, &H[0]) == 0,
	      "wake count: register a readable socket above the wake fd");
	/* A stop consumed before run leaves the eventfd readable for the next run. */
	selectloop_stop(l);
	check(selectloop_run(l, wake_count_dispatch) == 0, "wake count: a stop before run returns 0");
	int r = selectloop_run(l, wake_count_dispatch);
	check(r == SELECTLOOP_ABORTED && wc_round == 1,
	      "wake count: the readable fd is dispatched in the first select, beside the wake fd (run %d, select #%llu)",
	      r, (unsigned long long)wc_round);
	struct del_result d = del_fd(l, sv[0]);
	check(d.err == 0 && selectloop_close(l) == 0, "wake count: del and close");
	selectloop_free(l);
	close(sv[0]);
	close(sv[1]);
}

static void test_abort(void)
{
	selectloop *l = setup_abc("abort", SHIM_READ);
	if (!l)
		return;
	int r, n;
	struct rec e[4];

	log_reset(l, hook_abort);
	ab.abort_on = ch.a[0];
	ab.rv = 1;
	r = selectloop_run(l, log_dispatch);
	check(r == SELECTLOOP_ABORTED, "abort: dispatch returning 1 -> run returns SELECTLOOP_ABORTED (got %d)", r);
	check(lg.n == 1 && lg.log[0].h == &H[10], "abort: the loop stopped at once: b and c, also ready, not dispatched "
	      "(%d dispatches)", lg.n);
	check(ab.busy_run == -EBUSY, "abort: run from inside dispatch -> -EBUSY (got %d)", ab.busy_run);
	check(ab.busy_close == -EBUSY, "abort: close from inside dispatch -> -EBUSY (got %d)", ab.busy_close);

	log_reset(l, hook_abort);
	ab.abort_on = ch.b[0];
	ab.rv = -5;
	r = selectloop_run(l, log_dispatch);
	n = log_of(&H[14], e, 4);
	check(r == SELECTLOOP_ABORTED && lg.n == 2 && n == 0,
	      "abort: run again works; dispatch of b returning -5 -> SELECTLOOP_ABORTED after a and b (got %d, %d "
	      "dispatches)", r, lg.n);
	struct selectloop_stats st = selectloop_get_stats(l);
	check(st.iterations == 2 && st.dispatches == 3, "abort: stats: 2 selects, 3 dispatches (got %llu, %llu)",
	      (unsigned long long)st.iterations, (unsigned long long)st.dispatches);
	teardown_abc(l, (void *[]){&H[10], &H[11], &H[14]}, 3, "abort");
	close_pair(ch.b);
}

/* ---- 4. threads ---- */

#define NTHREADS 4
#define NSHARED 16
#define HAMMER_OPS 200000
#define HAMMER_NS 2000000000LL
#define HSLAB (1 << 19)

enum { H_FRESH, H_REG, H_FAILED, H_GONE };

/* One handle per add attempt, never reused: its index is its generation, and
 * its state says whether the loop may dispatch it (H_REG only). */
struct hnd {
	atomic_int state;
	atomic_int allowed; /* events the fd's interest may hold while this is registered */
	atomic_uint dispatched;
	int fd;
	int shared;
};

static struct {
	selectloop *l;
	struct hnd *slab;
	atomic_uint next;
	int shared[NSHARED][2];
	int priv[NTHREADS][2];
	atomic_int done, stop_done;
	atomic_ulong dispatches, stale, wrongfd, wrongev, wild, bad, adds, dels, selfdel, runs, run_err, stops;
	atomic_int last_run_err, last_bad_line;
	unsigned long ops[NTHREADS];
} hm;

#define HBAD() (atomic_fetch_add(&hm.bad, 1), atomic_store(&hm.last_bad_line, __LINE__))

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static struct hnd *new_handle(int fd, int shared, int allowed)
{
	unsigned i = atomic_fetch_add(&hm.next, 1);
	if (i >= HSLAB)
		return NULL;
	struct hnd *h = &hm.slab[i];
	h->fd = fd;
	h->shared = shared;
	atomic_store(&h->allowed, allowed);
	atomic_store(&h->state, H_REG); /* before add: the loop may dispatch it at once */
	return h;
}

/* claim marks a handle given back by del or pop: exactly once, and only one
 * that was registered for fd (fd < 0: any). */
static int claim(void *p, int fd)
{
	struct hnd *h = p;
	if ((uintptr_t)h < (uintptr_t)hm.slab || (uintptr_t)h >= (uintptr_t)(hm.slab + HSLAB))
		return 0;
	int want = H_REG;
	return atomic_compare_exchange_strong(&h->state, &want, H_GONE) && (fd < 0 || h->fd == fd);
}

static int hammer_dispatch(void *p, int fd, int ev)
{
	struct hnd *h = p;
	unsigned long n = atomic_fetch_add(&hm.dispatches, 1) + 1;
	if ((uintptr_t)h < (uintptr_t)hm.slab || (uintptr_t)h >= (uintptr_t)(hm.slab + HSLAB)) {
		atomic_fetch_add(&hm.wild, 1);
		return 0;
	}
	if (atomic_load(&h->state) != H_REG)
		atomic_fetch_add(&hm.stale, 1);
	if (h->fd != fd)
		atomic_fetch_add(&hm.wrongfd, 1);
	if (ev == 0 || (ev & ~atomic_load(&h->allowed)))
		atomic_fetch_add(&hm.wrongev, 1);
	atomic_fetch_add(&h->dispatched, 1);
	/* Now and then a shared fd deletes itself, and maybe comes back with a
	 * new handle: we hold the loop, so both must succeed. */
	if (h->shared && n % 31 == 0) {
		struct del_result d = del_fd(hm.l, fd);
		if (d.err != 0 || d.handle != h || !claim(h, fd))
			HBAD();
		else {
			atomic_fetch_add(&hm.dels, 1);
			atomic_fetch_add(&hm.selfdel, 1);
		}
		struct hnd *nh = n % 2 ? NULL : new_handle(fd, 1, EV_ALL);
		if (nh) {
			if (selectloop_add(hm.l, fd, SHIM_READ, nh) == 0)
				atomic_fetch_add(&hm.adds, 1);
			else {
				atomic_store(&nh->state, H_FAILED);
				HBAD();
			}
		}
	}
	return 0;
}

static void *looper(void *arg)
{
	(void)arg;
	while (!atomic_load(&hm.done)) {
		int r = selectloop_run(hm.l, hammer_dispatch);
		atomic_fetch_add(&hm.runs, 1);
		if (r != 0) {
			atomic_fetch_add(&hm.run_err, 1);
			atomic_store(&hm.last_run_err, r);
			sleep_us(1000);
		}
	}
	return NULL;
}

static void *stopper(void *arg)
{
	(void)arg;
	uint32_t rng = 12345;
	while (!atomic_load(&hm.stop_done)) {
		selectloop_stop(hm.l);
		atomic_fetch_add(&hm.stops, 1);
		sleep_us(100 + xs(&rng) % 400);
		selectloop_clear_stop(hm.l);
		sleep_us(100 + xs(&rng) % 900);
	}
	return NULL;
}

static void *hammer(void *arg)
{
	int t = (int)(intptr_t)arg;
	uint32_t rng = 0x9e3779b9u * (uint32_t)(t + 1);
	int *priv = hm.priv[t];
	struct hnd *ph = NULL; /* the private fd's handle while registered */
	int pev = 0;
	int64_t deadline = now_ns() + HAMMER_NS;
	unsigned long ops = 0;
	struct del_result d;
	int e;

	while (ops < HAMMER_OPS && now_ns() < deadline) {
		ops++;
		uint32_t op = xs(&rng) % 10;
		int ev = 1 + (int)(xs(&rng) % 7);
		int fd = hm.shared[xs(&rng) % NSHARED][0];
		struct hnd *h;
		switch (op) {
		case 0: case 1: case 2: /* shared fd: add, racing the other threads */
			if (!(h = new_handle(fd, 1, EV_ALL)))
				goto out;
			e = selectloop_add(hm.l, fd, ev, h);
			if (e == 0)
				atomic_fetch_add(&hm.adds, 1);
			else {
				atomic_store(&h->state, H_FAILED);
				if (e != -EEXIST)
					HBAD();
			}
			break;
		case 3: case 4:
			e = selectloop_mod(hm.l, fd, ev);
			if (e != 0 && e != -ENOENT)
				HBAD();
			break;
		case 5: case 6:
			d = del_fd(hm.l, fd);
			if (d.err == 0) {
				if (!claim(d.handle, fd))
					HBAD();
				atomic_fetch_add(&hm.dels, 1);
			} else if (d.err != -ENOENT || d.handle)
				HBAD();
			break;
		case 7: /* private fd, known state: add or del */
			if (ph) {
				d = del_fd(hm.l, priv[0]);
				if (d.err != 0 || d.handle != ph || !claim(ph, priv[0]))
					HBAD();
				atomic_fetch_add(&hm.dels, 1);
				ph = NULL;
			} else {
				if (!(ph = new_handle(priv[0], 0, ev)))
					goto out;
				if (selectloop_add(hm.l, priv[0], ev, ph) != 0) {
					atomic_store(&ph->state, H_FAILED);
					ph = NULL;
					HBAD();
				} else {
					atomic_fetch_add(&hm.adds, 1);
					pev = ev;
				}
			}
			break;
		case 8: /* private mod: while it is in flight, old or new interest */
			if (ph) {
				atomic_store(&ph->allowed, pev | ev);
				if (selectloop_mod(hm.l, priv[0], ev) != 0)
					HBAD();
				else
					pev = ev;
				atomic_store(&ph->allowed, pev);
			} else if (selectloop_mod(hm.l, priv[0], ev) != -ENOENT)
				HBAD();
			break;
		case 9: /* private recycle: del, close, a new socketpair (the numbers come back), add */
			if (ph) {
				d = del_fd(hm.l, priv[0]);
				if (d.err != 0 || d.handle != ph || !claim(ph, priv[0]))
					HBAD();
				atomic_fetch_add(&hm.dels, 1);
				ph = NULL;
			}
			close_pair(priv);
			if (readable_pair(priv) != 0) {
				priv[0] = priv[1] = -1;
				HBAD();
				goto out;
			}
			if (!(ph = new_handle(priv[0], 0, ev)))
				goto out;
			if (selectloop_add(hm.l, priv[0], ev, ph) != 0) {
				atomic_store(&ph->state, H_FAILED);
				ph = NULL;
				HBAD();
			} else {
				atomic_fetch_add(&hm.adds, 1);
				pev = ev;
			}
			break;
		}
	}
out:
	hm.ops[t] = ops; /* the private fd stays registered, for pop */
	return NULL;
}

static void test_threads(void)
{
	int err;
	memset(&hm, 0, sizeof hm);
	hm.slab = calloc(HSLAB, sizeof *hm.slab);
	hm.l = new_loop(&err);
	if (!check(hm.slab && hm.l, "threads: setup"))
		return;
	int ok = 1;
	for (int i = 0; i < NSHARED; i++)
		ok &= readable_pair(hm.shared[i]) == 0;
	for (int t = 0; t < NTHREADS; t++)
		ok &= readable_pair(hm.priv[t]) == 0;
	if (!check(ok, "threads: %d shared and %d private readable socketpairs", NSHARED, NTHREADS))
		return;

	pthread_t lt, stt, ht[NTHREADS];
	int64_t t0 = now_ns();
	ok = pthread_create(&lt, NULL, looper, NULL) == 0;
	ok &= pthread_create(&stt, NULL, stopper, NULL) == 0;
	for (int t = 0; t < NTHREADS; t++)
		ok &= pthread_create(&ht[t], NULL, hammer, (void *)(intptr_t)t) == 0;
	if (!check(ok, "threads: start the loop, a stop/clear_stop thread and %d hammering threads", NTHREADS))
		_exit(1); /* cannot unwind running threads */
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(ht[t], NULL);
	atomic_store(&hm.stop_done, 1);
	pthread_join(stt, NULL);
	atomic_store(&hm.done, 1);
	selectloop_stop(hm.l);
	pthread_join(lt, NULL);
	int64_t took = now_ns() - t0;

	unsigned long total_ops = 0, min_ops = ~0UL;
	for (int t = 0; t < NTHREADS; t++) {
		total_ops += hm.ops[t];
		if (hm.ops[t] < min_ops)
			min_ops = hm.ops[t];
	}
	printf("     threads: %.2f s, %lu ops (least %lu per thread), %lu adds, %lu dels (%lu by dispatch), "
	       "%lu dispatches, %lu runs, %lu stops\n",
	       took / 1e9, total_ops, min_ops, atomic_load(&hm.adds), atomic_load(&hm.dels),
	       atomic_load(&hm.selfdel), atomic_load(&hm.dispatches), atomic_load(&hm.runs), atomic_load(&hm.stops));
	check(min_ops >= 200, "threads: every hammering thread got through (least %lu ops)", min_ops);
	check(atomic_load(&hm.bad) == 0, "threads: every add/mod/del returned what the registry's state allowed (%lu "
	      "did not, last at line %d)", atomic_load(&hm.bad), atomic_load(&hm.last_bad_line));
	check(atomic_load(&hm.run_err) == 0, "threads: every run returned 0 (%lu did not, last %d)",
	      atomic_load(&hm.run_err), atomic_load(&hm.last_run_err));
	check(atomic_load(&hm.runs) >= 2 && atomic_load(&hm.runs) <= atomic_load(&hm.stops) + 1,
	      "threads: runs ended by stops: 2 <= %lu runs <= %lu stops + 1", atomic_load(&hm.runs),
	      atomic_load(&hm.stops));
	check(atomic_load(&hm.dispatches) > 0 && atomic_load(&hm.selfdel) > 0,
	      "threads: the loop dispatched (%lu) and deleted from dispatch (%lu)", atomic_load(&hm.dispatches),
	      atomic_load(&hm.selfdel));
	check(atomic_load(&hm.wild) == 0, "threads: no dispatch of a handle never added (%lu)", atomic_load(&hm.wild));
	check(atomic_load(&hm.stale) == 0, "threads: no dispatch of a handle after del gave it back or its add "
	      "failed (%lu)", atomic_load(&hm.stale));
	check(atomic_load(&hm.wrongfd) == 0, "threads: every dispatch had its handle's fd (%lu wrong)",
	      atomic_load(&hm.wrongfd));
	check(atomic_load(&hm.wrongev) == 0, "threads: every dispatch's events were non-empty and in the interest (%lu "
	      "not)", atomic_load(&hm.wrongev));

	struct selectloop_stats st = selectloop_get_stats(hm.l);
	unsigned nh = atomic_load(&hm.next);
	if (nh > HSLAB)
		nh = HSLAB;
	unsigned long sum = 0;
	int nreg = 0, dup_fd = 0;
	static int reg_of_fd[FD_SETSIZE];
	memset(reg_of_fd, 0, sizeof reg_of_fd);
	for (unsigned i = 0; i < nh; i++) {
		sum += atomic_load(&hm.slab[i].dispatched);
		if (atomic_load(&hm.slab[i].state) == H_REG) {
			nreg++;
			if (reg_of_fd[hm.slab[i].fd]++)
				dup_fd++;
		}
	}
	check(st.dispatches == atomic_load(&hm.dispatches) && sum == st.dispatches,
	      "threads: dispatch counts agree: stats %llu, counted %lu, per handle %lu",
	      (unsigned long long)st.dispatches, atomic_load(&hm.dispatches), sum);
	int out[FD_SETSIZE];
	int n = selectloop_fds(hm.l, out), listed_ok = n == nreg && dup_fd == 0;
	for (int i = 0; i < n && listed_ok; i++)
		listed_ok = reg_of_fd[out[i]] == 1;
	check(listed_ok, "threads: fds lists exactly the fds of the %d registered handles (%d listed, %d fds twice)",
	      nreg, n, dup_fd);

	int e = selectloop_close(hm.l);
	check(e == 0, "threads: close -> 0 (got %d)", e);
	int popped = 0, bad_pop = 0;
	void *h;
	while ((h = pop_one(hm.l)) != NULL && popped <= FD_SETSIZE) {
		popped++;
		bad_pop += !claim(h, -1);
	}
	int left = 0;
	for (unsigned i = 0; i < nh; i++)
		left += atomic_load(&hm.slab[i].state) == H_REG;
	check(popped == nreg && bad_pop == 0 && left == 0,
	      "threads: pop gave back each of the %d registered handles once (%d popped, %d bad, %d left)", nreg, popped,
	      bad_pop, left);
	check(atomic_load(&hm.adds) == atomic_load(&hm.dels) + (unsigned long)popped,
	      "threads: every successful add came back exactly once: %lu adds = %lu dels + %d pops",
	      atomic_load(&hm.adds), atomic_load(&hm.dels), popped);

	selectloop_free(hm.l);
	for (int i = 0; i < NSHARED; i++)
		close_pair(hm.shared[i]);
	for (int t = 0; t < NTHREADS; t++)
		if (hm.priv[t][0] >= 0)
			close_pair(hm.priv[t]);
	free(hm.slab);
}

int main(void)
{
	pthread_t wd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pthread_create(&wd, NULL, watchdog, NULL) != 0 || pthread_detach(wd) != 0) {
		perror("watchdog");
		return 1;
	}
	int fds0 = count_open_fds();
	test_api();
	test_new_erange();
	test_dispatch_events();
	test_stop();
	test_stop_vs_close();
	test_dispatch_changes();
	test_abort();
	test_wake_counted_once();
	test_threads();
	int fds1 = count_open_fds();
	check(fds0 == fds1, "every fd the test opened is closed (%d open at start, %d at the end)", fds0, fds1);
	return check_done("selectloop-test");
}
