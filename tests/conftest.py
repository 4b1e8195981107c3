"""Shared fixtures: a fresh local cluster (real kube-apiserver, KWOK nodes, local istiod) per test."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.lib
sys.path.insert(0, str(REPO / ".tools/collections"))  # ansible_collections.eco2.mesh for unit tests

from tests.lib import cluster as local_cluster  # noqa: E402


@pytest.fixture
def cluster(tmp_path):
    """An empty local cluster (no nodes) for one test."""
    kube = local_cluster.start(workdir=str(tmp_path / "cluster"))
    yield kube
    kube.stop()


@pytest.fixture
def cluster_eco2(tmp_path):
    """A local cluster with a KWOK Node for every host of inventory/local."""
    kube = local_cluster.start(inventory=str(REPO / "inventory/local"), workdir=str(tmp_path / "cluster"))
    yield kube
    kube.stop()


def pytest_configure(config):
    from tests.lib.result_cache import ResultCache
    config.pluginmanager.register(ResultCache(config), "eco2_result_cache")
