#!/usr/bin/env python3
"""Python's side of echo-bench's call-level benchmark.

Times one select through Python's wrappers on the same descriptors as the
other workers: select.select(rlist, [], [], 0) (-api select), or a
selectors.SelectSelector with every descriptor registered once, then
sel.select(0) (-api selectors).

It speaks the workers' line protocol on stdin/stdout, which
cmd/echo-bench/internal/calls/worker.go describes and drives:

    measure FIRST N READY WARMUP_NS MIN_NS MAX_CALLS
      -> ok CALLS NS
      -> error MESSAGE

The watched descriptors are FIRST .. FIRST+N-1, dup2'd from two pipes: an
empty one and one holding a byte; READY (all, none, or one: the last) says
which are dups of the full one. Every call checks the number of ready
descriptors; the full ready list is checked before and after the timed
calls, so a broken call cannot report a fast time.
"""

import argparse
import errno
import fcntl
import os
import select
import selectors
import sys
import time


class Layout:
    """The watched descriptors of one measurement."""

    def __init__(self, first, n, ready):
        if n < 1 or first < 3 or first + n > 1024:
            raise ValueError(f"descriptors {first}..{first + n - 1} outside 3..1023")
        if ready not in ("one", "all", "none"):
            raise ValueError(f"ready {ready}: want one, all or none")
        self.fds = list(range(first, first + n))
        self.ready = {"all": self.fds, "one": self.fds[-1:], "none": []}[ready]
        self.pipes = []
        self.opened = []
        try:
            empty, full = os.pipe(), os.pipe()
            self.pipes = [*empty, *full]
            os.write(full[1], b"x")
            for fd in self.pipes:
                if fd >= first:
                    raise ValueError(f"pipe fd {fd} inside the watched range from {first}")
            ready_set = set(self.ready)
            for fd in self.fds:
                # dup2 would silently close a descriptor already there.
                try:
                    fcntl.fcntl(fd, fcntl.F_GETFD)
                    raise ValueError(f"fd {fd} is already open")
                except OSError as e:
                    if e.errno != errno.EBADF:
                        raise
                os.dup2(full[0] if fd in ready_set else empty[0], fd, inheritable=False)
                self.opened.append(fd)
        except BaseException:
            self.close()
            raise

    def close(self):
        for fd in self.opened + self.pipes:
            os.close(fd)
        self.opened, self.pipes = [], []


def select_api(layout):
    """select.select over the list, as the post's server calls it."""
    fds, empty, sel = layout.fds, [], select.select

    def ready_list():
        r, w, x = sel(fds, empty, empty, 0)
        if w or x:
            raise RuntimeError(f"writable {w} or exceptional {x} from an empty list")
        return r

    def run(k, want):
        # The timed loop: locals only, as a tuned Python loop would be.
        for _ in range(k):
            n = len(sel(fds, empty, empty, 0)[0])
            if n != want:
                raise RuntimeError(f"{n} ready, want {want}")

    return ready_list, run, lambda: None


def selectors_api(layout):
    """selectors.SelectSelector, every descriptor registered once."""
    s = selectors.SelectSelector()
    for fd in layout.fds:
        s.register(fd, selectors.EVENT_READ)
    sel = s.select

    def ready_list():
        out = []
        for key, events in sel(0):
            if events != selectors.EVENT_READ:
                raise RuntimeError(f"fd {key.fd}: events {events}")
            out.append(key.fd)
        return sorted(out)

    def run(k, want):
        for _ in range(k):
            n = len(sel(0))
            if n != want:
                raise RuntimeError(f"{n} ready, want {want}")

    return ready_list, run, s.close


APIS = {"select": select_api, "selectors": selectors_api}


def timed(run, want, min_ns, max_calls):
    """Calls until min_ns have passed (after one call) or max_calls were made,
    in batches so the clock is read rarely: each batch is what the rate so
    far says is left, at most twice the last one."""
    done, batch, t0 = 0, 1, time.perf_counter_ns()
    elapsed = 0
    while done < max_calls:
        run(batch, want)
        done += batch
        elapsed = time.perf_counter_ns() - t0
        if elapsed >= min_ns:
            break
        left = done * (min_ns - elapsed) // max(elapsed, 1) + 1
        batch = min(left, batch * 2, max_calls - done)
    return done, elapsed


def check(got, want, when):
    if got != want:
        raise RuntimeError(f"ready list {when} timing: {got[:8]}... ({len(got)}), want {want[:8]}... ({len(want)})")


def measure(api, first, n, ready, warm_ns, min_ns, max_calls):
    layout = Layout(first, n, ready)
    try:
        ready_list, run, close = APIS[api](layout)
        try:
            check(ready_list(), layout.ready, "before")
            timed(run, len(layout.ready), warm_ns, max_calls)
            calls, ns = timed(run, len(layout.ready), min_ns, max_calls)
            check(ready_list(), layout.ready, "after")
            return calls, ns
        finally:
            close()
    finally:
        layout.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-api", choices=sorted(APIS), default="select")
    args = ap.parse_args()
    for line in sys.stdin:
        f = line.split()
        try:
            if len(f) != 7 or f[0] != "measure":
                raise ValueError(f"cannot parse {line.strip()!r}")
            first, n, warm_ns, min_ns, max_calls = int(f[1]), int(f[2]), int(f[4]), int(f[5]), int(f[6])
            if max_calls < 1:
                raise ValueError("MAX_CALLS < 1")
            calls, ns = measure(args.api, first, n, f[3], warm_ns, min_ns, max_calls)
            print(f"ok {calls} {ns}", flush=True)
        except (ValueError, RuntimeError, OSError) as e:
            print(f"error {e}".replace("\n", " "), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
