/*
 * selectpoller_windows.h: selectpoller.c's collect on Windows, included by
 * selectpoller.c alone: the registry's slots in order
 * (selectregistry_next_ready), each looked up in Winsock's result lists,
 * which hold only the ready sockets. p->next_fd is a slot here.
 */
#ifndef SELECTPOLLER_WINDOWS_H
#define SELECTPOLLER_WINDOWS_H

/* collect_from adds the ready sockets of slots [*pos, end) to out. */
static int collect_from(selectpoller *p, fd_set sets[3], const struct selectregistry_copy *c, int *pos,
                        int end, struct selectpoller_event *out, int n, int cap, int *full)
{
	int fd, ev;
	while (*pos < end && (fd = selectregistry_next_ready(&p->reg, sets, c, pos, &ev)) >= 0) {
		if (*pos > end)
			break; /* past the end of this pass: the other pass has it */
		ev = selectregistry_wanted(&p->reg, fd, ev, c);
		if (!ev)
			continue;
		n = put(p, out, n, cap, fd, ev, *pos - 1, full);
		if (*full)
			break;
	}
	return n;
}

static int collect(selectpoller *p, fd_set sets[3], const struct selectregistry_copy *c,
                   struct selectpoller_event *out, int cap)
{
	int full = 0, start = atomic_load_explicit(&p->next_fd, memory_order_relaxed), pos = start;
	atomic_store_explicit(&p->next_fd, 0, memory_order_relaxed);
	int n = collect_from(p, sets, c, &pos, p->reg.nslots, out, 0, cap, &full);
	if (!full && start > 0) {
		pos = 0;
		n = collect_from(p, sets, c, &pos, start, out, n, cap, &full);
	}
	return n;
}

#endif /* SELECTPOLLER_WINDOWS_H */
