//go:build linux

/* selectloop.c: see selectloop.h. */
#include "selectloop.h"
#include "selectshim.h"
#include "selectwake.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define EV_ALL (SHIM_READ | SHIM_WRITE | SHIM_EXCEPT)

struct selectloop {
	pthread_mutex_t mu; /* recursive: dispatch functions call back in */
	fd_set master[3];   /* read, write, except interest, as in ae_select.c */
	fd_set fresh;       /* registered since the scratch sets were taken */
	uint8_t interest[FD_SETSIZE];
	void *handle[FD_SETSIZE];
	int maxfd;          /* highest fd with interest, the wake fd included */
	uint64_t changes;   /* bumped by every del: tells a stale EBADF apart */
	int running, closed;
	pthread_t owner;    /* the running loop's thread */
	struct selectloop_stats stats;

	pthread_mutex_t wake_mu; /* keeps a late stop from writing to a closed wake fd */
	int wakefd;
	atomic_int stop;
};

static void lock(selectloop *l) { pthread_mutex_lock(&l->mu); }
static void unlock(selectloop *l) { pthread_mutex_unlock(&l->mu); }

static void wake(selectloop *l)
{
	pthread_mutex_lock(&l->wake_mu);
	if (l->wakefd >= 0)
		selectwake_signal(l->wakefd); /* a full counter wakes the loop all the same */
	pthread_mutex_unlock(&l->wake_mu);
}

/* wake_if_other wakes a loop sleeping in select so that it takes the new
 * interest; a change made by a dispatch function needs no wake, since the
 * loop copies the master sets again before it sleeps. Called under mu. */
static void wake_if_other(selectloop *l)
{
	if (l->running && !pthread_equal(l->owner, pthread_self()))
		wake(l);
}

static void set_interest(selectloop *l, int fd, int ev)
{
	l->interest[fd] = (uint8_t)ev;
	for (int k = 0; k < 3; k++) {
		if (ev & (1 << k))
			shim_fd_set(fd, &l->master[k]);
		else
			shim_fd_clr(fd, &l->master[k]);
	}
}

int selectloop_new(selectloop **out)
{
	selectloop *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	int fd = -1;
	int rc = selectwake_open(&fd);
	if (rc) {
		free(l);
		/* An eventfd at or above FD_SETSIZE is -EMFILE, as this API always said. */
		return rc == -ERANGE ? -EMFILE : rc;
	}
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&l->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&l->wake_mu, NULL);
	for (int k = 0; k < 3; k++)
		shim_fd_zero(&l->master[k]);
	shim_fd_zero(&l->fresh);
	l->wakefd = fd;
	l->maxfd = fd;
	set_interest(l, fd, SHIM_READ);
	atomic_init(&l->stop, 0);
	*out = l;
	return 0;
}

void selectloop_free(selectloop *l)
{
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->wake_mu);
	free(l);
}

static int check(selectloop *l, int fd, int ev)
{
	if (l->closed)
		return -ESHUTDOWN;
	if (fd < 0 || fd >= FD_SETSIZE)
		return -ERANGE;
	if (ev == 0 || (ev & ~EV_ALL))
		return -EINVAL;
	return 0;
}

int selectloop_add(selectloop *l, int fd, int ev, void *handle)
{
	lock(l);
	int err = check(l, fd, ev);
	if (!err && !handle)
		err = -EINVAL;
	if (!err && l->interest[fd])
		err = -EEXIST;
	if (!err) {
		set_interest(l, fd, ev);
		l->handle[fd] = handle;
		shim_fd_set(fd, &l->fresh);
		if (fd > l->maxfd)
			l->maxfd = fd;
		wake_if_other(l);
	}
	unlock(l);
	return err;
}

int selectloop_mod(selectloop *l, int fd, int ev)
{
	lock(l);
	int err = check(l, fd, ev);
	if (!err && !l->handle[fd])
		err = -ENOENT;
	if (!err) {
		set_interest(l, fd, ev);
		wake_if_other(l);
	}
	unlock(l);
	return err;
}

/* forget removes registered fd, whose handle the caller has taken. Under mu. */
static void forget(selectloop *l, int fd)
{
	set_interest(l, fd, 0);
	l->handle[fd] = NULL;
	l->changes++;
	while (l->maxfd >= 0 && !l->interest[l->maxfd])
		l->maxfd--;
}

int selectloop_del(selectloop *l, int fd, void **handle)
{
	int err = 0;
	lock(l);
	if (l->closed)
		err = -ESHUTDOWN;
	else if (fd < 0 || fd >= FD_SETSIZE)
		err = -ERANGE;
	else if (!l->handle[fd])
		err = -ENOENT;
	else {
		*handle = l->handle[fd];
		forget(l, fd);
		/* The caller may close fd next: a sleeping select must drop it. */
		wake_if_other(l);
	}
	unlock(l);
	return err;
}

int selectloop_fds(selectloop *l, int *out)
{
	int n = 0;
	lock(l);
	for (int fd = 0; fd <= l->maxfd; fd++)
		if (l->handle[fd])
			out[n++] = fd;
	unlock(l);
	return n;
}

void selectloop_stop(selectloop *l)
{
	atomic_store(&l->stop, 1);
	wake(l);
}

void selectloop_clear_stop(selectloop *l)
{
	atomic_store(&l->stop, 0);
}

static void drain_wake(selectloop *l)
{
	selectwake_drain(l->wakefd);
}

/* ready_events gathers fd's bits from the three scratch sets. */
static int ready_events(int fd, fd_set sets[3])
{
	int ev = 0;
	for (int k = 0; k < 3; k++)
		if (shim_fd_isset(fd, &sets[k]))
			ev |= 1 << k;
	return ev;
}

static int popcount3(int ev)
{
	return (ev & 1) + ((ev >> 1) & 1) + ((ev >> 2) & 1);
}

int selectloop_run(selectloop *l, selectloop_dispatch_fn dispatch)
{
	fd_set sets[3];
	int ret = 0;

	lock(l);
	if (l->running || l->closed) {
		ret = l->closed ? -ESHUTDOWN : -EBUSY;
		unlock(l);
		return ret;
	}
	l->running = 1;
	l->owner = pthread_self();
	for (;;) {
		if (atomic_exchange(&l->stop, 0))
			break;
		/* select(2) overwrites its sets: work on copies of the masters. */
		memcpy(sets, l->master, sizeof sets);
		shim_fd_zero(&l->fresh);
		int maxfd = l->maxfd;
		uint64_t changes = l->changes;
		unlock(l);

		int n;
		uint64_t eintr = 0;
		while ((n = shim_select(maxfd + 1, &sets[0], &sets[1], &sets[2], NULL)) == -EINTR)
			eintr++; /* no timeout, so nothing to recompute */

		lock(l);
		l->stats.eintr += eintr;
		if (n < 0) {
			/* Another thread removed (and maybe closed) an fd after the
			 * copy: the copy is stale, not the registry. */
			if (n == -EBADF && changes != l->changes)
				continue;
			ret = n;
			break;
		}
		l->stats.iterations++;
		/* The wake fd's bit stays in n: the loop below reaches it (no
		 * handle, so never dispatched) and counts it there, once. */
		if (shim_fd_isset(l->wakefd, &sets[0])) {
			drain_wake(l);
			if (atomic_load(&l->stop))
				continue;
		}
		for (int fd = 0; fd <= maxfd && n > 0; fd++) {
			int ev = ready_events(fd, sets);
			if (!ev)
				continue;
			n -= popcount3(ev);
			/* Re-read the registry: an earlier dispatch may have removed
			 * fd, given its number to a new file, or changed its interest. */
			void *h = l->handle[fd];
			ev &= l->interest[fd];
			if (!h || !ev || shim_fd_isset(fd, &l->fresh))
				continue;
			l->stats.dispatches++;
			if (dispatch(h, fd, ev)) {
				ret = SELECTLOOP_ABORTED;
				goto out;
			}
		}
	}
out:
	l->running = 0;
	unlock(l);
	return ret;
}

int selectloop_close(selectloop *l)
{
	int err = 0;
	lock(l);
	if (l->running)
		err = -EBUSY;
	else if (l->closed)
		err = -ESHUTDOWN;
	else {
		l->closed = 1;
		forget(l, l->wakefd);
		pthread_mutex_lock(&l->wake_mu);
		selectwake_close(l->wakefd);
		l->wakefd = -1;
		pthread_mutex_unlock(&l->wake_mu);
	}
	unlock(l);
	return err;
}

int selectloop_pop(selectloop *l, void **handle)
{
	int err = -ENOENT;
	lock(l);
	for (int fd = l->maxfd; fd >= 0 && err; fd--) {
		if (l->handle[fd]) {
			*handle = l->handle[fd];
			forget(l, fd);
			err = 0;
		}
	}
	unlock(l);
	return err;
}

struct selectloop_stats selectloop_get_stats(selectloop *l)
{
	lock(l);
	struct selectloop_stats s = l->stats;
	unlock(l);
	return s;
}
