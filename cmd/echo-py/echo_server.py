#!/usr/bin/env python3
# coding: utf-8
"""Select-driven TCP echo server: a Python 3 port of the seed post's server.

The structure is the post's: inputs holds the listener and every client we
read from, outputs holds the clients with something queued to send, and
message_queues gives each client a queue.Queue of received data that is sent
back once select says the socket is writable (here the queue sits in a Client
object, with the state the post did not keep). The post's bugs are fixed
(str/bytes, Queue->queue, wrong peer in "closing", KeyError on a socket closed
earlier in the same round, unhandled reset/EPIPE, short writes, sleep(1)) and
the project's server rules are followed (README, "The servers"): TCP_NODELAY,
listen(SOMAXCONN), accept until EAGAIN, drop fds >= FD_SETSIZE, the accept
error policy, a 1 MiB cap on pending output per connection, memory given back
after a burst, flush-then-close on EOF, urgent data read and logged rather
than a reason to close, and a self-pipe so SIGINT/SIGTERM stop the loop at
once.

Standard library only. Usage:
    python3 echo_server.py [-addr HOST:PORT] [-v] [-recv-size N] [-nodelay=false]
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

from echoaddr import fmt_addr

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
# peak, or drain to nothing after at least RELEASE_IDLE, freed memory goes
# back to the system. glibc keeps what Python frees in its heap, and after a
# burst of clients that filled their queues and left, the server would hold
# it for good. (The Go servers keep only the first rule: their release is a
# full collection, glibc's trim is cheap.)
RELEASE_DROP = 16 << 20
RELEASE_IDLE = 1 << 20

VERBOSE = False


def log(fmt, *args):
    """Print one of the post's log lines to stderr (only with -v)."""
    if VERBOSE:
        print(fmt % args if args else fmt, file=sys.stderr, flush=True)


def warn(fmt, *args):
    """Print a line to stderr whatever -v says (errors, start-up)."""
    print(fmt % args if args else fmt, file=sys.stderr, flush=True)


def show(data):
    """Received bytes as text for the log, without failing on non-UTF-8."""
    return bytes(data).decode('utf-8', 'backslashreplace')


def _malloc_trim():
    """glibc's malloc_trim(0), or a no-op where the C library has none."""
    trim = getattr(ctypes.CDLL(None), 'malloc_trim', None)
    if trim is None:
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


release_memory = _malloc_trim()


class Client:
    """One connection: the post's message queue, and what the post lacked."""

    def __init__(self, sock, peer):
        self.sock = sock
        self.peer = peer        # kept from accept, so "closing" names this peer
        self.queue = queue.Queue()  # the post's: data received, not yet sent
        self.pending = 0        # bytes queued, for the MAX_PENDING cap
        self.head = None        # the unsent tail of a short send(): goes first
        self.eof = False        # sent EOF: nothing more to read, close once flushed
        self.paused = False     # out of inputs because it hit MAX_PENDING


class EchoServer:
    """The post's server: inputs, outputs, message_queues and one select."""

    def __init__(self, server, wake_r, args):
        self.server = server
        self.wake_r = wake_r
        self.args = args
        # Sockets from which we expect to read
        self.inputs = [wake_r, server]
        # Sockets to which we expect to write: only those with something
        # queued, so an idle server blocks in select with no timeout.
        self.outputs = []
        # Outgoing message queues (socket: Client, whose .queue is the post's)
        self.message_queues = {}
        # When the listener may come back after an accept error (0 = it is in).
        self.backoff_until = 0.0
        # Sockets closed in the current round; a socket can be in readable,
        # writable and exceptional at once, and must not be touched once closed.
        self.closed_now = set()
        # Bytes queued across all connections, and their peak since the
        # last release of memory.
        self.queued = 0
        self.peak = 0
        self.stop = []

    def serve(self):
        """Run the post's loop until a signal arrives on the self-pipe."""
        while self.inputs:
            # Wait for at least one of the sockets to be ready for processing
            log('waiting for the next event')
            timeout = None
            if self.backoff_until:
                timeout = max(0.0, self.backoff_until - time.monotonic())
            readable, writable, exceptional = select.select(
                self.inputs, self.outputs, self.inputs, timeout)
            self.closed_now.clear()
            if self.backoff_until and time.monotonic() >= self.backoff_until:
                self.backoff_until = 0.0
                self.inputs.append(self.server)

            # Handle "exceptional conditions" (TCP urgent data) first: the
            # round's read of the same socket could pass the urgent mark
            # and lose the byte (README, "The servers").
            for s in exceptional:
                if s in self.message_queues:
                    self.urgent(s)

            # Handle inputs
            for s in readable:
                if s is self.wake_r:
                    if self.signalled():
                        return
                elif s is self.server:
                    # A readable listener means new clients are waiting
                    if not self.accept_all():
                        self.inputs.remove(self.server)
                        self.backoff_until = time.monotonic() + ACCEPT_BACKOFF
                elif s not in self.closed_now:
                    self.receive(s)

            # Handle outputs
            for s in writable:
                if s not in self.closed_now:
                    self.flush(s)

            drop = self.peak - self.queued
            if drop >= RELEASE_DROP or (self.queued == 0 and drop >= RELEASE_IDLE):
                release_memory()
                self.peak = self.queued

    def signalled(self):
        """Read the signal numbers the C-level handler wrote to the pipe;
        reading them does not depend on when the Python handler runs."""
        try:
            while True:
                got = os.read(self.wake_r, 512)
                if not got:
                    break
                self.stop.extend(n for n in got
                                 if n in (signal.SIGINT, signal.SIGTERM))
        except BlockingIOError:
            pass
        return bool(self.stop)

    def account(self, delta):
        """Track the bytes queued across all connections and their peak."""
        self.queued += delta
        if self.queued > self.peak:
            self.peak = self.queued

    def accept_all(self):
        """Accept until EAGAIN; returns False if the listener must rest."""
        while True:
            try:
                # A "readable" socket is ready to accept a connection
                connection, client_address = self.server.accept()
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
            if self.args.nodelay:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Add the client to the watched list; select fires when it sends
            self.inputs.append(connection)
            # Give the connection a queue for data we want to send
            self.message_queues[connection] = Client(connection, peer)

    def receive(self, s):
        """An existing client sent something, or closed."""
        c = self.message_queues[s]
        try:
            # Never read past the cap, so pending stays <= MAX_PENDING.
            data = s.recv(min(self.args.recv_size, MAX_PENDING - c.pending))
        except BlockingIOError:
            return
        except OSError as e:  # ECONNRESET, ETIMEDOUT, ...
            self.close_conn(s, ' (recv: %s)' % e)
            return
        if data:
            # A readable client socket has data
            if VERBOSE:
                log('received "%s" from %s', show(data), c.peer)
            c.queue.put(data)
            c.pending += len(data)
            self.account(len(data))
            # Add output channel for response
            if s not in self.outputs:
                self.outputs.append(s)
            if c.pending >= MAX_PENDING:
                # The client is not reading its echoes: stop reading it
                # until they drain (flush() puts it back).
                self.inputs.remove(s)
                c.paused = True
        elif c.pending:
            # EOF with echoes still queued (e.g. shutdown(SHUT_WR)): send
            # them first, then close in flush().
            self.inputs.remove(s)
            c.eof = True
        else:
            # Interpret empty result as closed connection
            self.close_conn(s)

    def flush(self, s):
        """Send what select says s can take; keep the unsent rest at the head."""
        c = self.message_queues[s]
        while True:
            data, c.head = c.head, None
            if data is None:
                # Join everything queued so one send() carries it, rather
                # than one syscall per recv'd chunk.
                parts = []
                while True:
                    try:
                        parts.append(c.queue.get_nowait())
                    except queue.Empty:
                        break
                if not parts:
                    break
                data = b''.join(parts)
            try:
                sent = s.send(data)
            except BlockingIOError:
                c.head = data
                return
            except OSError as e:  # EPIPE, ECONNRESET, ...
                self.close_conn(s, ' (send: %s)' % e)
                return
            if VERBOSE:
                log('sending "%s" to %s', show(data[:sent]), c.peer)
            c.pending -= sent
            self.account(-sent)
            if sent < len(data):
                # A memoryview, so a big buffer is not copied on each short send.
                c.head = memoryview(data)[sent:]
                break
        if c.paused and c.pending < MAX_PENDING:
            c.paused = False
            self.inputs.append(s)
        if c.pending == 0:
            # Nothing left to send: stop asking select about writability,
            # or it would report it on every round.
            self.outputs.remove(s)
            if c.eof:
                self.close_conn(s)

    def urgent(self, s):
        """Read the urgent byte behind an exceptional condition, which clears
        it. The post closes the client instead; that resets the connection
        and loses what it sent before the urgent byte."""
        c = self.message_queues[s]
        try:
            byte = s.recv(1, socket.MSG_OOB)
        except (BlockingIOError, InterruptedError):
            return  # its pointer came before the byte
        except OSError as e:
            if e.errno != errno.EINVAL:  # EINVAL: read already, or never there
                self.close_conn(s, ' (recv MSG_OOB: %s)' % e)
            return
        if byte:
            warn('urgent data read and dropped from %s: %r; the connection '
                 'goes on', c.peer, byte)

    def close_conn(self, s, why=''):
        """Forget s everywhere and close it."""
        c = self.message_queues.pop(s)
        log('closing %s%s', c.peer, why)
        # Stop listening for input on the connection
        if s in self.outputs:
            self.outputs.remove(s)
        if s in self.inputs:
            self.inputs.remove(s)
        s.close()
        self.account(-c.pending)
        self.closed_now.add(s)

    def close_all(self):
        """Close every client and the listener, at shutdown."""
        for s in list(self.message_queues):
            self.close_conn(s)
        self.server.close()


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


def parse_args():
    """The command line, in Go's flag spelling like the other servers."""
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
    if args.recv_size <= 0:
        parser.error('-recv-size must be > 0')
    try:
        args.family, args.server_address = parse_addr(args.addr)
    except (ValueError, OSError) as e:
        parser.error(str(e))
    return args


def self_pipe():
    """A pipe the C-level signal handler writes SIGINT/SIGTERM to, so a select
    that Python retries after EINTR (PEP 475) still wakes up. Made first, so
    its fds are the lowest, far from FD_SETSIZE."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    return wake_r, wake_w


def main():
    global VERBOSE
    args = parse_args()
    VERBOSE = args.v
    wake_r, wake_w = self_pipe()

    # Create a TCP/IP socket
    server = socket.socket(args.family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setblocking(False)

    # Bind the socket to the port
    warn('starting up on %s port %s' % args.server_address[:2])
    try:
        server.bind(args.server_address)
    except OSError as e:
        warn('bind %s: %s', args.addr, e)
        return 1

    # Listen for incoming connections
    server.listen(socket.SOMAXCONN)

    echo = EchoServer(server, wake_r, args)
    try:
        echo.serve()
    finally:
        # Shut down on SIGINT/SIGTERM: close every socket we hold.
        echo.close_all()
        signal.set_wakeup_fd(-1)
        os.close(wake_r)
        os.close(wake_w)
    if echo.stop:
        log('stopped on signal %d', echo.stop[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
