/*
 * selectwake: the descriptor that ends a select(2) early, from another
 * thread. It sits in the select's read set; a signal makes it readable,
 * select returns, and the waiter drains it. selectc's SelectContext and
 * Poller (through cgo) and selectloop all wake this one way.
 *
 * One contract, one descriptor, on every system:
 *   selectwake_open(int *fd)  opens it, non-blocking, and stores it in *fd;
 *                             -ERANGE (closed again, *fd kept for the
 *                             message) when no fd_set could hold it;
 *   selectwake_signal(fd)     makes it readable until drained; signals add up;
 *   selectwake_drain(fd)      consumes every signal so far;
 *   selectwake_close(fd)      closes it, once.
 * On Linux it is an eventfd (selectwake_eventfd.h); Winsock's select takes
 * only sockets, so on Windows it is a loopback UDP socket connected to
 * itself (selectwake_windows.h): one socket is both ends of the pair.
 *
 * The functions are static inline, so a C program that includes this
 * header needs no source file of it to link. Each returns 0 or -errno, as
 * in selectshim (-WSAGetLastError() on Windows).
 */
#ifndef SELECTWAKE_H
#define SELECTWAKE_H

#ifdef _WIN32
#include "selectwake_windows.h"
#else
#include "selectwake_eventfd.h"
#endif

#endif /* SELECTWAKE_H */
