/*
 * selectshim_unix.h: the part of selectshim.c that is Unix's own, included
 * by selectshim.c alone. An fd_set is a bit mask indexed by the descriptor,
 * so an fd is checked against [0, FD_SETSIZE) and select reads nfds.
 */
#ifndef SELECTSHIM_UNIX_H
#define SELECTSHIM_UNIX_H

#include <errno.h>
#include <sys/select.h>

static inline int fd_in_range(int fd)
{
	return fd >= 0 && fd < FD_SETSIZE;
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

/* sys_select is select(2), returning its count or -errno. */
static int sys_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	int n = select(nfds, r, w, e, tv);
	return n < 0 ? -errno : n;
}

#endif /* SELECTSHIM_UNIX_H */
