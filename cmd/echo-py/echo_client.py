#!/usr/bin/env python3
# coding: utf-8
"""Echo client: a Python 3 port of the seed post's client.

It opens -n sockets, and for each of -rounds rounds sends the post's three
messages (each + its index) on every socket, then reads every socket's echo
back in full and checks it byte for byte. Exit status 0 means every echo came
back intact; 1 means a mismatch, an early close or a socket error.

Standard library only. Usage:
    python3 echo_client.py [-addr HOST:PORT] [-n SOCKETS] [-rounds R]
"""
import argparse
import socket
import sys

from echoaddr import fmt_addr

messages = ['This is the message ', 'It will be sent ', 'in parts ', ]

# A server that stops answering must fail the run, not hang it.
TIMEOUT = 10.0


class EchoError(Exception):
    """An echo that did not come back exactly as sent."""


def recv_exactly(s, n):
    """Read n bytes: TCP may hand the echo back in several pieces."""
    chunks = []
    got = 0
    while got < n:
        chunk = s.recv(n - got)
        if not chunk:
            raise EchoError('%s: connection closed after %d of %d echo bytes'
                            % (fmt_addr(s.getsockname()), got, n))
        chunks.append(chunk)
        got += len(chunk)
    return b''.join(chunks)


def run(socks, rounds):
    for _ in range(rounds):
        for index, message in enumerate(messages):
            text = message + str(index)
            data = text.encode('utf-8')
            # Send messages on all sockets
            for s in socks:
                print('%s: sending "%s"' % (fmt_addr(s.getsockname()), text))
                s.sendall(data)
            # Read responses on all sockets
            for s in socks:
                echo = recv_exactly(s, len(data))
                name = fmt_addr(s.getsockname())
                print('%s: received "%s"'
                      % (name, echo.decode('utf-8', 'backslashreplace')))
                if echo != data:
                    at = next(i for i in range(len(data)) if echo[i] != data[i])
                    raise EchoError('%s: echo differs at byte %d: sent %r, got %r'
                                    % (name, at, data, echo))


def main():
    parser = argparse.ArgumentParser(description='echo client for the select servers')
    parser.add_argument('-addr', default='localhost:8090',
                        help='server address HOST:PORT (default %(default)s)')
    parser.add_argument('-n', type=int, default=2,
                        help='number of sockets (default %(default)s)')
    parser.add_argument('-rounds', type=int, default=1,
                        help='times to send the three messages (default %(default)s)')
    args = parser.parse_args()
    if args.n <= 0 or args.rounds <= 0:
        parser.error('-n and -rounds must be > 0')
    host, sep, port = args.addr.rpartition(':')
    if not sep or not port.isdigit():
        parser.error('-addr %r: want HOST:PORT' % args.addr)
    server_address = (host.strip('[]'), int(port))

    socks = []
    try:
        # Connect the sockets to the port where the server is listening
        print('connecting to %s port %s' % server_address)
        for _ in range(args.n):
            socks.append(socket.create_connection(server_address, TIMEOUT))
        run(socks, args.rounds)
    except EchoError as e:
        print('echo_client: %s' % e, file=sys.stderr)
        return 1
    except TimeoutError:
        print('echo_client: no echo from %s within %g s' % (args.addr, TIMEOUT),
              file=sys.stderr)
        return 1
    except OSError as e:
        print('echo_client: %s' % e, file=sys.stderr)
        return 1
    finally:
        for s in socks:
            try:
                print('closing socket %s' % fmt_addr(s.getsockname()))
            except OSError:
                pass
            s.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
