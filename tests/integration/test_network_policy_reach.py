"""Issue 18 on the local cluster: the NetworkPolicy bundle keeps open what is open today, unless asked to isolate.

The policies the real API server holds after a run are evaluated with the collection's
NetworkPolicy evaluator (nothing enforces them here: KWOK runs no packet).
"""
from __future__ import annotations

import json

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from tests.lib.bundle_cluster import play, prepare

pytestmark = pytest.mark.slow

AUTH = {"namespace": "auth", "labels": {"app": "auth-api"}}
FIVE = {
    "auth -> postgres:5432": (AUTH, {"namespace": "postgres", "labels": {"app": "postgres"}}, 5432),
    "auth -> redis:6379": (AUTH, {"namespace": "redis", "labels": {"app": "redis"}}, 6379),
    "auth -> auth:8000": (AUTH, {"namespace": "auth", "labels": {"app": "auth-worker"}}, 8000),
    "auth -> external:443": (AUTH, {"namespace": None, "ip": "198.51.100.7"}, 443),
    "monitoring -> auth sidecar:15090": ({"namespace": "prometheus", "labels": {"app": "prometheus"}}, AUTH, 15090),
}


@pytest.fixture
def kube(cluster):
    prepare(cluster)
    return cluster


def policies(kube):
    return json.loads(kube.kubectl("get", "networkpolicies", "-A", "-o", "json").stdout)["items"]


def namespaces(kube):
    items = json.loads(kube.kubectl("get", "namespaces", "-o", "json").stdout)["items"]
    return {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in items}


def test_without_default_deny_the_five_connections_stay_open_and_a_rerun_writes_nothing(kube):
    first = play(kube, "network_policies")
    assert first.rc == 0, first
    applied, nss = policies(kube), namespaces(kube)
    assert len(applied) == 7 * 11 + 2
    for name, (src, dst, port) in FIVE.items():
        assert netpol.allowed(src, dst, port, "TCP", applied, nss), name
    kube.clear_requests()
    second = play(kube, "network_policies")
    assert second.rc == 0 and second.changed == 0, second
    assert kube.writes() == []


def test_with_default_deny_the_peers_stay_open_and_the_rest_stops_the_run_before_any_write(kube):
    kube.clear_requests()
    refused = play(kube, "network_policies", {"mesh_network_policy_default_deny": True})
    assert refused.rc != 0, refused
    assert "newly-denied" in refused.stdout
    assert "applying the bundle would deny auth/app=auth-api (auth) -> external 203.0.113.10 (external) on TCP" \
        in refused.stdout, refused
    assert kube.writes() == []
    assert policies(kube) == []

    accepted = play(kube, "network_policies", {"mesh_network_policy_default_deny": True,
                                               "mesh_network_policy_acknowledged_denials": [{"from": "*", "to": "*"}]})
    assert accepted.rc == 0, accepted
    applied, nss = policies(kube), namespaces(kube)
    for name, (src, dst, port) in FIVE.items():
        assert netpol.allowed(src, dst, port, "TCP", applied, nss), name
    assert not netpol.allowed(AUTH, {"namespace": None, "ip": "198.51.100.7"}, 80, "TCP", applied, nss)


def test_where_a_foreign_policy_isolates_egress_the_bundle_only_adds(kube):
    kube.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow-postgres-only", "namespace": "scan"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                 "egress": [{"ports": [{"protocol": "TCP", "port": 5432}]}]}}))
    result = play(kube, "network_policies")
    assert result.rc == 0, result
    applied, nss = policies(kube), namespaces(kube)
    scan = {n["metadata"]["name"] for n in applied if n["metadata"]["namespace"] == "scan"}
    assert "mesh-allow-undeclared-egress" not in scan and "mesh-allow-undeclared-ingress" in scan
    scan_pod = {"namespace": "scan", "labels": {"app": "scan-api"}}
    istiod = {"namespace": "istio-system", "labels": {"app": "istiod", "istio": "pilot"}}
    assert netpol.allowed(scan_pod, istiod, 15012, "TCP", applied, nss)  # the sidecar's allowance was added
    # ...and the owner's isolation stands: an undeclared external port stays closed.
    assert not netpol.allowed(scan_pod, {"namespace": None, "ip": "198.51.100.7"}, 80, "TCP", applied, nss)
