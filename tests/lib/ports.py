"""Loopback ports for the servers the tests start, from below the kernel's ephemeral range.

A port found with bind(("127.0.0.1", 0)) comes from the ephemeral range, which every outgoing
connection draws from too: between picking it and a server binding it (seconds for KWOK, minutes
for the local istiod), a client's connection may take it and the server fails to start. These
ports are handed out in turn below that range, under a lock shared by every process on the
machine, so two test workers never get the same one; each is checked free when handed out.
"""
from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

# One counter per user (another user's file cannot be written, nor replaced by a link to make us truncate another).
STATE = Path("/tmp/.eco2-mesh-ports-%d" % os.getuid())
SPAN = 12000
MIN_SPAN = 1000


def _range() -> tuple[int, int] | None:
    """[first, end) of the ports to hand out: below the ephemeral range, else above it, else None."""
    try:
        low, high = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2])
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low - 1024 >= MIN_SPAN:
        return max(1024, low - SPAN), low
    if 65535 - high >= MIN_SPAN:
        return high + 1, min(65536, high + 1 + SPAN)
    return None


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    span = _range()
    if span is None:  # no room outside the ephemeral range: the kernel's pick, as good as it gets here
        return _kernel_ports(count)
    first, end = span
    ports: list[int] = []
    fd = os.open(STATE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            port = int(fh.read().strip() or first)
        except ValueError:
            port = first
        for _ in range(end - first):
            if not first <= port < end:
                port = first
            if _free(port):
                ports.append(port)
            port += 1
            if len(ports) == count:
                break
        fh.seek(0)
        fh.truncate()
        fh.write("%d\n" % port)
    if len(ports) < count:
        raise RuntimeError("no %d free loopback ports in %d-%d" % (count, first, end - 1))
    return ports


def _kernel_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]
