/* selectshim.c: see selectshim.h. */
#include "selectshim.h"

#include <errno.h>
#include <stddef.h>

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

static int64_t timeval_ns(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

int shim_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	int n = select(nfds, r, w, e, tv);
	return n < 0 ? -errno : n;
}

int shim_select_batch(const int *fds, uint8_t *ev, int n, int64_t timeout_ns,
                      int64_t *left_ns, int *bad)
{
	fd_set sets[3];
	int nfds = 0;

	if (n < 0)
		return -EINVAL;

	FD_ZERO(&sets[0]);
	FD_ZERO(&sets[1]);
	FD_ZERO(&sets[2]);
	for (int i = 0; i < n; i++) {
		int fd = fds[i];
		if (!fd_in_range(fd)) {
			if (bad)
				*bad = i;
			return -ERANGE;
		}
		for (int k = 0; k < 3; k++)
			if (ev[i] & (1 << k))
				FD_SET(fd, &sets[k]);
		if (fd >= nfds)
			nfds = fd + 1;
	}

	struct timeval tv, *tvp = NULL;
	if (timeout_ns >= 0) {
		tv = shim_timeval_from_ns(timeout_ns);
		tvp = &tv;
	}
	int ready = select(nfds, &sets[0], &sets[1], &sets[2], tvp);
	if (ready < 0)
		return -errno;
	if (tvp && left_ns)
		*left_ns = timeval_ns(tvp);

	/* On a timeout the kernel has cleared all three sets, so every entry reads 0. */
	for (int i = 0; i < n; i++) {
		uint8_t got = 0;
		for (int k = 0; k < 3; k++)
			if ((ev[i] & (1 << k)) && FD_ISSET(fds[i], &sets[k]))
				got |= (uint8_t)(1 << k);
		ev[i] = got;
	}
	return ready;
}
