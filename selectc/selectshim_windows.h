/*
 * selectshim_windows.h: the part of selectshim.c that is Winsock's own,
 * included by selectshim.c alone. Where Winsock's select differs from
 * Linux's, this gives Linux's answer (the package doc's "Windows" section
 * says so once, for Go users):
 *   - an fd_set is a list, { u_int fd_count; SOCKET fd_array[FD_SETSIZE]; },
 *     and FD_SETSIZE counts the sockets in it, whatever their values: an fd
 *     (a SOCKET, whose values fit in 32 bits) is out of range only when
 *     negative, and a full set refuses one more with -ENOSPC, where
 *     Winsock's FD_SET drops it silently;
 *   - three empty sets sleep for the timeout (Winsock fails with WSAEINVAL);
 *   - a timeout is waited in slices Winsock cannot misread, however long;
 *   - errors are -WSAGetLastError(), codes Go's syscall.Errno names as is.
 */
#ifndef SELECTSHIM_WINDOWS_H
#define SELECTSHIM_WINDOWS_H

#include <winsock2.h>
#include <errno.h>

/* The longest single Winsock select: 10^6 s, whose milliseconds fit in 32 bits. */
#define SHIM_WINSOCK_SLICE_S 1000000L

static inline int fd_in_range(int fd)
{
	return fd >= 0;
}

static inline SOCKET sock_of(int fd)
{
	return (SOCKET)(unsigned)fd;
}

int shim_fd_set(int fd, fd_set *set)
{
	if (!fd_in_range(fd))
		return -ERANGE;
	if (FD_ISSET(sock_of(fd), set))
		return 0;
	if (set->fd_count >= FD_SETSIZE)
		return -ENOSPC;
	FD_SET(sock_of(fd), set);
	return 0;
}

int shim_fd_clr(int fd, fd_set *set)
{
	if (!fd_in_range(fd))
		return -ERANGE;
	FD_CLR(sock_of(fd), set);
	return 0;
}

int shim_fd_isset(int fd, const fd_set *set)
{
	/* __WSAFDIsSet takes a non-const pointer; it only reads. */
	return fd_in_range(fd) && FD_ISSET(sock_of(fd), (fd_set *)set);
}

static int set_empty(const fd_set *s)
{
	return !s || s->fd_count == 0;
}

/* sleep_for sleeps as select with no sets would: forever for a NULL tv. */
static void sleep_for(const struct timeval *tv)
{
	if (!tv) {
		for (;;)
			Sleep(INFINITE);
	}
	long sec = tv->tv_sec;
	DWORD ms = (DWORD)((tv->tv_usec + 999) / 1000);
	while (sec > SHIM_WINSOCK_SLICE_S) {
		Sleep((DWORD)SHIM_WINSOCK_SLICE_S * 1000);
		sec -= SHIM_WINSOCK_SLICE_S;
	}
	Sleep((DWORD)sec * 1000 + ms);
}

/* sys_select is Winsock's select with Linux's answers (see above),
 * returning its count or -WSAGetLastError(). */
static int sys_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	(void)nfds;
	if (set_empty(r) && set_empty(w) && set_empty(e)) {
		sleep_for(tv);
		return 0;
	}
	if (!tv || tv->tv_sec <= SHIM_WINSOCK_SLICE_S) {
		int n = select(0, r, w, e, tv);
		return n == SOCKET_ERROR ? -WSAGetLastError() : n;
	}
	/* A long wait, slice by slice, on copies: select rewrites the sets. */
	fd_set sets[3], *in[3] = {r, w, e};
	long left = tv->tv_sec;
	for (;;) {
		struct timeval slice = {left > SHIM_WINSOCK_SLICE_S ? SHIM_WINSOCK_SLICE_S : left, 0};
		if (left <= SHIM_WINSOCK_SLICE_S)
			slice.tv_usec = tv->tv_usec;
		for (int k = 0; k < 3; k++)
			if (in[k])
				sets[k] = *in[k];
		int n = select(0, in[0] ? &sets[0] : NULL, in[1] ? &sets[1] : NULL, in[2] ? &sets[2] : NULL, &slice);
		if (n == SOCKET_ERROR)
			return -WSAGetLastError();
		if (n > 0 || left <= SHIM_WINSOCK_SLICE_S) {
			for (int k = 0; k < 3; k++)
				if (in[k])
					*in[k] = sets[k];
			return n;
		}
		left -= SHIM_WINSOCK_SLICE_S;
	}
}

#endif /* SELECTSHIM_WINDOWS_H */
