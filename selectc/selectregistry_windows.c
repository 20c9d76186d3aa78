//go:build windows

/* selectregistry_windows.c: see selectregistry.h and selectregistry_windows.h. */
#include "selectregistry.h"

#include <errno.h>

int selectregistry_init(struct selectregistry *r, int wakefd)
{
	if (wakefd < 0)
		return -ERANGE;
	memset(r, 0, sizeof *r);
	for (int k = 0; k < 3; k++)
		shim_fd_zero(&r->master[k]);
	r->wakefd = wakefd;
	return shim_fd_set(wakefd, &r->master[0]);
}

/* master_bits is which master sets ev puts a socket in: Write in the
 * except set too (selectregistry_windows.h). */
static int master_bits(int ev)
{
	return ev & SHIM_WRITE ? ev | SHIM_EXCEPT : ev;
}

/* set_interest makes the master sets say ev for slot i. The sets hold
 * room for every slot (count < FD_SETSIZE, the wake socket's place
 * included), so shim_fd_set cannot fail here. */
static void set_interest(struct selectregistry *r, int i, int ev)
{
	int bits = master_bits(ev);
	r->interest[i] = (uint8_t)ev;
	for (int k = 0; k < 3; k++) {
		if (bits & (1 << k))
			shim_fd_set(r->fd[i], &r->master[k]);
		else
			shim_fd_clr(r->fd[i], &r->master[k]);
	}
	selectregistry_changed(r);
}

/* check is every call's check, as selectregistry.c's: fd, events, state,
 * then the registration, giving the slot through *slot. */
static int check(const struct selectregistry *r, int fd, int bad_ev, int registered, int *slot)
{
	if (fd < 0)
		return -ERANGE;
	if (bad_ev)
		return -EINVAL;
	if (r->closed)
		return -ESHUTDOWN;
	*slot = selectregistry_slot(r, fd);
	if (registered)
		return *slot >= 0 ? 0 : -ENOENT;
	if (*slot >= 0 || fd == r->wakefd)
		return -EEXIST;
	/* The wake socket takes one place of the read set. */
	return r->count >= FD_SETSIZE - 1 ? -ENOSPC : 0;
}

int selectregistry_add(struct selectregistry *r, int fd, int ev)
{
	int i;
	int err = check(r, fd, selectregistry_bad_events(ev), 0, &i);
	if (err)
		return err;
	for (i = 0; i < r->nslots && r->interest[i]; i++)
		;
	if (i == r->nslots)
		r->nslots++;
	r->fd[i] = fd;
	r->data[i] = NULL;
	set_interest(r, i, ev);
	r->since[i] = ++r->epoch;
	r->count++;
	return 0;
}

int selectregistry_mod(struct selectregistry *r, int fd, int ev)
{
	int i;
	int err = check(r, fd, selectregistry_bad_events(ev), 1, &i);
	if (!err)
		set_interest(r, i, ev);
	return err;
}

static void forget(struct selectregistry *r, int i, void **data)
{
	if (data)
		*data = r->data[i];
	r->data[i] = NULL;
	set_interest(r, i, 0);
	r->count--;
	r->changes++;
	while (r->nslots > 0 && !r->interest[r->nslots - 1])
		r->nslots--;
}

int selectregistry_del(struct selectregistry *r, int fd, void **data)
{
	int i;
	int err = check(r, fd, 0, 1, &i);
	if (!err)
		forget(r, i, data);
	return err;
}

int selectregistry_pop(struct selectregistry *r, void **data)
{
	for (int i = r->nslots - 1; i >= 0; i--) {
		if (r->interest[i]) {
			int fd = r->fd[i];
			forget(r, i, data);
			return fd;
		}
	}
	return -ENOENT;
}

int selectregistry_fds(const struct selectregistry *r, int *out)
{
	int n = 0;
	for (int i = 0; i < r->nslots; i++)
		if (r->interest[i])
			out[n++] = r->fd[i];
	return n;
}
