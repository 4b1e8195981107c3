"""Supported Kubernetes versions per Istio minor."""
from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import istio_versions as iv


@pytest.mark.parametrize("istio,kube,ok", [
    ("1.24.1", (1, 28), True), ("1.24.1", (1, 31), True), ("1.24.6", (1, 30), True),
    ("1.24.1", (1, 27), False), ("1.24.1", (1, 32), False),
    ("1.22.0", (1, 27), True), ("1.22.0", (1, 31), False),
    ("1.25.2", (1, 29), True), ("1.25.2", (1, 28), False), ("1.25.2", (1, 32), True),
])
def test_ranges(istio, kube, ok):
    assert iv.check_kubernetes_version(istio, *kube)[0] is ok


def test_messages_name_the_range():
    ok, msg = iv.check_kubernetes_version("1.24.1", 1, 33)
    assert not ok and "1.33" in msg and "1.28-1.31" in msg
    ok, msg = iv.check_kubernetes_version("1.99.0", 1, 30)
    assert not ok and "not in the supported-versions table" in msg


def test_parse_version():
    assert iv.parse_version("v1.31.2-eks-123") == (1, 31, 2)
    assert iv.parse_version("1.24") == (1, 24, None)
    with pytest.raises(ValueError):
        iv.parse_version("latest")
    assert iv.supported_range("1.24.1") == ("1.28", "1.31")
