//go:build linux

/* selectregistry.c: see selectregistry.h. */
#include "selectregistry.h"

#include <errno.h>

int selectregistry_init(struct selectregistry *r, int wakefd)
{
	if (wakefd < 0 || wakefd >= FD_SETSIZE)
		return -ERANGE;
	memset(r, 0, sizeof *r);
	for (int k = 0; k < 3; k++)
		shim_fd_zero(&r->master[k]);
	r->wakefd = wakefd;
	r->wake_word = wakefd / SELECTREGISTRY_WORD_BITS;
	r->wake_bit = (selectregistry_word)1 << (wakefd % SELECTREGISTRY_WORD_BITS);
	r->maxfd = wakefd;
	shim_fd_set(wakefd, &r->master[0]);
	return 0;
}

/* set_interest makes the master sets say ev for fd. */
static void set_interest(struct selectregistry *r, int fd, int ev)
{
	r->interest[fd] = (uint8_t)ev;
	for (int k = 0; k < 3; k++) {
		if (ev & (1 << k))
			shim_fd_set(fd, &r->master[k]);
		else
			shim_fd_clr(fd, &r->master[k]);
	}
	selectregistry_changed(r);
}

/* check is every call's check, the arguments before the state: fd, then
 * bad_ev (selectregistry_bad_events, for a call that takes events), then
 * whether the call needs fd registered (mod, del) or not (add). */
static int check(const struct selectregistry *r, int fd, int bad_ev, int registered)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return -ERANGE;
	if (bad_ev)
		return -EINVAL;
	if (r->closed)
		return -ESHUTDOWN;
	if (registered)
		return r->interest[fd] ? 0 : -ENOENT;
	return r->interest[fd] || fd == r->wakefd ? -EEXIST : 0;
}

int selectregistry_add(struct selectregistry *r, int fd, int ev)
{
	int err = check(r, fd, selectregistry_bad_events(ev), 0);
	if (err)
		return err;
	set_interest(r, fd, ev);
	r->data[fd] = NULL;
	r->since[fd] = ++r->epoch;
	if (fd > r->maxfd)
		r->maxfd = fd;
	return 0;
}

int selectregistry_mod(struct selectregistry *r, int fd, int ev)
{
	int err = check(r, fd, selectregistry_bad_events(ev), 1);
	if (!err)
		set_interest(r, fd, ev);
	return err;
}

/* forget unregisters fd, which is registered, giving back its data. */
static void forget(struct selectregistry *r, int fd, void **data)
{
	if (data)
		*data = r->data[fd];
	r->data[fd] = NULL;
	set_interest(r, fd, 0);
	r->changes++;
	while (r->maxfd > r->wakefd && !r->interest[r->maxfd])
		r->maxfd--;
}

int selectregistry_del(struct selectregistry *r, int fd, void **data)
{
	int err = check(r, fd, 0, 1);
	if (!err)
		forget(r, fd, data);
	return err;
}

int selectregistry_pop(struct selectregistry *r, void **data)
{
	for (int fd = r->maxfd; fd >= 0; fd--) {
		if (r->interest[fd]) {
			forget(r, fd, data);
			return fd;
		}
	}
	return -ENOENT;
}

int selectregistry_fds(const struct selectregistry *r, int *out)
{
	int n = 0;
	for (int fd = 0; fd <= r->maxfd; fd++)
		if (r->interest[fd])
			out[n++] = fd;
	return n;
}
