"""Loopback ports for the servers the tests start, from below the kernel's ephemeral range.

A port found with bind(("127.0.0.1", 0)) comes from the ephemeral range, which every outgoing
connection draws from too: between picking it and a server binding it (seconds for KWOK, minutes
for the local istiod), a client's connection may take it and the server fails to start. These
ports are handed out in turn below that range, under a lock shared by every process on the
machine, so two test workers never get the same one; each is checked free when handed out.
"""
from __future__ import annotations

import fcntl
import socket
from pathlib import Path

STATE = Path("/tmp/.eco2-mesh-ports")
SPAN = 12000


def _range() -> tuple[int, int]:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(1024, low - SPAN), low


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    first, end = _range()
    ports: list[int] = []
    with open(STATE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
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


def free_port() -> int:
    return free_ports(1)[0]
