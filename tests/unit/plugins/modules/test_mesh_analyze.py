"""mesh_analyze module: offline runs through main(), and its helpers."""
from __future__ import annotations

from tests.lib.module_main import run_main

from ansible_collections.eco2.mesh.plugins.filter import mesh_bundles as mb
from ansible_collections.eco2.mesh.plugins.modules import mesh_analyze

VARS = {"mesh_zone": "dev.growbin.app", "mesh_domains": ["auth", "scan", "character"],
        "mesh_flows": [{"from": "scan", "to": "character"}],
        "mesh_alb_certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"}


def run_module(args, capsys):
    return run_main(mesh_analyze, args, capsys)


def test_clean_bundle_passes(capsys):
    objs = mb.mesh_routing_objects(VARS) + mb.mesh_network_policies(VARS)
    out = run_module({"objects": objs, "spec": VARS}, capsys)
    assert not out.get("failed") and out["error_count"] == 0 and out["findings"] == [] and out["read"] == {}


def test_findings_fail_with_object_and_field(capsys):
    bad = dict(VARS, mesh_health_check_route=False)
    out = run_module({"objects": mb.mesh_routing_objects(bad), "spec": mb.mesh_spec(bad), "checks": ["routing"]}, capsys)
    assert out["failed"] and out["error_count"] == 1
    assert "Gateway istio-system/eco2-gateway spec.servers[0].hosts" in out["msg"]


def test_report_only(capsys):
    bad = dict(VARS, mesh_gateway_selector={"istio": "gw"})
    out = run_module({"objects": mb.mesh_routing_objects(bad), "spec": bad, "fail_on_error": False}, capsys)
    assert not out.get("failed") and out["findings"][0]["check"] == "gateway-selector"


def test_invalid_spec(capsys):
    out = run_module({"objects": [], "spec": dict(VARS, mesh_zone="Bad Zone")}, capsys)
    assert out["failed"] and "mesh_zone" in out["msg"]


def test_offline_services(capsys):
    objs = mb.mesh_routing_objects(VARS)
    out = run_module({"objects": objs, "spec": VARS, "checks": ["routing"], "services": [], "fail_on_error": False}, capsys)
    assert {f["check"] for f in out["findings"]} == {"vs-destination"}


def test_helpers():
    dep = {"spec": {"template": {"metadata": {"labels": {"app": "istiod", "istio": "pilot"}}}}}
    assert mesh_analyze._template_labels(dep) == {"app": "istiod", "istio": "pilot"}
    assert mesh_analyze._template_labels(None) is None
    ours = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "eco2.mesh", "mesh.eco2.io/bundle": "routing"}}}
    assert mesh_analyze._ours(ours, {"routing"}) and not mesh_analyze._ours(ours, {"network-policies"})
    assert mesh_analyze._is_spec(mb.mesh_spec(VARS)) and not mesh_analyze._is_spec(VARS)
