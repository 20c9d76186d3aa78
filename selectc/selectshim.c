/* selectshim.c: see selectshim.h. */
#include "selectshim.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

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

struct timeval shim_timeval_from_ns(int64_t ns)
{
	struct timeval tv = {0, 0};
	if (ns <= 0)
		return tv;
	int64_t us = ns / 1000 + (ns % 1000 != 0);
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

int shim_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))
		return -EINVAL;
	int n = select(nfds, r, w, e, tv);
	return n < 0 ? -errno : n;
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
