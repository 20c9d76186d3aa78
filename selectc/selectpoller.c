//go:build linux || windows

/* selectpoller.c: see selectpoller.h. */
#include "selectpoller.h"
#include "selectregistry.h"
#include "selectshim.h"
#include "selectwake.h"

#include <errno.h>
#include <sched.h> /* sched_yield: POSIX, and winpthreads' on Windows */
#include <stdatomic.h>
#include <stdlib.h>

struct selectpoller {
	atomic_int mu;            /* a spinlock: see lock */
	struct selectregistry reg;
	uint64_t eintr;           /* selects interrupted by a signal, and retried */
	/* Where the next scan starts, after one that ran out of room: advice
	 * for fairness, read and written with relaxed atomics, since the
	 * fast path writes it without the lock. */
	atomic_int next_fd;
};

/* selectpoller_fastpath hands out mu and next_fd as ints. */
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
		atomic_init(&p->next_fd, 0);
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
	return unlocked(p, selectregistry_del(&p->reg, fd, NULL));
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
	out->next_fd = (int *)&p->next_fd;
}

int selectpoller_fds(selectpoller *p, int *out)
{
	lock(p);
	return unlocked(p, selectregistry_fds(&p->reg, out));
}

/* put adds fd, ready for ev, to out, which holds n, and returns the new
 * count; when out is full (n == cap) it records next, where the next
 * scan starts, sets *full and adds nothing. Under the lock. */
static inline int put(selectpoller *p, struct selectpoller_event *out, int n, int cap, int fd, int ev,
                      int next, int *full)
{
	if (n == cap) {
		atomic_store_explicit(&p->next_fd, next, memory_order_relaxed);
		*full = 1;
		return n;
	}
	out[n].fd = fd;
	out[n].ev = (uint8_t)ev;
	return n + 1;
}

/* collect writes the ready and still registered descriptors of the
 * scratch sets to out, at most cap, resuming where the last wait that ran
 * out of room stopped (p->next_fd), and returns how many. Under the lock.
 * How it reads the sets is the system's: selectpoller_unix.h scans words
 * of bits, selectpoller_windows.h the registry's slots. */
#ifdef _WIN32
#include "selectpoller_windows.h"
#else
#include "selectpoller_unix.h"
#endif

int selectpoller_wait(selectpoller *p, struct selectpoller_event *out, int cap, int64_t timeout_ns)
{
	fd_set sets[3];
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
			n = collect(p, sets, &c, out, cap);
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
