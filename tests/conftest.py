"""Shared fixtures: a fresh kubesim per test (or per module) and helpers."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # kubesim, tests.lib
sys.path.insert(0, str(REPO / ".tools/collections"))  # ansible_collections.eco2.mesh for unit tests

from tests.lib import kubesim_proc  # noqa: E402


@pytest.fixture
def kubesim(tmp_path):
    """An empty API stand-in for one test."""
    sim = kubesim_proc.start(workdir=str(tmp_path / "kubesim"))
    yield sim
    sim.stop()


@pytest.fixture
def kubesim_eco2(tmp_path):
    """An API stand-in with a Node for every host of inventory/local."""
    sim = kubesim_proc.start(inventory=str(REPO / "inventory/local"), workdir=str(tmp_path / "kubesim"))
    yield sim
    sim.stop()


def pytest_configure(config):
    from tests.lib.result_cache import ResultCache
    config.pluginmanager.register(ResultCache(config), "eco2_result_cache")
