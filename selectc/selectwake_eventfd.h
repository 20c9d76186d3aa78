/*
 * selectwake_eventfd.h: selectwake.h's functions on Linux, over an
 * eventfd. Included by selectwake.h alone.
 */
#ifndef SELECTWAKE_EVENTFD_H
#define SELECTWAKE_EVENTFD_H

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

/* selectwake_open makes a non-blocking, close-on-exec eventfd and stores it
 * in *fd. The descriptor must fit in an fd_set, or no select could watch
 * it: when the kernel hands out FD_SETSIZE or above, it is closed again,
 * *fd keeps the number (for the caller's message) and the result is
 * -ERANGE. Otherwise 0, or eventfd's -errno (*fd untouched). */
static inline int selectwake_open(int *fd)
{
	int w = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w < 0)
		return -errno;
	*fd = w;
	if (w >= FD_SETSIZE) {
		close(w);
		return -ERANGE;
	}
	return 0;
}

/* selectwake_signal makes fd readable until it is drained. Signals add up
 * in the eventfd's counter; a full counter (EAGAIN) is readable already,
 * so that is success too. */
static inline int selectwake_signal(int fd)
{
	const uint64_t one = 1;
	ssize_t r;
	do
		r = write(fd, &one, sizeof one);
	while (r < 0 && errno == EINTR);
	return r < 0 && errno != EAGAIN ? -errno : 0;
}

/* selectwake_drain consumes every signal so far: one read empties an
 * eventfd's counter. Nothing to read (EAGAIN) is success. */
static inline int selectwake_drain(int fd)
{
	uint64_t n;
	ssize_t r;
	do
		r = read(fd, &n, sizeof n);
	while (r < 0 && errno == EINTR);
	return r < 0 && errno != EAGAIN ? -errno : 0;
}

/* selectwake_close closes fd once: on Linux the descriptor is gone even
 * when close reports EINTR, so it is never retried. */
static inline int selectwake_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

#endif /* SELECTWAKE_EVENTFD_H */
