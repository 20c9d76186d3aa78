/*
 * selectshim_unix.h: the part of selectshim.c that is Unix's own, included
 * by selectshim.c alone. An fd_set is a bit mask indexed by the descriptor,
 * so an fd is checked against [0, FD_SETSIZE) and select reads nfds.
 */
#ifndef SELECTSHIM_UNIX_H
#define SELECTSHIM_UNIX_H

#include <errno.h>
#include <stddef.h>
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

/* in_use returns set, or NULL when the words of it that select reads (the
 * first nfds bits, rounded up to whole words, as the kernel copies them)
 * are all zero. The kernel copies each set it is given in and back out,
 * and each copy across the user boundary costs more than the test (two of
 * them, on a one-descriptor poll, are a quarter of the call); a NULL set
 * is the empty set, and one of all zero words would have come back as it
 * went, so the caller cannot tell the difference. The words are unsigned
 * long in glibc and musl alike, as selectregistry.h asserts. */
static fd_set *in_use(int nfds, fd_set *set)
{
	enum { WORD_BITS = 8 * sizeof(unsigned long) };
	if (!set)
		return NULL;
	const unsigned long *w = (const unsigned long *)(const void *)set;
	unsigned long any = 0;
	for (int k = 0, nw = (nfds + WORD_BITS - 1) / WORD_BITS; k < nw; k++)
		any |= w[k];
	return any ? set : NULL;
}

/* sys_select is select(2), returning its count or -errno; a set that is
 * empty goes as NULL (in_use). nfds has been checked against FD_SETSIZE. */
static int sys_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	int n = select(nfds, in_use(nfds, r), in_use(nfds, w), in_use(nfds, e), tv);
	return n < 0 ? -errno : n;
}

#endif /* SELECTSHIM_UNIX_H */
