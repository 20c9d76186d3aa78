/*
 * winsock_test: selectc's C on Windows (cross-built with mingw-w64, run
 * under wine by make test-cross): the shims' Winsock rules
 * (selectshim_windows.h), the wake socket, and the registry, poller and
 * loop on loopback TCP sockets. The Unix harnesses (selectshim_test and the
 * others) need pipes, signals and fork.
 */
#include "check.h"
#include "selectloop.h"
#include "selectpoller.h"
#include "selectshim.h"
#include "selectwake.h"

#include <winsock2.h>

/* tcp_pair connects two loopback TCP sockets: *a the client, *b the server's. */
static int tcp_pair(int *a, int *b)
{
	SOCKET ln = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	int len = sizeof sa;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ln, (struct sockaddr *)&sa, sizeof sa) || listen(ln, 1) || getsockname(ln, (struct sockaddr *)&sa, &len) ||
	    connect(c, (struct sockaddr *)&sa, sizeof sa))
		return -1;
	SOCKET s = accept(ln, NULL, NULL);
	closesocket(ln);
	*a = (int)c;
	*b = (int)s;
	return s == INVALID_SOCKET ? -1 : 0;
}

static void test_fd_macros(void)
{
	fd_set s;
	shim_fd_zero(&s);
	check(shim_fd_setsize() == 1024 && sizeof(fd_set) == 8 + 1024 * sizeof(SOCKET),
	      "FD_SETSIZE %d, sizeof(fd_set) %d", shim_fd_setsize(), (int)sizeof(fd_set));
	int ok = 1;
	for (int i = 0; i < FD_SETSIZE; i++)
		ok &= shim_fd_set(4 * i + 1, &s) == 0;
	check(ok && s.fd_count == FD_SETSIZE, "FD_SETSIZE distinct sockets fit (count %u)", s.fd_count);
	check(shim_fd_set(4 * FD_SETSIZE + 1, &s) == -ENOSPC && s.fd_count == FD_SETSIZE &&
	          !shim_fd_isset(4 * FD_SETSIZE + 1, &s),
	      "one more: -ENOSPC, the set unchanged (Winsock's FD_SET drops it silently)");
	check(shim_fd_set(1, &s) == 0 && s.fd_count == FD_SETSIZE, "a member again: 0, no new entry");
	check(shim_fd_set(-1, &s) == -ERANGE && shim_fd_clr(-1, &s) == -ERANGE && !shim_fd_isset(-1, &s),
	      "a negative fd: -ERANGE");
	check(shim_fd_clr(1, &s) == 0 && s.fd_count == FD_SETSIZE - 1 && !shim_fd_isset(1, &s), "FD_CLR takes one out");
	check(shim_time_max() == 2147483647, "tv_sec is a 32-bit long: shim_time_max %lld", (long long)shim_time_max());
	struct timeval tv = shim_timeval_from_ns(INT64_MAX);
	check(tv.tv_sec == 2147483647 && tv.tv_usec == 999999, "the longest timeout saturates at {2^31-1, 999999}");
}

static void test_select(int a, int b)
{
	fd_set r;
	struct timeval tv = {0, 20000};
	int64_t t0 = now_ns();
	int n = shim_select(0, NULL, NULL, NULL, &tv);
	int64_t took = now_ns() - t0;
	check(n == 0 && took >= 15000000, "empty sets sleep for the timeout, as on Linux (%d after %lld ns)", n,
	      (long long)took);
	shim_fd_zero(&r);
	shim_fd_set(b, &r);
	tv = (struct timeval){0, 20000};
	check(shim_select(0, &r, NULL, NULL, &tv) == 0 && r.fd_count == 0, "an idle socket times out");
	check(send((SOCKET)a, "x", 1, 0) == 1, "send one byte");
	shim_fd_zero(&r);
	shim_fd_set(b, &r);
	tv = (struct timeval){1, 0};
	n = shim_select(0, &r, NULL, NULL, &tv);
	check(n == 1 && shim_fd_isset(b, &r) && tv.tv_sec == 0 && tv.tv_usec > 900000,
	      "the reader is ready, nfds 0 ignored, time left counted (%d, {%ld, %ld})", n, tv.tv_sec, tv.tv_usec);
	char c;
	recv((SOCKET)b, &c, 1, 0);
	shim_fd_zero(&r);
	shim_fd_set(4 * 1000 + 1, &r);
	n = shim_select(0, &r, NULL, NULL, &tv);
	check(n == -WSAENOTSOCK, "no socket: -WSAENOTSOCK (got %d)", n);

	int fds[2] = {b, a};
	uint8_t ev[2] = {SHIM_READ, SHIM_WRITE};
	n = shim_select_batch(fds, ev, 2, 1000000000, NULL);
	check(n >= 1 && ev[0] == 0 && ev[1] == SHIM_WRITE, "batch: the writer writable, the reader not (%d: %d %d)", n,
	      ev[0], ev[1]);
}

static void test_wake(void)
{
	int w;
	check(selectwake_open(&w) == 0, "selectwake_open: a loopback UDP socket");
	fd_set r;
	shim_fd_zero(&r);
	shim_fd_set(w, &r);
	struct timeval tv = {0, 0};
	check(shim_select(0, &r, NULL, NULL, &tv) == 0, "a fresh wake is not readable");
	check(selectwake_signal(w) == 0 && selectwake_signal(w) == 0, "two signals");
	shim_fd_zero(&r);
	shim_fd_set(w, &r);
	tv = (struct timeval){1, 0};
	check(shim_select(0, &r, NULL, NULL, &tv) == 1, "a signalled wake is readable");
	check(selectwake_drain(w) == 0, "drain");
	shim_fd_zero(&r);
	shim_fd_set(w, &r);
	tv = (struct timeval){0, 0};
	check(shim_select(0, &r, NULL, NULL, &tv) == 0, "drained: not readable");
	check(selectwake_close(w) == 0, "close");
}

static void test_poller(int a, int b)
{
	int w;
	selectpoller *p;
	struct selectpoller_event out[4];
	check(selectwake_open(&w) == 0 && selectpoller_new(w, &p) == 0, "selectpoller_new");
	check(selectpoller_add(p, b, SHIM_READ) == 0 && selectpoller_add(p, a, SHIM_WRITE) == 0, "add a reader and a writer");
	check(selectpoller_add(p, b, SHIM_READ) == -EEXIST && selectpoller_add(p, w, SHIM_READ) == -EEXIST,
	      "add twice, or the wake: -EEXIST");
	int n = selectpoller_wait(p, out, 4, 1000000000);
	check(n == 1 && out[0].fd == a && out[0].ev == SHIM_WRITE, "wait: the writer (%d)", n);
	check(selectpoller_mod(p, a, SHIM_READ) == 0, "mod the writer to read");
	n = selectpoller_wait(p, out, 4, 20000000);
	check(n == 0, "wait: nothing ready times out (%d)", n);
	send((SOCKET)a, "y", 1, 0);
	n = selectpoller_wait(p, out, 4, 1000000000);
	check(n == 1 && out[0].fd == b && out[0].ev == SHIM_READ, "wait: the reader after a send (%d)", n);
	char c;
	recv((SOCKET)b, &c, 1, 0);
	selectwake_signal(w);
	check(selectpoller_wait(p, out, 4, 5000000000LL) == 0, "a wake ends a wait with 0");
	check(selectpoller_del(p, a) == 0 && selectpoller_del(p, a) == -ENOENT, "del, twice: -ENOENT");
	int ok = 1, i;
	for (i = 0; i < FD_SETSIZE - 2; i++)
		ok &= selectpoller_add(p, 4 * i + 1, SHIM_READ) == 0;
	check(ok && selectpoller_add(p, 4 * i + 1, SHIM_READ) == -ENOSPC,
	      "FD_SETSIZE-1 sockets with the wake's place, then -ENOSPC");
	check(selectpoller_shutdown(p) == 0 && selectpoller_wait(p, out, 4, 0) == -ESHUTDOWN, "shutdown");
	selectpoller_free(p);
	selectwake_close(w);
}

static int dispatched, dispatched_fd;
static int on_ready(void *handle, int fd, int ev)
{
	(void)handle;
	dispatched++;
	dispatched_fd = fd;
	return ev == SHIM_READ; /* stop the loop */
}

static void test_loop(int a, int b)
{
	int w;
	selectloop *l;
	check(selectwake_open(&w) == 0 && selectloop_new(w, &l) == 0, "selectloop_new");
	check(selectloop_add(l, b, SHIM_READ, &dispatched) == 0, "add the reader");
	send((SOCKET)a, "z", 1, 0);
	check(selectloop_run(l, on_ready) == SELECTLOOP_ABORTED && dispatched_fd == b, "run dispatches the reader");
	void *h;
	check(selectloop_del(l, b, &h) == 0 && h == &dispatched, "del gives the handle back");
	check(selectloop_close(l) == 0, "close");
	selectloop_free(l);
}

int main(void)
{
	WSADATA d;
	if (WSAStartup(MAKEWORD(2, 2), &d)) {
		printf("WSAStartup failed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	int a = -1, b = -1;
	test_fd_macros();
	test_wake();
	if (!check(tcp_pair(&a, &b) == 0, "a loopback TCP pair"))
		return check_done("winsock-test");
	test_select(a, b);
	test_poller(a, b);
	test_loop(a, b);
	return check_done("winsock-test");
}
