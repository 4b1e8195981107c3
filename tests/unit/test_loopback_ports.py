"""tests.lib.ports: servers' loopback ports come from below the ephemeral range, in turn, never twice in a row."""
from __future__ import annotations

import socket

import pytest

from tests.lib import ports


def test_ports_are_below_the_ephemeral_range_and_differ_between_calls(tmp_path, monkeypatch):
    monkeypatch.setattr(ports, "STATE", tmp_path / "next")
    first, end = ports._range()
    a, b = ports.free_ports(9), ports.free_ports(9)
    assert len(set(a + b)) == 18
    assert all(first <= p < end for p in a + b)
    assert end <= int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])


def test_a_port_in_use_is_skipped_and_the_range_wraps(tmp_path, monkeypatch):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        busy = held.getsockname()[1]
        assert not ports._free(busy)
    monkeypatch.setattr(ports, "_free", lambda port: port != 20001)
    monkeypatch.setattr(ports, "_range", lambda: (20000, 20003))
    monkeypatch.setattr(ports, "STATE", tmp_path / "next")
    assert ports.free_ports(2) == [20000, 20002]
    assert ports.free_port() == 20000  # wrapped around, past the busy one again
    with pytest.raises(RuntimeError, match="no 3 free loopback ports in 20000-20002"):
        ports.free_ports(3)
