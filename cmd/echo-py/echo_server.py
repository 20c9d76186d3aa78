#!/usr/bin/env python3
# coding: utf-8
"""Select-driven TCP echo server: a Python 3 port of the seed post's server.

The structure is the post's: inputs holds the listener and every client we
read from, outputs holds the clients with something queued to send, and
message_queues gives each client a queue.Queue of received data that is sent
back once select says the socket is writable. The post's bugs are fixed
(str/bytes, Queue->queue, wrong peer in "closing", KeyError on a socket closed
earlier in the same round, unhandled reset/EPIPE, short writes, sleep(1)) and
the project's server rules are added (README, "The servers"): TCP_NODELAY,
listen(SOMAXCONN), accept until EAGAIN, drop fds >= FD_SETSIZE, the accept
error policy, a 1 MiB cap on pending output per connection, flush-then-close on
EOF, urgent data read and logged rather than a reason to close, and a
self-pipe so SIGINT/SIGTERM stop the loop at once.

Standard library only. Usage:
    python3 echo_server.py [-addr HOST:PORT] [-v] [-recv-size N]
"""
import argparse
import ctypes
import errno
import os
import queue
import select
import signal
import socket
import sys
import time

# select.select refuses fds at or above FD_SETSIZE with ValueError, so such a
# connection could never be served; it is closed at accept instead.
FD_SETSIZE = 1024

# A client that sends but never reads would otherwise make us buffer without
# bound; at this many pending bytes we stop reading it until it drains.
MAX_PENDING = 1 << 20

# How long the listener sits out after accept failed for any reason but the
# one connection it was taking, so a full fd table (or any error that lasts)
# does not turn into a busy loop of failing accepts.
ACCEPT_BACKOFF = 0.1

# accept() errors that belong to the one connection at the head of the
# queue (aborted in the backlog, or a network error Linux passes on from
# it, see accept(2)): the next connection can be taken at once.
CONN_GONE = {errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ENETDOWN,
             errno.ENOPROTOOPT, errno.EHOSTDOWN, errno.ENONET,
             errno.EHOSTUNREACH, errno.EOPNOTSUPP, errno.ENETUNREACH}

# When the bytes queued across all connections fall this far below their
# peak, freed memory goes back to the system (README, "The servers"). glibc
# keeps what Python frees in its heap, and after a burst of clients that
# filled their queues and left, the server would hold it for good.
RELEASE_DROP = 16 << 20


def _malloc_trim():
    """glibc's malloc_trim(0), or a no-op where the C library has none."""
    trim = getattr(ctypes.CDLL(None), 'malloc_trim', None)
    if trim is None:
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


release_memory = _malloc_trim()

VERBOSE = False


def log(fmt, *args):
    """Print one of the post's log lines to stderr (only with -v)."""
    if VERBOSE:
        print(fmt % args if args else fmt, file=sys.stderr, flush=True)


def warn(fmt, *args):
    """Print a line to stderr whatever -v says (errors, start-up)."""
    print(fmt % args if args else fmt, file=sys.stderr, flush=True)


def fmt_addr(addr):
    """host:port (or [v6]:port), the form the Go servers log."""
    host, port = addr[0], addr[1]
    if ':' in host:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def show(data):
    """Received bytes as text for the log, without failing on non-UTF-8."""
    return bytes(data).decode('utf-8', 'backslashreplace')


def parse_addr(text):
    """Split HOST:PORT (HOST may be [v6]) and resolve it for bind."""
    host, sep, port = text.rpartition(':')
    if not sep or not port.isdigit():
        raise ValueError('-addr %r: want HOST:PORT' % text)
    host = host.strip('[]') or None
    infos = socket.getaddrinfo(host, int(port), socket.AF_UNSPEC,
                               socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    # Prefer IPv4 as the post (AF_INET) and Go's net.Listen("localhost") do,
    # so "localhost" means 127.0.0.1 for every server in the project.
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


def parse_bool(text):
    """Go's flag spelling of a boolean: -nodelay=false, -nodelay=0, ..."""
    value = text.lower()
    if value in ('1', 't', 'true'):
        return True
    if value in ('0', 'f', 'false'):
        return False
    raise argparse.ArgumentTypeError('want true or false, not %r' % text)


def main():
    global VERBOSE
    parser = argparse.ArgumentParser(description='select.select echo server')
    parser.add_argument('-addr', default='localhost:8090',
                        help='listen address HOST:PORT (default %(default)s)')
    parser.add_argument('-v', action='store_true',
                        help="print the post's log lines to stderr")
    parser.add_argument('-recv-size', dest='recv_size', type=int,
                        default=65536,
                        help='bytes per recv (default %(default)s; the post used 1024)')
    parser.add_argument('-nodelay', type=parse_bool, nargs='?', const=True,
                        default=True,
                        help='set TCP_NODELAY on clients (default true; '
                             '-nodelay=false with -recv-size 1024 is the post '
                             'exactly, 40 ms Nagle stalls included)')
    args = parser.parse_args()
    VERBOSE = args.v
    if args.recv_size <= 0:
        parser.error('-recv-size must be > 0')
    try:
        family, server_address = parse_addr(args.addr)
    except (ValueError, OSError) as e:
        parser.error(str(e))

    # Self-pipe: the C-level signal handler writes the signal number here, so
    # a select that Python retries after EINTR (PEP 475) still wakes up. It is
    # made first so its fds are the lowest, far from FD_SETSIZE.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    stop = []

    def on_signal(signum, frame):
        stop.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)

    # Create a TCP/IP socket
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setblocking(False)

    # Bind the socket to the port
    warn('starting up on %s port %s' % server_address[:2])
    try:
        server.bind(server_address)
    except OSError as e:
        warn('bind %s: %s', args.addr, e)
        return 1

    # Listen for incoming connections
    server.listen(socket.SOMAXCONN)

    # Sockets from which we expect to read
    inputs = [wake_r, server]

    # Sockets to which we expect to write: only those with something queued,
    # so an idle server blocks in select with no timeout (0% CPU).
    outputs = []

    # Outgoing message queues (socket: Queue)
    message_queues = {}

    # The post printed client_address, i.e. the last accepted peer, when any
    # socket closed; each socket's own peer is kept here instead.
    peers = {}

    # Bytes queued for each socket, for the MAX_PENDING cap.
    pending = {}

    # The unsent tail of a short send(): it goes out before anything queued
    # after it, so it stays at the head of that socket's queue.
    heads = {}

    # Sockets that sent EOF: nothing more to read, close once flushed.
    eof = set()

    # Sockets taken out of inputs because they hit MAX_PENDING.
    paused = set()

    # When the listener may come back after an EMFILE/ENFILE (0 = it is in).
    backoff_until = 0.0

    # Bytes queued across all connections, and their peak since the last
    # release of memory.
    queued = {'now': 0, 'peak': 0}

    def account(delta):
        queued['now'] += delta
        if queued['now'] > queued['peak']:
            queued['peak'] = queued['now']

    # Sockets closed in the current round; a socket can be in readable,
    # writable and exceptional at once, and must not be touched once closed.
    closed_now = set()

    def close_conn(s, why=''):
        # Interpret empty result (or an error) as closed connection
        log('closing %s%s', peers.get(s, '?'), why)
        # Stop listening for input on the connection
        if s in outputs:
            outputs.remove(s)
        if s in inputs:
            inputs.remove(s)
        s.close()
        account(-pending[s])
        # Remove message queue
        del message_queues[s]
        del peers[s]
        del pending[s]
        heads.pop(s, None)
        eof.discard(s)
        paused.discard(s)
        closed_now.add(s)

    def accept_all():
        """Accept until EAGAIN; returns False if the listener must rest."""
        while True:
            try:
                # A "readable" socket is ready to accept a connection
                connection, client_address = server.accept()
            except BlockingIOError:
                return True
            except OSError as e:
                if e.errno in CONN_GONE:
                    warn('accept: %s; the connection failed before it was '
                         'accepted', e)
                    continue
                # EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unforeseen.
                warn('accept: %s; resting the listener for %d ms', e,
                     ACCEPT_BACKOFF * 1000)
                return False
            peer = fmt_addr(client_address)
            if connection.fileno() >= FD_SETSIZE:
                warn('closing %s: fd %d >= FD_SETSIZE %d, select cannot watch it',
                     peer, connection.fileno(), FD_SETSIZE)
                connection.close()
                continue
            log('connection from %s', peer)
            # this is connection not server
            connection.setblocking(False)
            # Echoes are small writes waiting on a reply; Nagle would hold
            # them back until the peer's (delayed) ACK.
            if args.nodelay:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Add the client to the watched list; select fires when it sends
            inputs.append(connection)
            # Give the connection a queue for data we want to send
            message_queues[connection] = queue.Queue()
            peers[connection] = peer
            pending[connection] = 0

    def flush(s):
        """Send what select says s can take; keep the unsent rest at the head."""
        q = message_queues[s]
        while True:
            data = heads.pop(s, None)
            if data is None:
                # Join everything queued so one send() carries it, rather
                # than one syscall per recv'd chunk.
                parts = []
                while True:
                    try:
                        parts.append(q.get_nowait())
                    except queue.Empty:
                        break
                if not parts:
                    break
                data = b''.join(parts)
            try:
                sent = s.send(data)
            except BlockingIOError:
                heads[s] = data
                return
            except OSError as e:  # EPIPE, ECONNRESET, ...
                close_conn(s, ' (send: %s)' % e)
                return
            if VERBOSE:
                log('sending "%s" to %s', show(data[:sent]), peers[s])
            pending[s] -= sent
            account(-sent)
            if sent < len(data):
                # A memoryview, so a big buffer is not copied on each short send.
                heads[s] = memoryview(data)[sent:]
                break
        if s in paused and pending[s] < MAX_PENDING:
            paused.discard(s)
            inputs.append(s)
        if pending[s] == 0:
            # Nothing left to send: stop asking select about writability,
            # or it would report it on every round.
            outputs.remove(s)
            if s in eof:
                close_conn(s)

    while inputs:
        # Wait for at least one of the sockets to be ready for processing
        log('waiting for the next event')
        timeout = None
        if backoff_until:
            timeout = max(0.0, backoff_until - time.monotonic())
        readable, writable, exceptional = select.select(inputs, outputs,
                                                        inputs, timeout)
        closed_now.clear()

        if backoff_until and time.monotonic() >= backoff_until:
            backoff_until = 0.0
            inputs.append(server)

        # Handle inputs
        for s in readable:
            if s is wake_r:
                # The C-level handler wrote the signal numbers; reading them
                # does not depend on when the Python-level handler runs.
                try:
                    while True:
                        got = os.read(wake_r, 512)
                        if not got:
                            break
                        stop.extend(n for n in got
                                    if n in (signal.SIGINT, signal.SIGTERM))
                except BlockingIOError:
                    pass
                if stop:
                    break
                continue
            # A readable listener means new clients are waiting
            if s is server:
                if not accept_all():
                    inputs.remove(server)
                    backoff_until = time.monotonic() + ACCEPT_BACKOFF
                continue
            if s in closed_now:
                continue
            # An existing client sent something (or closed)
            try:
                # Never read past the cap, so pending stays <= MAX_PENDING.
                data = s.recv(min(args.recv_size, MAX_PENDING - pending[s]))
            except BlockingIOError:
                continue
            except OSError as e:  # ECONNRESET, ETIMEDOUT, ...
                close_conn(s, ' (recv: %s)' % e)
                continue
            if data:
                # A readable client socket has data
                if VERBOSE:
                    log('received "%s" from %s', show(data), peers[s])
                message_queues[s].put(data)
                pending[s] += len(data)
                account(len(data))
                # Add output channel for response
                if s not in outputs:
                    outputs.append(s)
                if pending[s] >= MAX_PENDING:
                    # The client is not reading its echoes: stop reading it
                    # until they drain (flush() puts it back).
                    inputs.remove(s)
                    paused.add(s)
            elif pending[s]:
                # EOF with echoes still queued (e.g. shutdown(SHUT_WR)):
                # send them first, then close in flush().
                inputs.remove(s)
                eof.add(s)
            else:
                close_conn(s)

        if stop:
            break

        # Handle outputs
        for s in writable:
            if s in closed_now:
                continue
            flush(s)

        if queued['peak'] - queued['now'] >= RELEASE_DROP:
            release_memory()
            queued['peak'] = queued['now']

        # Handle "exceptional conditions" (TCP urgent data). The post drops
        # the client; that resets the connection and loses what it sent
        # before the urgent byte. Reading the byte clears the condition.
        for s in exceptional:
            if s is server or s is wake_r or s in closed_now:
                continue
            try:
                urgent = s.recv(1, socket.MSG_OOB)
            except (BlockingIOError, InterruptedError):
                continue  # its pointer came before the byte
            except OSError as e:
                if e.errno == errno.EINVAL:
                    continue  # read already, or never there
                close_conn(s, ' (recv MSG_OOB: %s)' % e)
                continue
            if urgent:
                warn('urgent data read and dropped from %s: %r; the '
                     'connection goes on', peers[s], urgent)

    # Shut down on SIGINT/SIGTERM: close every socket we hold.
    for s in list(message_queues):
        close_conn(s)
    server.close()
    signal.set_wakeup_fd(-1)
    os.close(wake_r)
    os.close(wake_w)
    if stop:
        log('stopped on signal %d', stop[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
