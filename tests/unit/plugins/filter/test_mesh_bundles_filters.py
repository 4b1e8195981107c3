"""The mesh filters: spec, bundles, manifest rendering, object references."""
from __future__ import annotations

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.filter import mesh_bundles as mb

VARS = {"mesh_zone": "dev.growbin.app", "mesh_domains": ["auth", "scan", "character"],
        "mesh_flows": [{"from": "scan", "to": "character"}],
        "mesh_alb_certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"}


def test_filters_registered():
    assert set(mb.FilterModule().filters()) == {"mesh_spec", "mesh_network_policies", "mesh_routing", "mesh_manifest",
                                                "mesh_object_refs", "mesh_isolated_directions", "mesh_mtls_telemetry",
                                                "mesh_mtls_telemetry_summary"}


def test_bundles_from_variables_or_spec():
    spec = mb.mesh_spec(VARS)
    assert mb.mesh_routing_objects(VARS) == mb.mesh_routing_objects(spec)
    assert mb.mesh_network_policies(VARS) == mb.mesh_network_policies(spec)
    # Per namespace istiod, DNS, gateway, same-namespace and the two allow-undeclared; both sides of the flow.
    assert len(mb.mesh_network_policies(spec)) == 3 * 6 + 2
    isolated = mb.mesh_isolated_directions([{"metadata": {"namespace": "scan", "name": "theirs"},
                                             "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}])
    assert isolated == {"scan": ["Egress"]}
    assert len(mb.mesh_network_policies(spec, isolated)) == 3 * 6 + 2 - 1


def test_invalid_spec_is_a_filter_error_naming_the_path():
    with pytest.raises(AnsibleFilterError, match=r"mesh_flows\[0\]\.protocol: 'TPC' is not one of TCP, UDP, SCTP"):
        mb.mesh_spec(dict(VARS, mesh_flows=[{"from": "scan", "to": "character", "protocol": "TPC"}]))
    with pytest.raises(AnsibleFilterError):
        mb.mesh_spec(["not", "a", "dict"])


def test_manifest_is_multi_document_yaml():
    objs = mb.mesh_routing_objects(VARS)
    text = mb.mesh_manifest(objs, header="line one\nline two")
    assert text.startswith("# line one\n# line two\n---\n")
    assert list(yaml.safe_load_all(text)) == objs
    assert text.count("\n---\n") == len(objs)


def test_object_refs():
    assert mb.mesh_object_refs(mb.mesh_routing_objects(VARS))[:2] == [
        "Gateway istio-system/eco2-gateway", "Ingress istio-system/istio-ingress"]
