//go:build linux

/* selectshim.c: see selectshim.h. */
#include "selectshim.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

static inline int fd_in_range(int fd)
{
	return fd >= 0 && fd < FD_SETSIZE;
}

int shim_fd_setsize(void)
{
	return FD_SETSIZE;
}

void shim_fd_zero(fd_set *set)
{
	FD_ZERO(set);
}

int shim_fd_set(int fd, fd_set *set)
{
	if (!fd_in_range(fd))
		return -ERANGE;
	FD_SET(fd, set);
	return 0;
}

int shim_fd_clr(int fd, fd_set *set)
{
	if (!fd_in_range(fd))
		return -ERANGE;
	FD_CLR(fd, set);
	return 0;
}

int shim_fd_isset(int fd, const fd_set *set)
{
	if (!fd_in_range(fd))
		return 0;
	/* glibc's FD_ISSET takes a non-const pointer under FORTIFY; it only reads. */
	return FD_ISSET(fd, (fd_set *)set) != 0;
}

int64_t shim_time_max(void)
{
	return sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX;
}

struct timeval shim_timeval_from_ns(int64_t ns)
{
	struct timeval tv = {0, 0};
	if (ns <= 0)
		return tv;
	int64_t us = ns / 1000 + (ns % 1000 != 0);
	int64_t sec = us / 1000000;
	if (sec > shim_time_max()) {
		tv.tv_sec = (time_t)shim_time_max();
		tv.tv_usec = 999999;
		return tv;
	}
	tv.tv_sec = (time_t)sec;
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

/* timeval_left is want less the time since t0 on the monotonic clock, or
 * zero once that is past. Each part is subtracted on its own, so a tv_sec
 * near the largest time_t cannot overflow. */
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
		left.tv_sec = (time_t)ls;
		left.tv_usec = (suseconds_t)lus;
	}
	return left;
}

int shim_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))
		return -EINVAL;
	if (!tv || (tv->tv_sec == 0 && tv->tv_usec == 0)) { /* no time to count: a block or a poll */
		int n = select(nfds, r, w, e, tv);
		return n < 0 ? -errno : n;
	}
	struct timeval want = *tv;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int n = select(nfds, r, w, e, tv);
	int err = errno;
	*tv = n == 0 ? (struct timeval){0, 0} : timeval_left(want, &t0);
	return n < 0 ? -err : n;
}

int shim_select_batch(const int *fds, uint8_t *ev, int n, int64_t timeout_ns)
{
	fd_set r, w, e;
	int nfds = 0;

	if (n < 0)
		return -EINVAL;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	for (int i = 0; i < n; i++) {
		int fd = fds[i];
		if (!fd_in_range(fd))
			return -ERANGE;
		if (ev[i] & SHIM_READ)
			FD_SET(fd, &r);
		if (ev[i] & SHIM_WRITE)
			FD_SET(fd, &w);
		if (ev[i] & SHIM_EXCEPT)
			FD_SET(fd, &e);
		if (fd >= nfds)
			nfds = fd + 1;
	}

	struct timeval tv, *tvp = NULL;
	if (timeout_ns >= 0) {
		tv = shim_timeval_from_ns(timeout_ns);
		tvp = &tv;
	}
	int ready = select(nfds, &r, &w, &e, tvp);
	if (ready < 0)
		return -errno;

	if (ready == 0) { /* timed out: nothing is ready */
		memset(ev, 0, (size_t)n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int fd = fds[i];
		uint8_t want = ev[i], got = 0;
		if ((want & SHIM_READ) && FD_ISSET(fd, &r))
			got |= SHIM_READ;
		if ((want & SHIM_WRITE) && FD_ISSET(fd, &w))
			got |= SHIM_WRITE;
		if ((want & SHIM_EXCEPT) && FD_ISSET(fd, &e))
			got |= SHIM_EXCEPT;
		ev[i] = got;
	}
	return ready;
}
