"""Helm values and chart sources for the Istio releases."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm as ih

from ansible_collections.eco2.mesh.plugins.module_utils.k8s_objects import labels_match

from ...role_defaults import SHARED, role_spec

OFFICIAL_REPO = SHARED["istio_chart_repo_url"]


def istiod_values(over=None):
    return ih.istiod_values(role_spec("istiod", over))


def gateway_values(over=None):
    return ih.gateway_values(role_spec("gateway", over))


def base_values(over=None):
    return ih.base_values(role_spec("base", over))


SEED_ISTIOD = {
    "pilot": {
        "autoscaleEnabled": False,
        "replicaCount": 1,
        "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}},
        "nodeSelector": {"role": "control-plane"},
        "tolerations": [
            {"key": "role", "operator": "Equal", "value": "control-plane", "effect": "NoSchedule"},
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
        ],
    }
}
SEED_GATEWAY = {
    "service": {"type": "NodePort", "ports": [
        {"name": "status-port", "port": 15021, "protocol": "TCP", "targetPort": 15021},
        {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 80},
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443},
    ]},
    "nodeSelector": {"role": "ingress-gateway"},
    "tolerations": [{"key": "role", "operator": "Equal", "value": "ingress-gateway", "effect": "NoSchedule"}],
}


def test_istiod_defaults_reproduce_the_seed():
    assert istiod_values() == SEED_ISTIOD


def test_gateway_defaults_reproduce_the_seed():
    assert gateway_values() == SEED_GATEWAY


def test_base_defaults_are_empty():
    assert base_values() == {}
    assert base_values({"default_revision": "stable"}) == {"defaultRevision": "stable"}


def test_values_survive_a_yaml_round_trip_unchanged():
    # kubernetes.core.helm compares the values with `helm get values -o yaml`: types must not drift.
    for values in (istiod_values(), gateway_values(), base_values()):
        assert yaml.safe_load(yaml.safe_dump(values)) == values


def test_istiod_autoscaling_replaces_replica_count():
    v = istiod_values({"autoscale_enabled": True, "autoscale_min": 2, "autoscale_max": 4})
    assert v["pilot"]["autoscaleEnabled"] is True
    assert (v["pilot"]["autoscaleMin"], v["pilot"]["autoscaleMax"]) == (2, 4)
    assert "replicaCount" not in v["pilot"]


def test_istiod_pdb_mesh_config_affinity_and_extra_values():
    terms = [{"matchExpressions": [{"key": "role", "operator": "In", "values": ["control-plane"]}]}]
    providers = {"extensionProviders": [{"name": "ext-authz", "envoyExtAuthzGrpc": {
        "service": "ext-authz.auth.svc.cluster.local", "port": 50051}}]}
    v = istiod_values({"pdb_enabled": False, "mesh_config": providers, "required_node_affinity": terms,
                       "replicas": "2", "extra_values": {"pilot": {"env": {"A": "b"}, "tolerations": []}}})
    assert v["global"] == {"defaultPodDisruptionBudget": {"enabled": False}}
    assert v["meshConfig"] == providers
    assert v["pilot"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"] == terms
    assert v["pilot"]["replicaCount"] == 2
    assert v["pilot"]["env"] == {"A": "b"}
    assert v["pilot"]["tolerations"] == []  # extra values win; lists are replaced
    assert v["pilot"]["nodeSelector"] == {"role": "control-plane"}  # dicts are merged


def test_gateway_options():
    v = gateway_values({
        "replicas": 2, "autoscaling_enabled": False, "pdb": {"minAvailable": 1}, "labels": {"istio": "edge"},
        "service_ports": [{"name": "http2", "port": "80", "nodePort": "30080"}],
        "resources": {"requests": {"cpu": "50m"}},
    })
    assert v["replicaCount"] == 2
    assert v["autoscaling"] == {"enabled": False}
    assert v["podDisruptionBudget"] == {"minAvailable": 1}
    assert v["labels"] == {"istio": "edge"}
    assert v["service"]["ports"] == [{"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30080}]
    assert gateway_values({"autoscaling_enabled": True, "autoscaling_max": 3})["autoscaling"] == {
        "enabled": True, "minReplicas": 1, "maxReplicas": 3}


def test_unknown_option_and_bad_port_are_errors():
    with pytest.raises(ValueError, match="unknown option 'replica'"):
        istiod_values({"replica": 1})
    with pytest.raises(ValueError, match="name and a port"):
        gateway_values({"service_ports": [{"port": 80}]})
    with pytest.raises(ValueError, match="unknown Istio chart"):
        ih.helm_values(role_spec("istiod"), "cni")


def test_plain_drops_subclasses():
    class S(str):
        pass
    out = ih.plain({S("a"): [S("b"), {"c": True}]})
    key = list(out)[0]
    assert key.__class__ is str and out["a"][0].__class__ is str and out["a"][1]["c"] is True


def test_chart_source_repo_oci_and_paths(tmp_path):
    repo = ih.chart_source("istiod", "1.24.1", OFFICIAL_REPO)
    assert repo["chart_ref"] == "istiod" and repo["chart_repo_url"] == OFFICIAL_REPO
    assert repo["chart_version"] == "1.24.1" and repo["repository"] == OFFICIAL_REPO
    oci = ih.chart_source("gateway", "1.24.2", "oci://mirror.example/istio/")
    assert oci["chart_ref"] == "oci://mirror.example/istio/gateway" and oci["chart_repo_url"] is None
    assert oci["chart_version"] == "1.24.2"
    path = ih.chart_source("base", "1.24.1", OFFICIAL_REPO, chart_path=str(tmp_path / "base-1.24.1.tgz"))
    assert path["chart_ref"].endswith("base-1.24.1.tgz") and path["chart_version"] is None
    assert path["repository"].startswith("file://")
    (tmp_path / "istiod-1.24.1.tgz").write_text("x")
    assert ih.chart_source("istiod", "1.24.1", None, chart_dir=str(tmp_path))["chart_ref"] == str(tmp_path / "istiod-1.24.1.tgz")
    assert ih.chart_source("gateway", "1.24.1", None, chart_dir=str(tmp_path))["chart_ref"] == str(tmp_path / "gateway")
    with pytest.raises(ValueError, match="must start with"):
        ih.chart_source("base", "1.24.1", "ftp://x")


def test_gateway_labels_from_release_name():
    assert ih.gateway_pod_labels("istio-ingressgateway") == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    assert ih.gateway_pod_labels("edge") == {"app": "edge", "istio": "edge"}
    assert ih.gateway_pod_labels("edge", {"istio": "ingressgateway"})["istio"] == "ingressgateway"
    assert labels_match({"istio": "ingressgateway"}, ih.gateway_pod_labels("istio-ingressgateway"))
    assert not labels_match({"istio": "ingressgateway"}, ih.gateway_pod_labels("istio-gw"))


def test_merge_releases_keeps_install_order():
    src = ih.chart_source("gateway", "1.24.1", OFFICIAL_REPO)
    items = ih.merge_releases(None, ih.release_entry("istio-ingressgateway", "gateway", "istio-system", src))
    items = ih.merge_releases(items, ih.release_entry("istio-base", "base", "istio-system", src))
    items = ih.merge_releases(items, ih.release_entry("istiod", "istiod", "istio-system", src))
    items = ih.merge_releases(items, ih.release_entry("istiod", "istiod", "istio-system", dict(src, version="1.24.2")))
    assert [i["release"] for i in items] == ["istio-base", "istiod", "istio-ingressgateway"]
    assert items[1]["version"] == "1.24.2"
    assert set(items[0]) == {"release", "chart", "version", "namespace", "repository"}


def test_verify_ports():
    assert ih.verify_ports([{"name": "http2", "port": 80, "targetPort": 80, "nodePort": 30080}, {"name": "x", "port": "1"}]) == [
        {"name": "http2", "port": 80, "node_port": 30080}, {"name": "x", "port": 1}]
