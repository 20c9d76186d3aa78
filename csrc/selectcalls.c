/*
 * selectcalls.c: the C side of echo-bench's call-level benchmark. It times
 * one select(2) done the C prototype's way -- FD_ZERO, FD_SET per watched
 * descriptor, select, FD_ISSET per watched descriptor -- the baseline every
 * wrapper (selectc, x/sys/unix, Python) is divided by.
 *
 * It speaks the workers' line protocol on stdin/stdout, which
 * cmd/echo-bench/internal/calls/worker.go describes and drives:
 *
 *   measure FIRST N READY WARMUP_NS MIN_NS MAX_CALLS
 *     -> ok CALLS NS          (CALLS timed calls took NS nanoseconds)
 *     -> error MESSAGE
 *
 * The watched descriptors are FIRST .. FIRST+N-1, dup2'd from two pipes: an
 * empty one and one holding a byte. READY says which are dups of the full
 * one: "all", "none", or "one" (the last). Every call checks select's count
 * and the FD_ISSET count; the full ready list is checked before and after
 * the timed calls, so a broken call cannot report a fast time.
 *
 * "-threads N" starts N idle threads first. Every Go process has several,
 * and so the kernel's select takes (and drops) a reference on each watched
 * file, a step it skips when the descriptor table has a single user: this
 * row tells that cost apart from what a Go wrapper itself adds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

/* The descriptors of one measurement. */
struct layout {
	int first, n;
	int opened;        /* dups made so far, from first */
	int want;          /* how many are ready */
	int pipes[2][2];   /* [0] empty, [1] holding a byte; -1 when closed */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool is_ready(const struct layout *l, int fd)
{
	return l->want == l->n || (l->want == 1 && fd == l->first + l->n - 1);
}

static void teardown(struct layout *l)
{
	for (int i = 0; i < l->opened; i++)
		close(l->first + i);
	for (int p = 0; p < 2; p++)
		for (int e = 0; e < 2; e++)
			if (l->pipes[p][e] >= 0)
				close(l->pipes[p][e]);
}

/* setup builds the layout; on failure it writes why into err. */
static bool setup(struct layout *l, int first, int n, const char *ready, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	memset(l->pipes, -1, sizeof l->pipes);
	l->first = first;
	l->n = n;
	if (n < 1 || first < 3 || first + n > FD_SETSIZE) {
		snprintf(err, errlen, "descriptors %d..%d outside 3..%d", first, first + n - 1, FD_SETSIZE - 1);
		return false;
	}
	if (strcmp(ready, "all") == 0)
		l->want = n;
	else if (strcmp(ready, "one") == 0)
		l->want = 1;
	else if (strcmp(ready, "none") == 0)
		l->want = 0;
	else {
		snprintf(err, errlen, "ready %s: want one, all or none", ready);
		return false;
	}
	if (pipe(l->pipes[0]) < 0 || pipe(l->pipes[1]) < 0 || write(l->pipes[1][1], "x", 1) != 1) {
		snprintf(err, errlen, "pipes: %s", strerror(errno));
		teardown(l);
		return false;
	}
	for (int p = 0; p < 2; p++)
		for (int e = 0; e < 2; e++)
			if (l->pipes[p][e] >= first) {
				snprintf(err, errlen, "pipe fd %d inside the watched range from %d", l->pipes[p][e], first);
				teardown(l);
				return false;
			}
	for (int i = 0; i < n; i++) {
		int fd = first + i;
		/* dup2 would silently close a descriptor already there. */
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) {
			snprintf(err, errlen, "fd %d is already open", fd);
			teardown(l);
			return false;
		}
		int src = is_ready(l, fd) ? l->pipes[1][0] : l->pipes[0][0];
		if (dup2(src, fd) != fd) {
			snprintf(err, errlen, "dup2 %d: %s", fd, strerror(errno));
			teardown(l);
			return false;
		}
		l->opened = i + 1;
	}
	return true;
}

/* one_call is the measured unit: the C prototype's select. It returns the
 * number of ready descriptors FD_ISSET found, or -1 with err set. */
static int one_call(const struct layout *l, fd_set *r, char *err, size_t errlen)
{
	FD_ZERO(r);
	for (int i = 0; i < l->n; i++)
		FD_SET(l->first + i, r);
	struct timeval tv = {0, 0};
	int got = select(l->first + l->n, r, NULL, NULL, &tv);
	if (got < 0) {
		snprintf(err, errlen, "select: %s", strerror(errno));
		return -1;
	}
	int ready = 0;
	for (int i = 0; i < l->n; i++)
		if (FD_ISSET(l->first + i, r))
			ready++;
	if (got != ready) {
		snprintf(err, errlen, "select returned %d, FD_ISSET found %d", got, ready);
		return -1;
	}
	return ready;
}

/* check_list runs one call and compares the ready set, descriptor by
 * descriptor, with the layout. */
static bool check_list(const struct layout *l, char *err, size_t errlen)
{
	fd_set r;
	if (one_call(l, &r, err, errlen) < 0)
		return false;
	for (int i = 0; i < l->n; i++) {
		int fd = l->first + i;
		if ((FD_ISSET(fd, &r) != 0) != is_ready(l, fd)) {
			snprintf(err, errlen, "fd %d: ready %d, want %d", fd, FD_ISSET(fd, &r) != 0, is_ready(l, fd));
			return false;
		}
	}
	return true;
}

/* run makes calls until min_ns have passed (after at least one call) or
 * max_calls were made, in batches so the clock is read rarely: each batch
 * is what the rate so far says is left, at most twice the last one. */
static bool run(const struct layout *l, int64_t min_ns, int64_t max_calls, int64_t *calls, int64_t *ns,
		char *err, size_t errlen)
{
	fd_set r;
	int64_t done = 0, batch = 1, t0 = now_ns(), el = 0;
	while (done < max_calls) {
		for (int64_t i = 0; i < batch; i++) {
			int got = one_call(l, &r, err, errlen);
			if (got < 0)
				return false;
			if (got != l->want) {
				snprintf(err, errlen, "%d ready, want %d", got, l->want);
				return false;
			}
		}
		done += batch;
		el = now_ns() - t0;
		if (el >= min_ns)
			break;
		int64_t left = el > 0 ? (int64_t)((double)done * (double)(min_ns - el) / (double)el) + 1 : batch * 2;
		batch = left < batch * 2 ? left : batch * 2;
		if (batch > max_calls - done)
			batch = max_calls - done;
	}
	*calls = done;
	*ns = el;
	return true;
}

static void measure(int first, int n, const char *ready, int64_t warm_ns, int64_t min_ns, int64_t max_calls)
{
	char err[256] = "";
	struct layout l;
	int64_t calls, ns, wc, wn;
	if (!setup(&l, first, n, ready, err, sizeof err)) {
		printf("error %s\n", err);
		return;
	}
	bool ok = check_list(&l, err, sizeof err) &&
		  run(&l, warm_ns, max_calls, &wc, &wn, err, sizeof err) &&
		  run(&l, min_ns, max_calls, &calls, &ns, err, sizeof err) &&
		  check_list(&l, err, sizeof err);
	teardown(&l);
	if (ok)
		printf("ok %" PRId64 " %" PRId64 "\n", calls, ns);
	else
		printf("error %s\n", err);
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 0;
	if (argc == 3 && strcmp(argv[1], "-threads") == 0)
		threads = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [-threads N]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, idle, NULL);
		if (err != 0) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	char line[512];
	while (fgets(line, sizeof line, stdin)) {
		int first, n;
		char ready[16];
		int64_t warm_ns, min_ns, max_calls;
		if (sscanf(line, "measure %d %d %15s %" SCNd64 " %" SCNd64 " %" SCNd64, &first, &n, ready,
			   &warm_ns, &min_ns, &max_calls) == 6 && max_calls > 0)
			measure(first, n, ready, warm_ns, min_ns, max_calls);
		else
			printf("error cannot parse %s", line);
		fflush(stdout);
	}
	return 0;
}
