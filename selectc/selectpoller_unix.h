/*
 * selectpoller_unix.h: selectpoller.c's collect on Unix, included by
 * selectpoller.c alone: the sets are words of bits, scanned a word at a
 * time (selectregistry.h says why their layout can be read so).
 */
#ifndef SELECTPOLLER_UNIX_H
#define SELECTPOLLER_UNIX_H

typedef selectregistry_word word;
#define WORD_BITS SELECTREGISTRY_WORD_BITS
#define WORDS SELECTREGISTRY_WORDS

/* scan writes to out, from index n on, the ready and still registered
 * descriptors in words [klo, khi) of the scratch sets r, w and x, the
 * first word masked with first and the last with last, and returns the new
 * count. When out is full and one more is ready, it records that one in
 * next_fd, for the next scan to start with, and sets *full. Under mu.
 * Inlined: a wait calls it once, or twice when it resumes mid-set. */
static inline __attribute__((always_inline)) int
scan(selectpoller *p, const word *r, const word *w, const word *x, int klo, int khi, word first,
     word last, const struct selectregistry_copy *c, struct selectpoller_event *out, int n, int cap, int *full)
{
	for (int k = klo; k < khi; k++) {
		word rk = r[k], wk = w[k], xk = x[k];
		word any = rk | wk | xk;
		if (k == klo)
			any &= first;
		if (k == khi - 1)
			any &= last;
		while (any) {
			int bit = __builtin_ctzl(any);
			int fd = k * WORD_BITS + bit;
			int ev = (int)((rk >> bit) & 1) | (int)((wk >> bit) & 1) << 1 | (int)((xk >> bit) & 1) << 2;
			any &= any - 1;
			ev = selectregistry_wanted(&p->reg, fd, ev, c);
			if (!ev)
				continue;
			n = put(p, out, n, cap, fd, ev, fd, full);
			if (*full)
				return n;
		}
	}
	return n;
}

static int collect(selectpoller *p, fd_set sets[3], const struct selectregistry_copy *c,
                   struct selectpoller_event *out, int cap)
{
	word *r = WORDS(&sets[0]), *w = WORDS(&sets[1]), *x = WORDS(&sets[2]);
	int n, full = 0, start = atomic_load_explicit(&p->next_fd, memory_order_relaxed), nw = c->nwords;
	atomic_store_explicit(&p->next_fd, 0, memory_order_relaxed);
	if (start == 0 || start >= nw * WORD_BITS)
		return scan(p, r, w, x, 0, nw, ~(word)0, ~(word)0, c, out, 0, cap, &full);
	/* Resume where the last scan ran out of room, and wrap round. */
	int ks = start / WORD_BITS;
	word from = ~(((word)1 << (start % WORD_BITS)) - 1);
	n = scan(p, r, w, x, ks, nw, from, ~(word)0, c, out, 0, cap, &full);
	if (!full)
		n = scan(p, r, w, x, 0, ks + 1, ~(word)0, ~from, c, out, n, cap, &full);
	return n;
}

#endif /* SELECTPOLLER_UNIX_H */
