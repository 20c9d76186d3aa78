/*
 * selectpoller: select(2) behind an epoll-like interface, in the manner of
 * redis's ae_select.c. The poller keeps a registry (selectregistry.h:
 * master fd_sets and each descriptor's interest); a wait copies the master
 * sets into scratch sets, calls select(2) once, and writes every ready,
 * registered descriptor with its ready events to the caller's array.
 * Unlike selectloop it never calls back: the caller drives, one call per
 * wait.
 *
 * The wake descriptor (an eventfd from selectwake_open, which the caller
 * owns and closes after selectpoller_free) is always in the read set: a
 * signal on it ends a wait, which drains it and reports nothing for it.
 *
 * Threads: one lock guards the registry, held for short copies and
 * updates, never while select(2) sleeps. Every call is safe from any
 * thread, waits included; a wait that is sleeping goes on with the sets it
 * copied. Add, mod and del take effect at the next wait; signal the wake
 * descriptor to make one happen now.
 *
 * Stale readiness: a wait never reports a descriptor for a registration it
 * did not copy, nor events its interest no longer holds (selectregistry.h).
 *
 * Errors are -errno, as in selectshim, the registry's as selectregistry.h
 * says; -ESHUTDOWN always means the poller is shut down.
 */
#ifndef SELECTPOLLER_H
#define SELECTPOLLER_H

#include <stddef.h>
#include <stdint.h>

typedef struct selectpoller selectpoller;

/* One ready descriptor. The layout is Go's selectc.PollEvent{Fd int;
 * Events Events}: intptr_t is Go's int on every platform Go runs on. */
struct selectpoller_event {
	intptr_t fd;
	uint8_t ev; /* ready events, never 0 */
};

enum {
	SELECTPOLLER_EVENT_FD_OFFSET = offsetof(struct selectpoller_event, fd),
	SELECTPOLLER_EVENT_EV_OFFSET = offsetof(struct selectpoller_event, ev),
};

/* selectpoller_new allocates a poller woken through wakefd, and stores it
 * in *out. -ERANGE: wakefd outside [0, FD_SETSIZE); -ENOMEM. */
int selectpoller_new(int wakefd, selectpoller **out);

/* selectpoller_free releases a poller that no call is using any more. It
 * does not close wakefd or any registered descriptor. */
void selectpoller_free(selectpoller *p);

/* selectpoller_add, _mod and _del are selectregistry's, under the
 * poller's lock: register fd with interest ev, replace its interest,
 * unregister it. */
int selectpoller_add(selectpoller *p, int fd, int ev);
int selectpoller_mod(selectpoller *p, int fd, int ev);
int selectpoller_del(selectpoller *p, int fd);

/* selectpoller_wait waits until a registered descriptor is ready, the wake
 * descriptor is signalled, or timeout_ns passes (< 0: no timeout; 0: poll;
 * > 0: rounded up to whole microseconds), and writes up to cap ready
 * descriptors to out, in descriptor order. It returns how many (0 on a
 * timeout or a wake), or -EINVAL (cap < 1), -EBADF (a registered descriptor
 * is closed), -ESHUTDOWN (shut down before or during the wait), or another
 * -errno of select. It retries by itself, against the first call's
 * deadline, a select that a signal interrupted (shim_select_retry) and one
 * that found a bad descriptor removed since the sets were copied (a stale
 * EBADF, selectregistry.h).
 * When more than cap are ready, the rest are reported by the next wait,
 * whose scan starts where this one stopped and wraps round, so no
 * descriptor starves. */
int selectpoller_wait(selectpoller *p, struct selectpoller_event *out, int cap, int64_t timeout_ns);

/* selectpoller_eintr counts the selects a signal interrupted, for tests. */
uint64_t selectpoller_eintr(selectpoller *p);

/* selectpoller_shutdown makes every later call fail with -ESHUTDOWN and
 * ends every wait in progress (it signals the wake descriptor, which the
 * waits then leave readable for each other). -ESHUTDOWN the second time. */
int selectpoller_shutdown(selectpoller *p);

/* selectpoller_fastpath tells a caller that polls for itself (selectc's
 * fast path, fastpoll_linux.go: a zero-timeout select made from Go) where
 * the poller's state is. Such a caller does what selectpoller_wait does,
 * under the same lock: it copies the registry's sets, lets go, polls, takes
 * the lock again, and scans the ready bits as scan does, next_fd included.
 * The lock is an int, 0 free and 1 held, taken with an atomic exchange
 * (acquire) and released with an atomic store (release). */
struct selectregistry;
struct selectpoller_fastpath {
	int *lock;
	struct selectregistry *reg;
	int *next_fd;
};
void selectpoller_fastpath(selectpoller *p, struct selectpoller_fastpath *out);

/* selectpoller_fds writes the registered descriptors (the wake descriptor
 * excluded) to out, which has room for FD_SETSIZE, and returns how many. */
int selectpoller_fds(selectpoller *p, int *out);

#endif /* SELECTPOLLER_H */
