/*
 * selectregistry_windows.h: the registry's state and inline calls on
 * Windows, included by selectregistry.h alone (its contract is there).
 * Winsock's fd_set is a list of SOCKETs, so the registry is a table of
 * slots, one per registered socket, found by a scan (at most FD_SETSIZE);
 * a freed slot stays a hole until an add reuses it, so a cursor over the
 * slots (selectregistry_next_ready) is not upset by a del meanwhile.
 * Write interest puts the socket in the except master set too: Winsock
 * reports a failed non-blocking connect there, and a Linux user expects it
 * as Write (Python's selectors do the same on Windows).
 */
#ifndef SELECTREGISTRY_WINDOWS_H
#define SELECTREGISTRY_WINDOWS_H

#include "selectshim.h"

#include <stdint.h>
#include <string.h>
#include <winsock2.h>

struct selectregistry {
	fd_set master[3];             /* read, write, except (with write) interest, the wake socket in read */
	int fd[FD_SETSIZE];           /* each slot's socket */
	uint8_t interest[FD_SETSIZE]; /* each slot's interest; 0: a free slot */
	uint64_t since[FD_SETSIZE];   /* the epoch of each slot's registration */
	void *data[FD_SETSIZE];       /* the owner's, per slot: selectregistry_data */
	int nslots;                   /* slots [0, nslots) are in use or holes */
	int count;                    /* registered sockets */
	uint64_t epoch;               /* bumped by every add */
	uint64_t changes;             /* bumped by every del */
	uint64_t gen;                 /* bumped by every change: selectregistry_changed */
	int wakefd;
	int closed;
};

struct selectregistry_copy {
	int nfds; /* 0: Winsock ignores it */
	uint64_t epoch, changes;
};

/* selectregistry_slot returns fd's slot, or -1 when it is not registered. */
static inline int selectregistry_slot(const struct selectregistry *r, int fd)
{
	for (int i = 0; i < r->nslots; i++)
		if (r->interest[i] && r->fd[i] == fd)
			return i;
	return -1;
}

static inline void selectregistry_copy(const struct selectregistry *r, fd_set sets[3], struct selectregistry_copy *c)
{
	for (int k = 0; k < 3; k++) {
		sets[k].fd_count = r->master[k].fd_count;
		memcpy(sets[k].fd_array, r->master[k].fd_array, r->master[k].fd_count * sizeof(SOCKET));
	}
	c->nfds = 0;
	c->epoch = r->epoch;
	c->changes = r->changes;
}

/* selectregistry_wanted also turns an except that a Write interest put in
 * the except set into Write. */
static inline int selectregistry_wanted(const struct selectregistry *r, int fd, int ev,
                                        const struct selectregistry_copy *c)
{
	int i = selectregistry_slot(r, fd);
	if (i < 0 || r->since[i] > c->epoch)
		return 0;
	if ((ev & SHIM_EXCEPT) && (r->interest[i] & SHIM_WRITE))
		ev |= SHIM_WRITE;
	return ev & r->interest[i];
}

/* A closed socket in a Winsock select is WSAENOTSOCK, Linux's EBADF. */
static inline int selectregistry_stale(const struct selectregistry *r, const struct selectregistry_copy *c, int rc)
{
	return rc == -WSAENOTSOCK && c->changes != r->changes;
}

static inline int selectregistry_wake_ready(const struct selectregistry *r, const fd_set *rset)
{
	return shim_fd_isset(r->wakefd, rset);
}

static inline void selectregistry_wake_clear(const struct selectregistry *r, fd_set *rset)
{
	shim_fd_clr(r->wakefd, rset);
}

static inline void **selectregistry_data(struct selectregistry *r, int fd)
{
	return &r->data[selectregistry_slot(r, fd)];
}

/* The cursor is a slot: the sockets come in slot order. */
static inline int selectregistry_next_ready(const struct selectregistry *r, fd_set sets[3],
                                            const struct selectregistry_copy *c, int *pos, int *ev)
{
	(void)c;
	for (int i = *pos; i < r->nslots; i++) {
		if (!r->interest[i])
			continue;
		int e = 0;
		for (int k = 0; k < 3; k++)
			if (sets[k].fd_count && shim_fd_isset(r->fd[i], &sets[k]))
				e |= 1 << k;
		if (e) {
			*pos = i + 1;
			*ev = e;
			return r->fd[i];
		}
	}
	*pos = r->nslots;
	return -1;
}

#endif /* SELECTREGISTRY_WINDOWS_H */
