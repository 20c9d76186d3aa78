# coding: utf-8
"""Address helpers shared by echo_server.py and echo_client.py."""


def fmt_addr(addr):
    """host:port (or [v6]:port), the form the Go programs print."""
    host, port = addr[0], addr[1]
    if ':' in host:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)
