//go:build linux

/* selectpoller.c: see selectpoller.h. */
#include "selectpoller.h"
#include "selectshim.h"
#include "selectwake.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#define EV_ALL (SHIM_READ | SHIM_WRITE | SHIM_EXCEPT)

/* An fd_set is read a word at a time: bit fd % WORD_BITS of word
 * fd / WORD_BITS, an array of unsigned long (or long) in both glibc and
 * musl. Their names for that array and its type differ (__FDS_BITS and
 * __fd_mask are glibc's alone), so this takes the set's own address and
 * asserts at compile time what the cast relies on: the size and alignment
 * of a plain array of words. The bit order within a word, which no
 * compile-time test can see, selectpoller_test checks against FD_ISSET on
 * each platform of the matrix (big-endian s390x included). */
typedef unsigned long word;
#define WORD_BITS ((int)(8 * sizeof(word)))
#define NWORDS (FD_SETSIZE / WORD_BITS)
_Static_assert(FD_SETSIZE % (8 * sizeof(word)) == 0, "FD_SETSIZE is not a whole number of words");
_Static_assert(sizeof(fd_set) == NWORDS * sizeof(word), "fd_set is not a plain array of words");
_Static_assert(_Alignof(fd_set) >= _Alignof(word), "fd_set is not aligned as its words");
#define WORDS(set) ((word *)(void *)(set))

struct selectpoller {
	atomic_int mu;                /* a spinlock: see lock */
	fd_set master[3];             /* read, write, except interest */
	uint8_t interest[FD_SETSIZE];
	uint64_t since[FD_SETSIZE];   /* epoch of each registration */
	uint64_t epoch;               /* bumped by every add */
	uint64_t changes;             /* bumped by every del: tells a stale EBADF apart */
	uint64_t eintr;               /* selects interrupted by a signal, and retried */
	int maxfd;                    /* highest registered fd, the wake fd included */
	int wakefd;
	int wake_word;                /* the wake fd's word and bit in a set, for a quick test */
	word wake_bit;
	int next_fd;                  /* where the next scan starts, after one that ran out of room */
	int closed;
};

/* The registry lock is held for a copy of at most three 128-byte sets, a
 * registry update, or one scan of the ready bits: never across a system
 * call. For sections that short a spinlock that yields the CPU while it
 * waits costs a few instructions where a pthread mutex costs ~50 a pair,
 * and a wait takes the lock twice. */
static void lock(selectpoller *p)
{
	while (atomic_exchange_explicit(&p->mu, 1, memory_order_acquire))
		while (atomic_load_explicit(&p->mu, memory_order_relaxed))
			sched_yield();
}

static void unlock(selectpoller *p)
{
	atomic_store_explicit(&p->mu, 0, memory_order_release);
}

/* set_interest makes the master sets say ev for fd. Under mu. */
static void set_interest(selectpoller *p, int fd, int ev)
{
	p->interest[fd] = (uint8_t)ev;
	for (int k = 0; k < 3; k++) {
		if (ev & (1 << k))
			shim_fd_set(fd, &p->master[k]);
		else
			shim_fd_clr(fd, &p->master[k]);
	}
}

int selectpoller_new(int wakefd, selectpoller **out)
{
	if (wakefd < 0 || wakefd >= FD_SETSIZE)
		return -ERANGE;
	selectpoller *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	atomic_init(&p->mu, 0);
	for (int k = 0; k < 3; k++)
		shim_fd_zero(&p->master[k]);
	p->wakefd = wakefd;
	p->wake_word = wakefd / WORD_BITS;
	p->wake_bit = (word)1 << (wakefd % WORD_BITS);
	p->maxfd = wakefd;
	/* The wake fd is in the read set, but with no interest of its own: it
	 * is never reported, and add refuses it. */
	shim_fd_set(wakefd, &p->master[0]);
	*out = p;
	return 0;
}

void selectpoller_free(selectpoller *p)
{
	free(p);
}

static int check(int fd, int ev)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return -ERANGE;
	if (ev == 0 || (ev & ~EV_ALL))
		return -EINVAL;
	return 0;
}

int selectpoller_add(selectpoller *p, int fd, int ev)
{
	int err = check(fd, ev);
	if (err)
		return err;
	lock(p);
	if (p->closed)
		err = -ESHUTDOWN;
	else if (p->interest[fd] || fd == p->wakefd)
		err = -EEXIST;
	else {
		set_interest(p, fd, ev);
		p->since[fd] = ++p->epoch;
		if (fd > p->maxfd)
			p->maxfd = fd;
	}
	unlock(p);
	return err;
}

int selectpoller_mod(selectpoller *p, int fd, int ev)
{
	int err = check(fd, ev);
	if (err)
		return err;
	lock(p);
	if (p->closed)
		err = -ESHUTDOWN;
	else if (!p->interest[fd])
		err = -ENOENT;
	else
		set_interest(p, fd, ev);
	unlock(p);
	return err;
}

int selectpoller_del(selectpoller *p, int fd)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return -ERANGE;
	int err = 0;
	lock(p);
	if (p->closed)
		err = -ESHUTDOWN;
	else if (!p->interest[fd])
		err = -ENOENT;
	else {
		set_interest(p, fd, 0);
		p->changes++;
		while (p->maxfd > p->wakefd && !p->interest[p->maxfd])
			p->maxfd--;
	}
	unlock(p);
	return err;
}

int selectpoller_shutdown(selectpoller *p)
{
	int err = 0;
	lock(p);
	if (p->closed)
		err = -ESHUTDOWN;
	else {
		p->closed = 1;
		selectwake_signal(p->wakefd);
	}
	unlock(p);
	return err;
}

int selectpoller_fds(selectpoller *p, int *out)
{
	int n = 0;
	lock(p);
	for (int fd = 0; fd <= p->maxfd; fd++)
		if (p->interest[fd])
			out[n++] = fd;
	unlock(p);
	return n;
}

/* scan writes to out, from index n on, the ready and still registered
 * descriptors in words [klo, khi) of the scratch sets r, w and x, the
 * first word masked with first and the last with last, and returns the new
 * count. When out is full and one more is ready, it records that one in
 * next_fd, for the next scan to start with, and sets *full. Under mu.
 * Inlined: a wait calls it once, or twice when it resumes mid-set. */
static inline __attribute__((always_inline)) int
scan(selectpoller *p, const word *r, const word *w, const word *x, int klo, int khi, word first,
     word last, uint64_t epoch, struct selectpoller_event *out, int n, int cap, int *full)
{
	for (int k = klo; k < khi; k++) {
		word rk = r[k], wk = w[k], xk = x[k];
		word any = rk | wk | xk;
		if (k == klo)
			any &= first;
		if (k == khi - 1)
			any &= last;
		while (any) {
			int bit = __builtin_ctzl(any);
			int fd = k * WORD_BITS + bit;
			int ev = (int)((rk >> bit) & 1) | (int)((wk >> bit) & 1) << 1 | (int)((xk >> bit) & 1) << 2;
			any &= any - 1;
			/* Registered after the copy: the readiness may be an older
			 * file's that had the number. Removed or narrowed since: only
			 * what is still wanted. */
			if (p->since[fd] > epoch)
				continue;
			ev &= p->interest[fd];
			if (!ev)
				continue;
			if (n == cap) {
				p->next_fd = fd;
				*full = 1;
				return n;
			}
			out[n].fd = fd;
			out[n].ev = (uint8_t)ev;
			n++;
		}
	}
	return n;
}

int selectpoller_wait(selectpoller *p, struct selectpoller_event *out, int cap, int64_t timeout_ns)
{
	fd_set sets[3];
	word *r = WORDS(&sets[0]), *w = WORDS(&sets[1]), *x = WORDS(&sets[2]);
	struct timeval tv, *tvp = NULL;

	if (cap < 1)
		return -EINVAL;
	if (timeout_ns >= 0) {
		tv = shim_timeval_from_ns(timeout_ns);
		tvp = &tv;
	}
	for (;;) {
		lock(p);
		if (p->closed) {
			unlock(p);
			return -ESHUTDOWN;
		}
		/* select(2) overwrites its sets: hand it copies of the masters,
		 * and only the words up to the highest descriptor, all it reads.
		 * With every descriptor below 64, one word each: three moves, not
		 * three memcpy calls. All three sets go, empty or not: an empty
		 * word costs the kernel nothing, and deciding costs a branch. */
		int maxfd = p->maxfd;
		int nw = (int)((unsigned)maxfd / WORD_BITS) + 1;
		const word *m0 = WORDS(&p->master[0]), *m1 = WORDS(&p->master[1]), *m2 = WORDS(&p->master[2]);
		if (nw == 1) {
			r[0] = m0[0];
			w[0] = m1[0];
			x[0] = m2[0];
		} else {
			memcpy(r, m0, (size_t)nw * sizeof(word));
			memcpy(w, m1, (size_t)nw * sizeof(word));
			memcpy(x, m2, (size_t)nw * sizeof(word));
		}
		/* A poll cannot be woken: leave the wake fd out, one file fewer
		 * for the kernel to poll. A wake meanwhile stays for the next wait. */
		if (timeout_ns == 0)
			r[p->wake_word] &= ~p->wake_bit;
		uint64_t epoch = p->epoch, changes = p->changes;
		unlock(p);

		/* shim_select writes the time not used back into tv, so a retry
		 * below keeps the first call's deadline (PEP 475). */
		int ready = shim_select(maxfd + 1, &sets[0], &sets[1], &sets[2], tvp);
		if (ready == 0)
			return 0;
		int err = ready < 0 ? -ready : 0;

		lock(p);
		int n;
		if (p->closed)
			n = -ESHUTDOWN; /* and leave the wake readable, for the other waits */
		else if (err == EINTR) {
			p->eintr++;
			unlock(p);
			continue;
		} else if (err == EBADF && changes != p->changes) {
			/* A descriptor removed (and maybe closed) since the copy: the
			 * copy was stale, not the registry. */
			unlock(p);
			continue;
		} else if (err)
			n = -err;
		else {
			if (r[p->wake_word] & p->wake_bit) { /* the wake's readiness is not the caller's */
				selectwake_drain(p->wakefd);
				r[p->wake_word] &= ~p->wake_bit;
			}
			int full = 0, start = p->next_fd;
			p->next_fd = 0;
			if (start == 0 || start >= nw * WORD_BITS) {
				n = scan(p, r, w, x, 0, nw, ~(word)0, ~(word)0, epoch, out, 0, cap, &full);
			} else {
				/* Resume where the last scan ran out of room, and wrap round. */
				int ks = start / WORD_BITS;
				word from = ~(((word)1 << (start % WORD_BITS)) - 1);
				n = scan(p, r, w, x, ks, nw, from, ~(word)0, epoch, out, 0, cap, &full);
				if (!full)
					n = scan(p, r, w, x, 0, ks + 1, ~(word)0, ~from, epoch, out, n, cap, &full);
			}
		}
		unlock(p);
		return n;
	}
}

uint64_t selectpoller_eintr(selectpoller *p)
{
	lock(p);
	uint64_t n = p->eintr;
	unlock(p);
	return n;
}
