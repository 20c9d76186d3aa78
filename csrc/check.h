/*
 * check.h: what the C tests in csrc/ share (test code only, never built into
 * a server or selectc). check() prints "ok   ..." or "FAIL ..." and counts it;
 * check_done() prints the closing line CI reads, "NAME: N passed, M failed",
 * and returns the exit status. The counters are atomic: the selectloop
 * harness checks from several threads.
 */
#ifndef SELECTC_CHECK_H
#define SELECTC_CHECK_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static atomic_int passed, failed;

/* check prints one line and counts it. Returns ok. */
__attribute__((format(printf, 2, 3), unused))
static int check(int ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	atomic_fetch_add(ok ? &passed : &failed, 1);
	return ok;
}

/* check_done prints the closing line and returns main's exit status. */
__attribute__((unused))
static int check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}

/* now_ns is CLOCK_MONOTONIC in nanoseconds. */
__attribute__((unused))
static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

#endif /* SELECTC_CHECK_H */
