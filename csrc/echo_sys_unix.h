/*
 * echo_sys_unix.h: echo_server.c's sockets, errors and signals on Unix,
 * included by echo_server.c alone; echo_sys_windows.h has Winsock's.
 */
#ifndef ECHO_SYS_UNIX_H
#define ECHO_SYS_UNIX_H

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sys_init(void)
{
	/* MSG_NOSIGNAL covers sockets; this covers stderr on a pipe whose reader died. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void sys_on_signals(void (*handler)(int))
{
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int sys_errno(void) { return errno; }
static const char *sys_strerror(int err) { return strerror(err); }
static void sys_gmtime(const time_t *t, struct tm *tm) { gmtime_r(t, tm); }
static int sys_close(int fd) { return close(fd); }

static int sys_socket(const struct addrinfo *ai)
{
	return socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
}

static int sys_reuseaddr(int fd, int one) { return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); }
static int sys_nodelay(int fd, int one) { return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }

static int sys_accept(int lfd, struct sockaddr_storage *ss, socklen_t *sl)
{
	return accept4(lfd, (struct sockaddr *)ss, sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static ssize_t sys_send(int fd, const char *p, size_t n) { return send(fd, p, n, MSG_NOSIGNAL); }
static ssize_t sys_recv(int fd, void *p, size_t n, int flags) { return recv(fd, p, n, flags); }

/* sys_conn_gone reports whether accept failed for the one connection at the
 * head of the queue, so the next can be taken at once: a connection aborted
 * in the backlog, or a network error Linux passes on from it (accept(2)). */
static bool sys_conn_gone(int err)
{
	switch (err) {
	case ECONNABORTED: case EPROTO: case EPERM: case ENETDOWN: case ENOPROTOOPT:
	case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
		return true;
	}
	return false;
}

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* sys_start_idle_thread starts a second thread that only sleeps, with every
 * signal blocked, so the main thread still takes them all: the server is
 * then a process of two threads sharing one descriptor table, as every Go
 * program is, and pays what the kernel's select charges such a process
 * (README, "The floor"). Returns -1 on failure, logged. */
static int sys_start_idle_thread(void)
{
	sigset_t all, old;
	pthread_t t;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&t, NULL, sleep_forever, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		fprintf(stderr, "echo-server-c: pthread_create: %s\n", strerror(err));
		return -1;
	}
	return 0;
}

#endif /* ECHO_SYS_UNIX_H */
