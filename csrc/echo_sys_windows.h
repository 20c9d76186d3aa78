/*
 * echo_sys_windows.h: echo_server.c's sockets, errors and signals on
 * Windows (Winsock, mingw-w64), included by echo_server.c alone;
 * echo_sys_unix.h has Unix's. Winsock's errors come from WSAGetLastError
 * and are mapped to the errno names the server tests (EAGAIN, EINTR,
 * EINVAL); the others keep their WSA code, which sys_strerror prints.
 */
#ifndef ECHO_SYS_WINDOWS_H
#define ECHO_SYS_WINDOWS_H

#include <winsock2.h>
#include <ws2tcpip.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int sys_init(void)
{
	WSADATA d;
	int rc = WSAStartup(MAKEWORD(2, 2), &d);
	if (rc)
		fprintf(stderr, "WSAStartup: error %d\n", rc);
	return rc ? -1 : 0;
}

static void sys_on_signals(void (*handler)(int))
{
	signal(SIGINT, handler);
	signal(SIGTERM, handler);
}

static int sys_errno(void)
{
	int err = WSAGetLastError();
	switch (err) {
	case WSAEWOULDBLOCK: return EAGAIN;
	case WSAEINTR: return EINTR;
	case WSAEINVAL: return EINVAL;
	}
	return err;
}

static const char *sys_strerror(int err)
{
	static char buf[32];
	if (err < WSABASEERR)
		return strerror(err);
	snprintf(buf, sizeof buf, "Winsock error %d", err);
	return buf;
}

static void sys_gmtime(const time_t *t, struct tm *tm) { gmtime_s(tm, t); }
static int sys_close(int fd) { return closesocket((SOCKET)(unsigned)fd); }

static int sys_nonblock(int fd)
{
	u_long on = 1;
	return ioctlsocket((SOCKET)(unsigned)fd, FIONBIO, &on) ? -1 : 0;
}

static int sys_socket(const struct addrinfo *ai)
{
	SOCKET s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (s == INVALID_SOCKET)
		return -1;
	if (sys_nonblock((int)s) < 0) {
		closesocket(s);
		return -1;
	}
	return (int)s;
}

/* No SO_REUSEADDR: on Windows it lets another socket steal a bound port. */
static int sys_reuseaddr(int fd, int one) { (void)fd; (void)one; return 0; }

static int sys_nodelay(int fd, int one)
{
	return setsockopt((SOCKET)(unsigned)fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
}

static int sys_accept(int lfd, struct sockaddr_storage *ss, socklen_t *sl)
{
	SOCKET s = accept((SOCKET)(unsigned)lfd, (struct sockaddr *)ss, sl);
	if (s == INVALID_SOCKET)
		return -1;
	if (sys_nonblock((int)s) < 0) {
		int err = WSAGetLastError();
		closesocket(s);
		WSASetLastError(err);
		return -1;
	}
	return (int)s;
}

static ssize_t sys_send(int fd, const char *p, size_t n) { return send((SOCKET)(unsigned)fd, p, (int)n, 0); }
static ssize_t sys_recv(int fd, void *p, size_t n, int flags) { return recv((SOCKET)(unsigned)fd, p, (int)n, flags); }

/* sys_conn_gone: sys_errno's codes for a connection that failed before it
 * was accepted (echo_sys_unix.h's list, in Winsock's names). */
static bool sys_conn_gone(int err)
{
	switch (err) {
	case WSAECONNABORTED: case WSAECONNRESET: case WSAENETDOWN: case WSAEHOSTUNREACH: case WSAENETUNREACH:
		return true;
	}
	return false;
}

static DWORD WINAPI sleep_forever(LPVOID arg)
{
	(void)arg;
	for (;;)
		Sleep(INFINITE);
	return 0;
}

/* sys_start_idle_thread: echo_sys_unix.h's, a second thread that only
 * sleeps. Returns -1 on failure, logged. */
static int sys_start_idle_thread(void)
{
	HANDLE t = CreateThread(NULL, 0, sleep_forever, NULL, 0, NULL);
	if (!t) {
		fprintf(stderr, "echo-server-c: CreateThread: error %lu\n", (unsigned long)GetLastError());
		return -1;
	}
	CloseHandle(t);
	return 0;
}

#endif /* ECHO_SYS_WINDOWS_H */
