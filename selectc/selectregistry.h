/*
 * selectregistry: the registry that selectloop and selectpoller both keep,
 * in the manner of redis's ae_select.c, whose aeApiState holds a backend's
 * whole state: master fd_sets, each descriptor's interest
 * (SHIM_READ|SHIM_WRITE|SHIM_EXCEPT), the highest descriptor, and two
 * counters. One struct, embedded in its owner, which serialises every call
 * with its own lock (selectloop a recursive mutex, selectpoller a spinlock):
 * nothing here locks.
 *
 * A wait copies the master sets into scratch sets (select overwrites what
 * it is given), lets go of the lock, selects, and takes the lock again.
 * Meanwhile the registry may have changed under it, and the two counters
 * the copy keeps say how:
 *   - epoch, bumped by every add and stamped on the registration: readiness
 *     for a descriptor registered after the copy belongs to whatever file
 *     had the number before (numbers are reused), so it is dropped;
 *   - changes, bumped by every del: an EBADF from a select whose copy is
 *     older than a del is the copy's, not the registry's (the caller may
 *     have closed the descriptor it removed), so the wait copies again.
 *
 * The owner's wake descriptor sits in the read set with no interest of its
 * own: it is never reported nor listed, and add refuses it.
 *
 * Calls return 0 or -errno, as in selectshim, checking the arguments before
 * the state: -ERANGE: fd out of range (selectshim.h's rule); -EINVAL: ev
 * empty or with unknown bits; -ESHUTDOWN: closed; -EEXIST: fd registered
 * already, or the wake descriptor; -ENOENT: fd not registered; -ENOSPC
 * (Windows only): FD_SETSIZE sockets registered already.
 *
 * The state is per system, behind these calls and the inline ones below:
 * on Unix an fd_set is a bit mask and the registry arrays are indexed by
 * the descriptor (selectregistry.c); on Windows an fd_set is Winsock's
 * list, so the registry is a table of up to FD_SETSIZE sockets and a
 * Write interest sits in the except set too, where Winsock reports a
 * failed connect (selectregistry_windows.h and .c).
 */
#ifndef SELECTREGISTRY_H
#define SELECTREGISTRY_H

#include "selectshim.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#ifdef _WIN32
#include "selectregistry_windows.h"
#else
/* An fd_set is read a word at a time: bit fd % SELECTREGISTRY_WORD_BITS of
 * word fd / SELECTREGISTRY_WORD_BITS, an array of unsigned long (or long)
 * in both glibc and musl. Their names for that array and its type differ
 * (__FDS_BITS and __fd_mask are glibc's alone), so this takes the set's own
 * address and asserts at compile time what the cast relies on: the size and
 * alignment of a plain array of words. The bit order within a word, which
 * no compile-time test can see, selectpoller_test checks against FD_ISSET
 * on each platform of the matrix (big-endian s390x included). */
typedef unsigned long selectregistry_word;
#define SELECTREGISTRY_WORD_BITS ((int)(8 * sizeof(selectregistry_word)))
#define SELECTREGISTRY_NWORDS (FD_SETSIZE / SELECTREGISTRY_WORD_BITS)
_Static_assert(FD_SETSIZE % (8 * sizeof(selectregistry_word)) == 0, "FD_SETSIZE is not a whole number of words");
_Static_assert(sizeof(fd_set) == SELECTREGISTRY_NWORDS * sizeof(selectregistry_word), "fd_set is not a plain array of words");
_Static_assert(_Alignof(fd_set) >= _Alignof(selectregistry_word), "fd_set is not aligned as its words");
#define SELECTREGISTRY_WORDS(set) ((selectregistry_word *)(void *)(set))

struct selectregistry {
	fd_set master[3];             /* read, write, except interest, the wake fd in read */
	uint8_t interest[FD_SETSIZE]; /* 0: not registered */
	void *data[FD_SETSIZE];       /* the owner's, per registration: selectregistry_data */
	uint64_t since[FD_SETSIZE];   /* the epoch of each registration */
	uint64_t epoch;               /* bumped by every add */
	uint64_t changes;             /* bumped by every del */
	uint64_t gen;                 /* bumped by every change: selectregistry_changed */
	int maxfd;                    /* highest registered fd, or the wake fd if higher */
	int wakefd;
	int wake_word;                /* the wake fd's word and bit in a set, for a quick test */
	selectregistry_word wake_bit;
	int closed;
};

/* What a wait copied: select's nfds, how many words of each set that is,
 * and the counters at the time. */
struct selectregistry_copy {
	int nfds, nwords;
	uint64_t epoch, changes;
};

/* selectregistry_copy copies the master sets into sets, only the words up
 * to the highest descriptor (all that select reads of them), and records
 * the copy in c. With every descriptor below one word's width that is three
 * moves, not three memcpy calls. Inline: a wait calls it every time. */
static inline void selectregistry_copy(const struct selectregistry *r, fd_set sets[3], struct selectregistry_copy *c)
{
	int nw = (int)((unsigned)r->maxfd / SELECTREGISTRY_WORD_BITS) + 1;
	for (int k = 0; k < 3; k++) {
		const selectregistry_word *m = SELECTREGISTRY_WORDS(&r->master[k]);
		selectregistry_word *s = SELECTREGISTRY_WORDS(&sets[k]);
		if (nw == 1)
			s[0] = m[0];
		else
			memcpy(s, m, (size_t)nw * sizeof *s);
	}
	c->nfds = r->maxfd + 1;
	c->nwords = nw;
	c->epoch = r->epoch;
	c->changes = r->changes;
}

/* selectregistry_wanted returns the events of ev that fd's registration
 * still wants, or 0 when it is gone or newer than copy c (the readiness may
 * be an older file's that had the number). */
static inline int selectregistry_wanted(const struct selectregistry *r, int fd, int ev,
                                        const struct selectregistry_copy *c)
{
	return r->since[fd] > c->epoch ? 0 : ev & r->interest[fd];
}

/* selectregistry_stale reports whether rc, a failed select on copy c, is an
 * EBADF the registry has since made good by removing a descriptor. */
static inline int selectregistry_stale(const struct selectregistry *r, const struct selectregistry_copy *c, int rc)
{
	return rc == -EBADF && c->changes != r->changes;
}

/* selectregistry_wake_ready reports whether the wake descriptor is in read
 * set rset; selectregistry_wake_clear takes it out. */
static inline int selectregistry_wake_ready(const struct selectregistry *r, const fd_set *rset)
{
	return (((const selectregistry_word *)(const void *)rset)[r->wake_word] & r->wake_bit) != 0;
}

static inline void selectregistry_wake_clear(const struct selectregistry *r, fd_set *rset)
{
	SELECTREGISTRY_WORDS(rset)[r->wake_word] &= ~r->wake_bit;
}

/* selectregistry_data is where the owner keeps one pointer per
 * registration (selectloop's handle), NULL after add; fd must be
 * registered. */
static inline void **selectregistry_data(struct selectregistry *r, int fd)
{
	return &r->data[fd];
}

/* selectregistry_next_ready returns the next descriptor at or after the
 * cursor *pos (0 to start) with a bit in scratch sets that copy c made,
 * stores those bits in *ev (bit k: set k), and moves *pos past it; -1
 * when none is left. The bits are the raw readiness, for
 * selectregistry_wanted to filter. */
static inline int selectregistry_next_ready(const struct selectregistry *r, fd_set sets[3],
                                            const struct selectregistry_copy *c, int *pos, int *ev)
{
	(void)r;
	for (int fd = *pos; fd < c->nfds; fd++) {
		int e = 0;
		for (int k = 0; k < 3; k++)
			if (shim_fd_isset(fd, &sets[k]))
				e |= 1 << k;
		if (e) {
			*pos = fd + 1;
			*ev = e;
			return fd;
		}
	}
	*pos = c->nfds;
	return -1;
}
#endif /* _WIN32 */

/* selectregistry_init empties r around the wake descriptor wakefd.
 * -ERANGE: wakefd outside [0, FD_SETSIZE). */
int selectregistry_init(struct selectregistry *r, int wakefd);

/* selectregistry_add registers fd with interest ev. */
int selectregistry_add(struct selectregistry *r, int fd, int ev);

/* selectregistry_mod replaces fd's interest. */
int selectregistry_mod(struct selectregistry *r, int fd, int ev);

/* selectregistry_del unregisters fd, giving its data pointer back in
 * *data when data is not NULL. */
int selectregistry_del(struct selectregistry *r, int fd, void **data);

/* selectregistry_pop unregisters some registered fd (the highest, on Unix)
 * and returns it, closed or not, its data in *data as del does; -ENOENT
 * when none is left. */
int selectregistry_pop(struct selectregistry *r, void **data);

/* selectregistry_changed bumps gen after a change to the master sets or
 * closed, with a release store: a reader that copied the sets under the
 * owner's lock and later finds gen as it was, with an atomic load and no
 * lock (the Poller's fast path, fastpoll_linux.go), knows that every
 * registration the copy holds is still there with the same interest, so
 * its ready bits need no check against the registry. The same on every
 * system. */
static inline void selectregistry_changed(struct selectregistry *r)
{
	__atomic_store_n(&r->gen, r->gen + 1, __ATOMIC_RELEASE);
}

/* selectregistry_close makes add, mod and del fail with -ESHUTDOWN from now
 * on; -ESHUTDOWN the second time. The same on every system. */
static inline int selectregistry_close(struct selectregistry *r)
{
	if (r->closed)
		return -ESHUTDOWN;
	r->closed = 1;
	selectregistry_changed(r);
	return 0;
}

/* selectregistry_bad_events reports an interest add and mod refuse: empty,
 * or with bits select has no set for. The same on every system. */
static inline int selectregistry_bad_events(int ev)
{
	return ev == 0 || (ev & ~(SHIM_READ | SHIM_WRITE | SHIM_EXCEPT));
}

/* selectregistry_fds writes the registered descriptors, in order, to out,
 * which has room for FD_SETSIZE, and returns how many. */
int selectregistry_fds(const struct selectregistry *r, int *out);

#endif /* SELECTREGISTRY_H */
