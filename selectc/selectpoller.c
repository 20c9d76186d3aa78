//go:build linux

/* selectpoller.c: see selectpoller.h. */
#include "selectpoller.h"
#include "selectregistry.h"
#include "selectshim.h"
#include "selectwake.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef selectregistry_word word;
#define WORD_BITS SELECTREGISTRY_WORD_BITS
#define WORDS SELECTREGISTRY_WORDS

struct selectpoller {
	atomic_int mu;            /* a spinlock: see lock */
	struct selectregistry reg;
	uint64_t eintr;           /* selects interrupted by a signal, and retried */
	int next_fd;              /* where the next scan starts, after one that ran out of room */
};

/* selectpoller_fastpath hands out mu as an int. */
_Static_assert(sizeof(atomic_int) == sizeof(int) && _Alignof(atomic_int) == _Alignof(int),
               "atomic_int is not laid out as an int");

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

/* unlocked unlocks p and passes rc on: the registry calls below are one
 * call each under the lock. */
static int unlocked(selectpoller *p, int rc)
{
	unlock(p);
	return rc;
}

int selectpoller_new(int wakefd, selectpoller **out)
{
	selectpoller *p = calloc(1, sizeof *p);
	int err = p ? selectregistry_init(&p->reg, wakefd) : -ENOMEM;
	if (err)
		free(p);
	else {
		atomic_init(&p->mu, 0);
		*out = p;
	}
	return err;
}

void selectpoller_free(selectpoller *p)
{
	free(p);
}

int selectpoller_add(selectpoller *p, int fd, int ev)
{
	lock(p);
	return unlocked(p, selectregistry_add(&p->reg, fd, ev));
}

int selectpoller_mod(selectpoller *p, int fd, int ev)
{
	lock(p);
	return unlocked(p, selectregistry_mod(&p->reg, fd, ev));
}

int selectpoller_del(selectpoller *p, int fd)
{
	lock(p);
	return unlocked(p, selectregistry_del(&p->reg, fd));
}

int selectpoller_shutdown(selectpoller *p)
{
	lock(p);
	int err = selectregistry_close(&p->reg);
	if (!err)
		selectwake_signal(p->reg.wakefd);
	return unlocked(p, err);
}

void selectpoller_fastpath(selectpoller *p, struct selectpoller_fastpath *out)
{
	out->lock = (int *)&p->mu;
	out->reg = &p->reg;
	out->next_fd = &p->next_fd;
}

int selectpoller_fds(selectpoller *p, int *out)
{
	lock(p);
	return unlocked(p, selectregistry_fds(&p->reg, out));
}

/* scan writes to out, from index n on, the ready and still registered
 * descriptors in words [klo, khi) of the scratch sets r, w and x, the
 * first word masked with first and the last with last, and returns the new
 * count. When out is full and one more is ready, it records that one in
 * next_fd, for the next scan to start with, and sets *full. Under mu.
 * Inlined: a wait calls it once, or twice when it resumes mid-set. */
static inline __attribute__((always_inline)) int
scan(selectpoller *p, const word *r, const word *w, const word *x, int klo, int khi, word first,
     word last, const struct selectregistry_copy *c, struct selectpoller_event *out, int n, int cap, int *full)
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
			ev = selectregistry_wanted(&p->reg, fd, ev, c);
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
		struct selectregistry_copy c;
		lock(p);
		if (p->reg.closed) {
			unlock(p);
			return -ESHUTDOWN;
		}
		selectregistry_copy(&p->reg, sets, &c);
		/* A poll cannot be woken: leave the wake fd out, one file fewer
		 * for the kernel to poll. A wake meanwhile stays for the next wait. */
		if (timeout_ns == 0)
			selectregistry_wake_clear(&p->reg, &sets[0]);
		unlock(p);

		/* EINTR and the deadline: shim_select_retry. tv keeps the time left
		 * for the stale-EBADF retry below too. */
		uint64_t eintr = 0;
		int ready = shim_select_retry(c.nfds, &sets[0], &sets[1], &sets[2], tvp, &eintr);
		if (ready == 0 && eintr == 0)
			return 0;

		lock(p);
		p->eintr += eintr;
		int n;
		if (ready == 0)
			n = 0;
		else if (p->reg.closed)
			n = -ESHUTDOWN; /* and leave the wake readable, for the other waits */
		else if (selectregistry_stale(&p->reg, &c, ready)) {
			unlock(p);
			continue;
		} else if (ready < 0)
			n = ready;
		else {
			if (selectregistry_wake_ready(&p->reg, &sets[0])) { /* the wake's readiness is not the caller's */
				selectwake_drain(p->reg.wakefd);
				selectregistry_wake_clear(&p->reg, &sets[0]);
			}
			int full = 0, start = p->next_fd, nw = c.nwords;
			p->next_fd = 0;
			if (start == 0 || start >= nw * WORD_BITS) {
				n = scan(p, r, w, x, 0, nw, ~(word)0, ~(word)0, &c, out, 0, cap, &full);
			} else {
				/* Resume where the last scan ran out of room, and wrap round. */
				int ks = start / WORD_BITS;
				word from = ~(((word)1 << (start % WORD_BITS)) - 1);
				n = scan(p, r, w, x, ks, nw, from, ~(word)0, &c, out, 0, cap, &full);
				if (!full)
					n = scan(p, r, w, x, 0, ks + 1, ~(word)0, ~from, &c, out, n, cap, &full);
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
