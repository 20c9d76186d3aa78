/*
 * echo_server.c: the blog post's select-driven echo server in C, on the
 * selectshim fd_set shims.
 *
 * The post's lists become two master fd_sets: rmaster is "inputs" (the
 * listener, the self-pipe and every client that is not backpressured) and
 * wmaster is "outputs" (clients with queued bytes). Each connection's output
 * buffer, capped at 1 MiB, is its message queue. Replies go out at once; only
 * what the socket did not take is queued.
 *
 * Exceptional conditions (TCP urgent data, the only thing Linux reports there
 * for a socket) and accept errors follow the servers' shared policy (README,
 * "The servers"): the urgent byte is read and logged, not echoed, and the
 * connection goes on; accept retries at once only errors of the one
 * connection it was taking, and rests the listener on any other.
 */
#include "selectshim.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	READ_BUF = 64 * 1024,
	OUT_CAP = 1024 * 1024,
};
static const int64_t BACKOFF_NS = 100 * 1000 * 1000;

struct conn {
	int fd;
	bool eof;        /* client shut down its side: close once out is drained */
	char peer[64];   /* kept from accept so the close line names this peer */
	char *out;       /* pending output is out[off, off+len) */
	size_t off, len, cap;
};

struct server {
	int lfd, pipe_r, maxfd;
	bool verbose;
	int64_t resume_ns;  /* while > 0 the listener is out of rmaster (EMFILE) */
	fd_set rmaster, wmaster;
	struct conn *conns[FD_SETSIZE];
	char rbuf[READ_BUF];
};

/* Write end of the self-pipe; set once before the handlers are installed. */
static int sig_w = -1;

__attribute__((format(printf, 2, 3)))
static void logmsg(const char *level, const char *fmt, ...)
{
	struct timespec now;
	struct tm tm;
	char ts[32], msg[512];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* stderr is unbuffered, and glibc still emits one fprintf as one write. */
	fprintf(stderr, "%s.%03ldZ %s %s\n", ts, now.tv_nsec / 1000000, level, msg);
}

#define vlog(s, ...) do { if ((s)->verbose) logmsg("INFO", __VA_ARGS__); } while (0)

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	/* A full pipe already holds a wake-up byte, so a failed write is fine. */
	ssize_t r = write(sig_w, &b, 1);
	(void)r;
	errno = saved;
}

/* format_peer writes "1.2.3.4:port" or "[::1]:port". */
static void format_peer(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof host, serv, sizeof serv,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, n, "unknown");
	else
		snprintf(out, n, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, serv);
}

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* listen_on resolves "HOST:PORT" and returns a non-blocking listener, or -1. */
static int listen_on(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res, *ai;
	int fd, one = 1;
	char *end = NULL;

	/* glibc takes port 99999 as 99999 & 0xffff: range-check numbers, pass names on. */
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || (size_t)(colon - addr) >= sizeof host || port < 0 || port > 65535 ||
	    (end == colon + 1 ? *end == '\0' : *end != '\0')) {
		logmsg("ERROR", "bad -addr %s: want HOST:PORT", addr);
		return -1;
	}
	size_t hl = (size_t)(colon - addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0) {
		logmsg("ERROR", "resolve %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	/* Like Go's net.Listen on "localhost:PORT", take the IPv4 address if any. */
	for (ai = res; ai && ai->ai_family != AF_INET; ai = ai->ai_next)
		;
	if (!ai)
		ai = res;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		logmsg("ERROR", "listen %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* conn_close closes one connection; a non-NULL why is an error, always logged. */
static void conn_close(struct server *s, struct conn *c, const char *why)
{
	if (why)
		logmsg("ERROR", "closing %s: %s", c->peer, why);
	else
		vlog(s, "closing %s", c->peer);
	shim_fd_clr(c->fd, &s->rmaster);
	shim_fd_clr(c->fd, &s->wmaster);
	close(c->fd);
	s->conns[c->fd] = NULL;
	while (s->maxfd > 0 && !s->conns[s->maxfd] && s->maxfd != s->lfd && s->maxfd != s->pipe_r)
		s->maxfd--;
	free(c->out);
	free(c);
}

static void conn_fail(struct server *s, struct conn *c, const char *op, int err)
{
	char why[128];
	snprintf(why, sizeof why, "%s: %s", op, strerror(err));
	conn_close(s, c, why);
}

static int out_append(struct conn *c, const char *p, size_t n)
{
	if (c->off + c->len + n > c->cap) {
		if (c->len > 0 && c->off > 0)
			memmove(c->out, c->out + c->off, c->len);
		c->off = 0;
		if (c->len + n > c->cap) {
			size_t cap = c->cap ? c->cap : READ_BUF;
			while (cap < c->len + n)
				cap *= 2;
			char *grown = realloc(c->out, cap);
			if (!grown)
				return -1;
			c->out = grown;
			c->cap = cap;
		}
	}
	memcpy(c->out + c->off + c->len, p, n);
	c->len += n;
	return 0;
}

/* conn_flush sends queued output once; it returns -1 when it closed c. */
static int conn_flush(struct server *s, struct conn *c)
{
	bool was_full = c->len >= OUT_CAP;
	ssize_t n;

	do
		n = send(c->fd, c->out + c->off, c->len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		conn_fail(s, c, "send", errno);
		return -1;
	}
	vlog(s, "sending %zd bytes to %s", n, c->peer);
	c->off += (size_t)n;
	c->len -= (size_t)n;
	if (c->len == 0) {
		/* Drained: give the memory back; an idle connection holds none. */
		free(c->out);
		c->out = NULL;
		c->off = c->cap = 0;
		shim_fd_clr(c->fd, &s->wmaster);
		if (c->eof) {
			conn_close(s, c, NULL);
			return -1;
		}
	}
	if (was_full && c->len < OUT_CAP && !c->eof)
		shim_fd_set(c->fd, &s->rmaster);
	return 0;
}

static void on_readable(struct server *s, struct conn *c)
{
	/* Read no more than the queue can hold (and never 0, which would look like EOF). */
	size_t want = OUT_CAP - c->len < READ_BUF ? OUT_CAP - c->len : READ_BUF;
	ssize_t sent = 0, n;

	if (want == 0)
		return;
	n = recv(c->fd, s->rbuf, want, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_fail(s, c, "recv", errno);
		return;
	}
	if (n == 0) {
		/* Half-close: the client may still read, so flush before closing. */
		c->eof = true;
		shim_fd_clr(c->fd, &s->rmaster);
		if (c->len == 0)
			conn_close(s, c, NULL);
		return;
	}
	vlog(s, "received %zd bytes from %s", n, c->peer);
	if (c->len == 0) {
		sent = send(c->fd, s->rbuf, (size_t)n, MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				conn_fail(s, c, "send", errno);
				return;
			}
			sent = 0;
		} else {
			vlog(s, "sending %zd bytes to %s", sent, c->peer);
		}
	}
	if (sent == n)
		return;
	if (out_append(c, s->rbuf + sent, (size_t)(n - sent)) < 0) {
		conn_fail(s, c, "queue", ENOMEM);
		return;
	}
	shim_fd_set(c->fd, &s->wmaster);
	if (c->len >= OUT_CAP)
		shim_fd_clr(c->fd, &s->rmaster);
}

/* on_urgent reads the urgent byte behind an exceptional condition, which is
 * what clears it. Closing instead, as the post does, would reset the
 * connection with unread input and lose what the client sent before the
 * byte. Returns -1 when it closed c. */
static int on_urgent(struct server *s, struct conn *c)
{
	unsigned char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_OOB | MSG_DONTWAIT);

	if (n == 1) {
		logmsg("WARN", "urgent data read and dropped from %s (fd %d): byte 0x%02x; the connection goes on",
		       c->peer, c->fd, b);
		return 0;
	}
	/* EINVAL: read already, or never there; EAGAIN: the pointer came first. */
	if (n < 0 && errno != EINVAL && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_fail(s, c, "recv MSG_OOB", errno);
		return -1;
	}
	return 0;
}

/* conn_gone reports whether accept failed for the one connection at the head
 * of the queue, so the next can be taken at once: a connection aborted in the
 * backlog, or a network error Linux passes on from it (accept(2)). */
static bool conn_gone(int err)
{
	switch (err) {
	case ECONNABORTED: case EPROTO: case EPERM: case ENETDOWN: case ENOPROTOOPT:
	case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
		return true;
	}
	return false;
}

static void on_listener(struct server *s)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		char peer[64];
		int one = 1;
		int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			if (conn_gone(errno)) {
				logmsg("WARN", "accept: %s: the connection failed before it was accepted", strerror(errno));
				continue;
			}
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unforeseen: the
			 * listener stays readable, so retrying now would spin. */
			logmsg("ERROR", "accept: %s: resting the listener for 100 ms", strerror(errno));
			shim_fd_clr(s->lfd, &s->rmaster);
			s->resume_ns = now_ns() + BACKOFF_NS;
			return;
		}
		format_peer(&ss, sl, peer, sizeof peer);
		if (fd >= FD_SETSIZE) {
			logmsg("ERROR", "closing %s: fd %d >= FD_SETSIZE %d", peer, fd, FD_SETSIZE);
			close(fd);
			continue;
		}
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
			logmsg("ERROR", "TCP_NODELAY on %s: %s", peer, strerror(errno));
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			logmsg("ERROR", "closing %s: out of memory", peer);
			close(fd);
			continue;
		}
		c->fd = fd;
		memcpy(c->peer, peer, sizeof c->peer);
		s->conns[fd] = c;
		shim_fd_set(fd, &s->rmaster);
		if (fd > s->maxfd)
			s->maxfd = fd;
		vlog(s, "connection from %s", c->peer);
	}
}

/* parse_flags takes Go flag syntax: -addr X, -addr=X, --addr X, -v,
 * -idle-thread. */
static void parse_flags(int argc, char **argv, const char **addr, bool *verbose, bool *idle_thread)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i] + (strncmp(argv[i], "--", 2) == 0);
		if (strcmp(a, "-addr") == 0 && i + 1 < argc)
			*addr = argv[++i];
		else if (strncmp(a, "-addr=", 6) == 0)
			*addr = a + 6;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "-v=true") == 0)
			*verbose = true;
		else if (strcmp(a, "-idle-thread") == 0 || strcmp(a, "-idle-thread=true") == 0)
			*idle_thread = true;
		else {
			fprintf(stderr, "usage: echo-server-c [-addr HOST:PORT (default localhost:8090)] [-v] [-idle-thread]\n");
			exit(strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0 ? 0 : 2);
		}
	}
}

/* setup opens the self-pipe the signal handlers write to, installs them,
 * and opens the listener; both fds go into rmaster. Returns -1 on failure,
 * logged. */
static int setup(struct server *s, const char *addr)
{
	int p[2];

	/* MSG_NOSIGNAL covers sockets; this covers stderr on a pipe whose reader died. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		logmsg("ERROR", "pipe2: %s", strerror(errno));
		return -1;
	}
	s->pipe_r = p[0];
	sig_w = p[1];
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	s->lfd = listen_on(addr);
	if (s->lfd < 0)
		return -1;
	shim_fd_zero(&s->rmaster);
	shim_fd_zero(&s->wmaster);
	if (shim_fd_set(s->lfd, &s->rmaster) < 0 || shim_fd_set(s->pipe_r, &s->rmaster) < 0) {
		logmsg("ERROR", "listener or self-pipe fd >= FD_SETSIZE");
		return -1;
	}
	s->maxfd = s->lfd > s->pipe_r ? s->lfd : s->pipe_r;

	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char bound[64] = "?";
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
		format_peer(&ss, sl, bound, sizeof bound);
	logmsg("INFO", "listening on %s", bound);
	return 0;
}

/* serve is the post's loop: select on copies of the master sets, then serve
 * every ready client, then accept. It returns 0 when a signal arrives on the
 * self-pipe, -1 when select fails (logged). */
static int serve(struct server *s)
{
	for (;;) {
		struct timeval tv, *tvp = NULL;

		if (s->resume_ns > 0 && now_ns() >= s->resume_ns) {
			s->resume_ns = 0;
			shim_fd_set(s->lfd, &s->rmaster);
			logmsg("INFO", "resuming accept");
		}
		/* select overwrites its sets, so it gets copies of the masters. */
		fd_set r = s->rmaster, w = s->wmaster, e = s->rmaster;
		/* Only a resting listener needs a timeout; otherwise block at 0% CPU. */
		if (s->resume_ns > 0) {
			tv = shim_timeval_from_ns(s->resume_ns - now_ns());
			tvp = &tv;
		}
		vlog(s, "waiting for the next event");
		int n = shim_select(s->maxfd + 1, &r, &w, &e, tvp);
		if (n == -EINTR || n == 0)
			continue;
		if (n < 0) {
			logmsg("ERROR", "select: %s", strerror(-n));
			return -1;
		}
		if (shim_fd_isset(s->pipe_r, &r))
			return 0;
		for (int fd = 0; fd <= s->maxfd; fd++) {
			struct conn *c = s->conns[fd];
			if (!c)
				continue;
			/* The urgent byte first: on_readable could pass its mark
			 * and lose it (README, "The servers"). */
			if (shim_fd_isset(fd, &e) && on_urgent(s, c) < 0)
				continue;
			if (shim_fd_isset(fd, &w) && conn_flush(s, c) < 0)
				continue;
			if (shim_fd_isset(fd, &r))
				on_readable(s, c);
		}
		/* Accept last: a new fd may reuse a number still set in this round's sets. */
		if (shim_fd_isset(s->lfd, &r))
			on_listener(s);
	}
}

/* shut_down closes every client, the listener and the self-pipe. */
static void shut_down(struct server *s)
{
	unsigned char sig = 0;
	ssize_t got = read(s->pipe_r, &sig, 1);

	vlog(s, "got signal %d, shutting down", got == 1 ? sig : 0);
	for (int fd = 0; fd < FD_SETSIZE; fd++)
		if (s->conns[fd])
			conn_close(s, s->conns[fd], NULL);
	close(s->lfd);
	close(s->pipe_r);
	close(sig_w);
}

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* start_idle_thread starts a second thread that only sleeps, with every
 * signal blocked, so the main thread still takes them all: the server is
 * then a process of two threads sharing one descriptor table, as every Go
 * program is, and pays what the kernel's select charges such a process
 * (README, "The floor"). Returns -1 on failure, logged. */
static int start_idle_thread(void)
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

int main(int argc, char **argv)
{
	static struct server srv;  /* static: conns[] and rbuf are too big for the stack */
	const char *addr = "localhost:8090";
	bool idle_thread = false;

	parse_flags(argc, argv, &addr, &srv.verbose, &idle_thread);
	if (idle_thread && start_idle_thread() < 0)
		return 1;
	if (setup(&srv, addr) < 0 || serve(&srv) < 0)
		return 1;
	shut_down(&srv);
	return 0;
}
