"""tests.lib.ports: servers' loopback ports come from below the ephemeral range, in turn, never twice in a row."""
from __future__ import annotations

import socket

import pytest

from tests.lib import ports


def test_ports_are_below_the_ephemeral_range_and_differ_between_calls(tmp_path, monkeypatch):
    monkeypatch.setattr(ports, "STATE", tmp_path / "next")
    a, b = ports.free_ports(9), ports.free_ports(9)
    assert len(set(a + b)) == 18
    low, high = (int(v) for v in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    assert all(1024 <= p < low or high < p <= 65535 for p in a + b)
    assert oct((tmp_path / "next").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("proc, expected", [
    ("32768\t60999\n", (20768, 32768)),
    ("1024\t50000\n", (50001, 62001)),
    ("1024\t65000\n", None),
])
def test_the_range_lies_outside_the_ephemeral_one(monkeypatch, tmp_path, proc, expected):
    real = ports.Path

    class FakeProc:
        def __init__(self, path):
            self.path = path

        def read_text(self):
            return proc if self.path.startswith("/proc/") else real(self.path).read_text()

    monkeypatch.setattr(ports, "Path", FakeProc)
    assert ports._range() == expected
    if expected is None:
        monkeypatch.setattr(ports, "STATE", tmp_path / "never")
        assert len(set(ports.free_ports(3))) == 3 and not (tmp_path / "never").exists()


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
