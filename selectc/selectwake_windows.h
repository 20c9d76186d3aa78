/*
 * selectwake_windows.h: selectwake.h's functions on Windows, over a UDP
 * socket bound to 127.0.0.1 and connected to itself: a datagram it sends
 * itself makes it readable, and reading every datagram drains it. Python's
 * selectors use a loopback pair for the same reason (Winsock selects on
 * sockets only); one socket keeps selectwake.h's one-descriptor contract.
 * Included by selectwake.h alone. WSAStartup must have been called.
 */
#ifndef SELECTWAKE_WINDOWS_H
#define SELECTWAKE_WINDOWS_H

#include "selectshim.h"

#include <winsock2.h>

/* selectwake_open: see selectwake.h. A SOCKET whose value does not fit in
 * an int (Windows keeps them in 32 bits, so never) is -ERANGE. */
static inline int selectwake_open(int *fd)
{
	SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	if (s == INVALID_SOCKET)
		return -WSAGetLastError();
	struct sockaddr_in a = {0};
	int alen = sizeof a;
	u_long nonblocking = 1;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &alen) ||
	    connect(s, (struct sockaddr *)&a, sizeof a) || ioctlsocket(s, FIONBIO, &nonblocking)) {
		int err = WSAGetLastError();
		closesocket(s);
		return -err;
	}
	if (s > (SOCKET)0x7fffffff) {
		*fd = -1;
		closesocket(s);
		return -ERANGE;
	}
	*fd = (int)s;
	return 0;
}

/* selectwake_signal: one datagram to itself. A full receive buffer
 * (WSAEWOULDBLOCK) is readable already, so that is success too. */
static inline int selectwake_signal(int fd)
{
	const char one = 1;
	if (send((SOCKET)(unsigned)fd, &one, 1, 0) == SOCKET_ERROR && WSAGetLastError() != WSAEWOULDBLOCK)
		return -WSAGetLastError();
	return 0;
}

/* selectwake_drain reads datagrams until none is left (WSAEWOULDBLOCK). A
 * WSAECONNRESET (an ICMP error from an earlier send) is consumed too. */
static inline int selectwake_drain(int fd)
{
	char buf[64];
	for (;;) {
		if (recv((SOCKET)(unsigned)fd, buf, sizeof buf, 0) != SOCKET_ERROR)
			continue;
		int err = WSAGetLastError();
		if (err == WSAEWOULDBLOCK)
			return 0;
		if (err != WSAECONNRESET && err != WSAEMSGSIZE)
			return -err;
	}
}

static inline int selectwake_close(int fd)
{
	return closesocket((SOCKET)(unsigned)fd) == SOCKET_ERROR ? -WSAGetLastError() : 0;
}

#endif /* SELECTWAKE_WINDOWS_H */
