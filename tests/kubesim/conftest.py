"""Fixtures for kubesim's conformance suite: one server per module (or per test) with the fixture inventory."""
from __future__ import annotations

import pytest

from tests.kubesim.kubesim_helpers import INVENTORY
from tests.lib import kubesim_proc


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One kubesim per test module, with Nodes from the fixture inventory."""
    s = kubesim_proc.start(inventory=str(INVENTORY), workdir=str(tmp_path_factory.mktemp("kubesim")))
    yield s
    s.stop()


@pytest.fixture
def fresh_sim(tmp_path):
    """A kubesim for one test (for tests that need an empty request log or state)."""
    s = kubesim_proc.start(inventory=str(INVENTORY), workdir=str(tmp_path / "kubesim"))
    yield s
    s.stop()
