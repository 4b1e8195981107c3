from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import api_reach


def test_answers_after_transient_errors():
    calls, pauses = [], []

    def version(timeout):
        calls.append(timeout)
        if len(calls) < 3:
            raise ConnectionResetError("reset by peer")
        return "v1.31.13"

    assert api_reach.check(version, "https://127.0.0.1:6443", sleep=pauses.append) == "v1.31.13"
    assert calls == [(api_reach.CONNECT_TIMEOUT, api_reach.READ_TIMEOUT)] * 3 and pauses == [1, 2]


def test_gives_up_within_30_seconds_naming_the_server():
    pauses = []

    def refused(timeout):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    with pytest.raises(RuntimeError) as err:
        api_reach.check(refused, "https://10.0.1.10:6443", sleep=pauses.append)
    assert str(err.value).startswith("the Kubernetes API server at https://10.0.1.10:6443 does not answer")
    assert "Connection refused" in str(err.value)
    worst = api_reach.ATTEMPTS * (api_reach.CONNECT_TIMEOUT + api_reach.READ_TIMEOUT) + sum(pauses)
    assert worst <= 30
