"""Each test builds its Kubernetes clients from nothing: the kubernetes library keeps a process-wide default
configuration (set by loading a kubeconfig) and kubernetes.core caches its clients, so a client made in one
test could otherwise reach into the next one's (a module runs in a process of its own and never sees this)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fresh_kubernetes_clients():
    try:
        from kubernetes import client
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as core_client
    except ImportError:
        yield
        return
    client.Configuration.set_default(None)
    core_client._pool.clear()
    yield
    client.Configuration.set_default(None)
    core_client._pool.clear()
