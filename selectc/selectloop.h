/*
 * selectloop: an event loop in C around select(2), in the manner of redis's
 * ae_select.c and libevent's select backend. The loop keeps a registry
 * (selectregistry.h: master fd_sets and each descriptor's interest) and,
 * per descriptor, an opaque handle, the void * that epoll calls data.ptr.
 * Each iteration copies the master sets into scratch sets, calls select(2)
 * once, and hands every ready descriptor's handle and ready events to one
 * dispatch function.
 *
 * Threads: one recursive mutex guards the registry. The loop holds it except
 * while it sleeps in select(2), so a dispatch function may add, modify and
 * remove entries (its own included) on the loop's thread, and other threads
 * may do so at any time: they wait for the current round of dispatch to end,
 * and wake the loop so that its next select sees the change.
 *
 * Stale dispatch: within one iteration the loop re-reads the registry before
 * every dispatch, so a descriptor removed since select returned, or added
 * since select was called, is skipped, and only events still in the
 * descriptor's interest are passed on (why: selectregistry.h; handle
 * addresses are reused as descriptor numbers are).
 *
 * Every call that can fail returns 0 or -errno (libuv's rule, as in
 * selectshim), with any other result through an out-parameter; the
 * registry's codes are selectregistry.h's, and -ESHUTDOWN always means the
 * loop is closed, so -EBADF from selectloop_run is select's own.
 */
#ifndef SELECTLOOP_H
#define SELECTLOOP_H

#include <stdint.h>

typedef struct selectloop selectloop;

/* selectloop_dispatch_fn is called for each ready, registered descriptor
 * with its handle and its ready events (never 0). A non-zero return stops
 * the loop at once; selectloop_run then returns SELECTLOOP_ABORTED. */
typedef int (*selectloop_dispatch_fn)(void *handle, int fd, int ev);

/* selectloop_run's positive result after a dispatch function asked to stop. */
#define SELECTLOOP_ABORTED 1

/* selectloop_stats are counters for tests and benchmarks. */
struct selectloop_stats {
	uint64_t iterations; /* select(2) calls that returned */
	uint64_t dispatches; /* calls of the dispatch function */
	uint64_t eintr;      /* select(2) calls interrupted by a signal, retried */
};

/* selectloop_new allocates a loop woken through wakefd (an eventfd from
 * selectwake_open) into *out. From then on the loop owns wakefd, and
 * selectloop_close closes it; after a failure the caller still does.
 * -ERANGE: wakefd outside [0, FD_SETSIZE); -ENOMEM. */
int selectloop_new(int wakefd, selectloop **out);

/* selectloop_free releases a loop that selectloop_close has closed. */
void selectloop_free(selectloop *l);

/* selectloop_add registers fd with interest ev and a non-NULL handle.
 * -EINVAL also for a NULL handle; other errors as selectregistry_add. */
int selectloop_add(selectloop *l, int fd, int ev, void *handle);

/* selectloop_mod replaces fd's interest; errors as selectregistry_mod. */
int selectloop_mod(selectloop *l, int fd, int ev);

/* selectloop_del unregisters fd and gives its handle back in *handle,
 * exactly once: a second call for the same registration gets -ENOENT. The
 * caller owns the handle from then on; the loop never dispatches it again. */
int selectloop_del(selectloop *l, int fd, void **handle);

/* selectloop_fds writes the registered descriptors (the wake fd excluded) to
 * out, which has room for FD_SETSIZE, and returns how many. */
int selectloop_fds(selectloop *l, int *out);

/* selectloop_run dispatches events until selectloop_stop is called (returns
 * 0), a dispatch function returns non-zero (SELECTLOOP_ABORTED), or select
 * fails with anything but EINTR, which shim_select_retry retries (-errno);
 * an EBADF a removal since the copy explains is retried too (selectregistry.h).
 * -EBUSY: already
 * running; -ESHUTDOWN: closed. A stop requested before the call makes it return
 * 0 at once. */
int selectloop_run(selectloop *l, selectloop_dispatch_fn dispatch);

/* selectloop_stop makes a running or the next selectloop_run return 0. It
 * never waits for the registry lock, so it is prompt from any thread while
 * the loop dispatches. */
void selectloop_stop(selectloop *l);

/* selectloop_clear_stop withdraws a stop request that no run consumed. */
void selectloop_clear_stop(selectloop *l);

/* selectloop_close closes the wake fd and refuses every later call; the
 * registered handles stay for selectloop_pop. -EBUSY: running;
 * -ESHUTDOWN: already closed. */
int selectloop_close(selectloop *l);

/* selectloop_pop unregisters some registered descriptor and gives its handle
 * back in *handle; -ENOENT when none is left. Close uses it to give back
 * every handle. */
int selectloop_pop(selectloop *l, void **handle);

/* selectloop_get_stats copies the counters. */
struct selectloop_stats selectloop_get_stats(selectloop *l);

#endif /* SELECTLOOP_H */
