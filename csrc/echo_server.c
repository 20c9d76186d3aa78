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
#include "selectwake.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What differs by system (sockets, their errors, signals): one small file
 * each, behind the sys_ names. */
#ifdef _WIN32
#include "echo_sys_windows.h"
#else
#include "echo_sys_unix.h"
#endif

enum {
	READ_BUF = 64 * 1024,
	OUT_CAP = 1024 * 1024,
};
static const int64_t BACKOFF_NS = 100 * 1000 * 1000;

struct conn {
	int fd;
	int slot;        /* its place in server.conns */
	bool eof;        /* client shut down its side: close once out is drained */
	char peer[64];   /* kept from accept so the close line names this peer */
	char *out;       /* pending output is out[off, off+len) */
	size_t off, len, cap;
};

struct server {
	int lfd, wake, maxfd;  /* wake: selectwake's descriptor, signalled on SIGINT and SIGTERM */
	bool verbose;
	int64_t resume_ns;  /* while > 0 the listener is out of rmaster (EMFILE) */
	fd_set rmaster, wmaster;
	/* The clients by slot, not by descriptor: on Windows a SOCKET's value
	 * is no index (Winsock's FD_SETSIZE counts sockets). nslots: slots
	 * [0, nslots) are in use or free. */
	struct conn *conns[FD_SETSIZE];
	int nslots;
	char rbuf[READ_BUF];
};

/* The wake descriptor the signal handler signals; set once before it is installed. */
static int sig_wake = -1;

__attribute__((format(gnu_printf, 2, 3))) /* C99 formats (%zd) on mingw too: __USE_MINGW_ANSI_STDIO */
static void logmsg(const char *level, const char *fmt, ...)
{
	struct timespec now;
	struct tm tm;
	char ts[32], msg[512];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	sys_gmtime(&now.tv_sec, &tm);
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
	(void)sig;
	/* write(2) or send: async-signal-safe; a full counter is awake already. */
	selectwake_signal(sig_wake);
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
	fd = sys_socket(ai);
	if (fd < 0 || sys_reuseaddr(fd, one) < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		logmsg("ERROR", "listen %s: %s", addr, sys_strerror(sys_errno()));
		if (fd >= 0)
			sys_close(fd);
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
	sys_close(c->fd);
	s->conns[c->slot] = NULL;
	while (s->nslots > 0 && !s->conns[s->nslots - 1])
		s->nslots--;
	if (c->fd == s->maxfd) {
		s->maxfd = s->lfd > s->wake ? s->lfd : s->wake;
		for (int i = 0; i < s->nslots; i++)
			if (s->conns[i] && s->conns[i]->fd > s->maxfd)
				s->maxfd = s->conns[i]->fd;
	}
	free(c->out);
	free(c);
}

static void conn_fail(struct server *s, struct conn *c, const char *op, int err)
{
	char why[128];
	snprintf(why, sizeof why, "%s: %s", op, sys_strerror(err));
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

	int err;
	do
		n = sys_send(c->fd, c->out + c->off, c->len);
	while (n < 0 && (err = sys_errno()) == EINTR);
	if (n < 0) {
		if (err == EAGAIN || err == EWOULDBLOCK)
			return 0;
		conn_fail(s, c, "send", err);
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
	n = sys_recv(c->fd, s->rbuf, want, 0);
	if (n < 0) {
		int err = sys_errno();
		if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
			conn_fail(s, c, "recv", err);
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
		sent = sys_send(c->fd, s->rbuf, (size_t)n);
		if (sent < 0) {
			int err = sys_errno();
			if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
				conn_fail(s, c, "send", err);
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
	ssize_t n = sys_recv(c->fd, &b, 1, MSG_OOB);
	int err = n < 0 ? sys_errno() : 0;

	if (n == 1) {
		logmsg("WARN", "urgent data read and dropped from %s (fd %d): byte 0x%02x; the connection goes on",
		       c->peer, c->fd, b);
		return 0;
	}
	/* EINVAL: read already, or never there; EAGAIN: the pointer came first. */
	if (n < 0 && err != EINVAL && err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
		conn_fail(s, c, "recv MSG_OOB", err);
		return -1;
	}
	return 0;
}

static void on_listener(struct server *s)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		char peer[64];
		int one = 1;
		int fd = sys_accept(s->lfd, &ss, &sl);

		if (fd < 0) {
			int err = sys_errno();
			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (err == EINTR)
				continue;
			if (sys_conn_gone(err)) {
				logmsg("WARN", "accept: %s: the connection failed before it was accepted", sys_strerror(err));
				continue;
			}
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unforeseen: the
			 * listener stays readable, so retrying now would spin. */
			logmsg("ERROR", "accept: %s: resting the listener for 100 ms", sys_strerror(err));
			shim_fd_clr(s->lfd, &s->rmaster);
			s->resume_ns = now_ns() + BACKOFF_NS;
			return;
		}
		format_peer(&ss, sl, peer, sizeof peer);
		int slot = 0;
		while (slot < s->nslots && s->conns[slot])
			slot++;
		/* shim_fd_set refuses what select cannot watch: on Unix fd >=
		 * FD_SETSIZE, on Windows a full set (-ENOSPC). */
		int rc = slot < FD_SETSIZE ? shim_fd_set(fd, &s->rmaster) : -ENOSPC;
		if (rc < 0) {
			logmsg("ERROR", "closing %s: fd %d: select cannot watch it (FD_SETSIZE %d): %s", peer, fd,
			       FD_SETSIZE, strerror(-rc));
			sys_close(fd);
			continue;
		}
		if (sys_nodelay(fd, one) < 0)
			logmsg("ERROR", "TCP_NODELAY on %s: %s", peer, sys_strerror(sys_errno()));
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			logmsg("ERROR", "closing %s: out of memory", peer);
			shim_fd_clr(fd, &s->rmaster);
			sys_close(fd);
			continue;
		}
		c->fd = fd;
		c->slot = slot;
		memcpy(c->peer, peer, sizeof c->peer);
		s->conns[slot] = c;
		if (slot == s->nslots)
			s->nslots++;
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

/* setup opens the wake descriptor the signal handlers signal
 * (selectwake.h), installs them, and opens the listener; both go into
 * rmaster. Returns -1 on failure, logged. */
static int setup(struct server *s, const char *addr)
{
	if (sys_init() < 0)
		return -1;
	int rc = selectwake_open(&s->wake);
	if (rc < 0) {
		logmsg("ERROR", "wake descriptor: %s", sys_strerror(-rc));
		return -1;
	}
	sig_wake = s->wake;
	sys_on_signals(on_signal);

	s->lfd = listen_on(addr);
	if (s->lfd < 0)
		return -1;
	shim_fd_zero(&s->rmaster);
	shim_fd_zero(&s->wmaster);
	if (shim_fd_set(s->lfd, &s->rmaster) < 0 || shim_fd_set(s->wake, &s->rmaster) < 0) {
		logmsg("ERROR", "listener or wake fd >= FD_SETSIZE");
		return -1;
	}
	s->maxfd = s->lfd > s->wake ? s->lfd : s->wake;

	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char bound[64] = "?";
	(void)rc;
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
			logmsg("ERROR", "select: %s", sys_strerror(-n));
			return -1;
		}
		if (shim_fd_isset(s->wake, &r))
			return 0;
		for (int i = 0; i < s->nslots; i++) {
			struct conn *c = s->conns[i];
			if (!c)
				continue;
			/* The urgent byte first: on_readable could pass its mark
			 * and lose it (README, "The servers"). */
			int fd = c->fd;
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

/* shut_down closes every client, the listener and the wake descriptor. */
static void shut_down(struct server *s)
{
	vlog(s, "got a signal, shutting down");
	for (int i = s->nslots - 1; i >= 0; i--)
		if (s->conns[i])
			conn_close(s, s->conns[i], NULL);
	sys_close(s->lfd);
	selectwake_close(s->wake);
}

int main(int argc, char **argv)
{
	static struct server srv;  /* static: conns[] and rbuf are too big for the stack */
	const char *addr = "localhost:8090";
	bool idle_thread = false;

	parse_flags(argc, argv, &addr, &srv.verbose, &idle_thread);
	if (idle_thread && sys_start_idle_thread() < 0)
		return 1;
	if (setup(&srv, addr) < 0 || serve(&srv) < 0)
		return 1;
	shut_down(&srv);
	return 0;
}
