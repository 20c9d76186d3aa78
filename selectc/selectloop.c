//go:build linux || windows

/* selectloop.c: see selectloop.h. */
#include "selectloop.h"
#include "selectregistry.h"
#include "selectshim.h"
#include "selectwake.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct selectloop {
	pthread_mutex_t mu; /* recursive: dispatch functions call back in */
	struct selectregistry reg; /* each registration's data is its handle */
	int running;
	pthread_t owner;    /* the running loop's thread */
	struct selectloop_stats stats;

	pthread_mutex_t wake_mu; /* keeps a late stop from writing to a closed wake fd */
	int wakefd;              /* -1 once closed */
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

int selectloop_new(int wakefd, selectloop **out)
{
	selectloop *l = calloc(1, sizeof *l);
	int err = l ? selectregistry_init(&l->reg, wakefd) : -ENOMEM;
	if (err) {
		free(l);
		return err;
	}
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&l->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&l->wake_mu, NULL);
	l->wakefd = wakefd;
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

int selectloop_add(selectloop *l, int fd, int ev, void *handle)
{
	if (!handle)
		return -EINVAL;
	lock(l);
	int err = selectregistry_add(&l->reg, fd, ev);
	if (!err) {
		*selectregistry_data(&l->reg, fd) = handle;
		wake_if_other(l);
	}
	unlock(l);
	return err;
}

int selectloop_mod(selectloop *l, int fd, int ev)
{
	lock(l);
	int err = selectregistry_mod(&l->reg, fd, ev);
	if (!err)
		wake_if_other(l);
	unlock(l);
	return err;
}

int selectloop_del(selectloop *l, int fd, void **handle)
{
	lock(l);
	int err = selectregistry_del(&l->reg, fd, handle);
	if (!err) {
		/* The caller may close fd next: a sleeping select must drop it. */
		wake_if_other(l);
	}
	unlock(l);
	return err;
}

int selectloop_fds(selectloop *l, int *out)
{
	lock(l);
	int n = selectregistry_fds(&l->reg, out);
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

static int popcount3(int ev)
{
	return (ev & 1) + ((ev >> 1) & 1) + ((ev >> 2) & 1);
}

int selectloop_run(selectloop *l, selectloop_dispatch_fn dispatch)
{
	fd_set sets[3];
	int ret = 0;

	lock(l);
	if (l->running || l->reg.closed) {
		ret = l->reg.closed ? -ESHUTDOWN : -EBUSY;
		unlock(l);
		return ret;
	}
	l->running = 1;
	l->owner = pthread_self();
	for (;;) {
		if (atomic_exchange(&l->stop, 0))
			break;
		struct selectregistry_copy c;
		selectregistry_copy(&l->reg, sets, &c);
		unlock(l);

		/* EINTR: shim_select_retry; with no timeout there is no deadline. */
		uint64_t eintr = 0;
		int n = shim_select_retry(c.nfds, &sets[0], &sets[1], &sets[2], NULL, &eintr);

		lock(l);
		l->stats.eintr += eintr;
		if (n < 0) {
			if (selectregistry_stale(&l->reg, &c, n))
				continue;
			ret = n;
			break;
		}
		l->stats.iterations++;
		/* The wake fd's bit stays in n: the loop below reaches it (no
		 * interest, so never dispatched) and counts it there, once. */
		if (selectregistry_wake_ready(&l->reg, &sets[0])) {
			selectwake_drain(l->wakefd);
			if (atomic_load(&l->stop))
				continue;
		}
		for (int pos = 0, fd, ev; n > 0 && (fd = selectregistry_next_ready(&l->reg, sets, &c, &pos, &ev)) >= 0;) {
			n -= popcount3(ev);
			/* Re-read the registry: an earlier dispatch may have removed
			 * fd, given its number to a new file, or changed its interest. */
			ev = selectregistry_wanted(&l->reg, fd, ev, &c);
			if (!ev)
				continue;
			l->stats.dispatches++;
			if (dispatch(*selectregistry_data(&l->reg, fd), fd, ev)) {
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
	else if (!(err = selectregistry_close(&l->reg))) {
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
	lock(l);
	int fd = selectregistry_pop(&l->reg, handle);
	unlock(l);
	return fd < 0 ? fd : 0;
}

struct selectloop_stats selectloop_get_stats(selectloop *l)
{
	lock(l);
	struct selectloop_stats s = l->stats;
	unlock(l);
	return s;
}
