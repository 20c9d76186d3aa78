//go:build linux || windows

/* selectshim.c: see selectshim.h. What differs by system (the fd_set
 * macros' range or count rule, the select call itself) is in the one file
 * of selectshim_unix.h and selectshim_windows.h that the system includes
 * below; the rest is the same everywhere. */
#include "selectshim.h"
#ifdef _WIN32
#include "selectshim_windows.h"
#else
#include "selectshim_unix.h"
#endif

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

int shim_fd_setsize(void)
{
	return FD_SETSIZE;
}

void shim_fd_zero(fd_set *set)
{
	FD_ZERO(set);
}

int64_t shim_time_max(void)
{
	return sizeof(shim_sec_t) == 8 ? INT64_MAX : INT32_MAX;
}

struct timeval shim_timeval_from_ns(int64_t ns)
{
	struct timeval tv = {0, 0};
	if (ns <= 0)
		return tv;
	int64_t us = ns / 1000 + (ns % 1000 != 0);
	int64_t sec = us / 1000000;
	if (sec > shim_time_max()) {
		tv.tv_sec = (shim_sec_t)shim_time_max();
		tv.tv_usec = 999999;
		return tv;
	}
	tv.tv_sec = (shim_sec_t)sec;
	tv.tv_usec = (shim_usec_t)(us % 1000000);
	return tv;
}

/* timeval_left is want less the time since t0 on the monotonic clock, or
 * zero once that is past. Each part is subtracted on its own, so a tv_sec
 * near the largest tv_sec cannot overflow. */
static struct timeval timeval_left(struct timeval want, const struct timespec *t0)
{
	struct timespec now;
	struct timeval left = {0, 0};
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t es = (int64_t)now.tv_sec - (int64_t)t0->tv_sec;
	int64_t eus = ((int64_t)now.tv_nsec - (int64_t)t0->tv_nsec) / 1000;
	if (eus < 0) {
		es--;
		eus += 1000000;
	}
	int64_t ls = (int64_t)want.tv_sec - es, lus = (int64_t)want.tv_usec - eus;
	if (lus < 0) {
		ls--;
		lus += 1000000;
	}
	if (ls >= 0) {
		left.tv_sec = (shim_sec_t)ls;
		left.tv_usec = (shim_usec_t)lus;
	}
	return left;
}

/* select_left is select(2) that writes the time not used back into *tv
 * (zero on a timeout), counted on the monotonic clock, and, when retry is
 * set, makes the call again after EINTR with that time left. */
static int select_left(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv, int retry, uint64_t *eintr)
{
	if (nfds < 0 || nfds > FD_SETSIZE) /* the same check everywhere, though Winsock ignores nfds */
		return -ERANGE;
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))
		return -EINVAL;
	/* Blocking or polling, there is no time to count: a retry is the same call. */
	int timed = tv && (tv->tv_sec || tv->tv_usec);
	struct timeval want = {0, 0};
	struct timespec t0 = {0, 0};
	if (timed) {
		want = *tv;
		clock_gettime(CLOCK_MONOTONIC, &t0);
	}
	for (;;) {
		int n = sys_select(nfds, r, w, e, tv);
		int err = n < 0 ? -n : 0;
		if (timed)
			*tv = n == 0 ? (struct timeval){0, 0} : timeval_left(want, &t0);
		if (n >= 0)
			return n;
		if (err != EINTR || !retry)
			return -err;
		if (eintr)
			++*eintr;
	}
}

int shim_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	return select_left(nfds, r, w, e, tv, 0, NULL);
}

int shim_select_retry(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv, uint64_t *eintr)
{
	return select_left(nfds, r, w, e, tv, 1, eintr);
}

int shim_select_batch(const int *fds, uint8_t *ev, int n, int64_t timeout_ns, uint64_t *eintr)
{
	fd_set r, w, e;
	int nfds = 0;

	if (n < 0)
		return -EINVAL;
	shim_fd_zero(&r);
	shim_fd_zero(&w);
	shim_fd_zero(&e);
	for (int i = 0; i < n; i++) {
		int fd = fds[i], err = 0;
		if (!fd_in_range(fd))
			return -ERANGE;
		if (ev[i] & SHIM_READ)
			err = shim_fd_set(fd, &r);
		if (!err && (ev[i] & SHIM_WRITE))
			err = shim_fd_set(fd, &w);
		if (!err && (ev[i] & (SHIM_EXCEPT | (SHIM_WRITE_IN_EXCEPT ? SHIM_WRITE : 0))))
			err = shim_fd_set(fd, &e);
		if (err)
			return err; /* Winsock's count: more than FD_SETSIZE distinct sockets in a set */
		if (SHIM_NFDS_USED && fd >= nfds)
			nfds = fd + 1;
	}

	struct timeval tv, *tvp = NULL;
	if (timeout_ns >= 0) {
		tv = shim_timeval_from_ns(timeout_ns);
		tvp = &tv;
	}
	int ready = shim_select_retry(nfds, &r, &w, &e, tvp, eintr);
	if (ready < 0)
		return ready;

	if (ready == 0) { /* timed out: nothing is ready */
		memset(ev, 0, (size_t)n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int fd = fds[i];
		uint8_t want = ev[i], got = 0;
		if ((want & SHIM_READ) && shim_fd_isset(fd, &r))
			got |= SHIM_READ;
		if ((want & SHIM_WRITE) && (shim_fd_isset(fd, &w) || (SHIM_WRITE_IN_EXCEPT && shim_fd_isset(fd, &e))))
			got |= SHIM_WRITE;
		if ((want & SHIM_EXCEPT) && shim_fd_isset(fd, &e))
			got |= SHIM_EXCEPT;
		ev[i] = got;
	}
	return ready;
}
