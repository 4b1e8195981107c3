"""Verification after apply (mesh_auth_verify): the host/path pairs from the model, istioctl's JSON read back."""
from __future__ import annotations

import json

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth_verify as mav

from .test_mesh_auth import dev_spec, eco2_auth

DOMAINS = ["auth", "my", "scan", "character", "location", "image", "chat"]
HOST = "api.dev.growbin.app"
# istioctl 1.24 `analyze -o json`, one message as it prints it.
IST0101 = {"code": "IST0101", "level": "Error", "origin": "VirtualService auth/broken",
           "reference": "", "message": "Referenced gateway not found: \"istio-system/missing\"",
           "documentationUrl": "https://istio.io/v1.24/docs/reference/config/analysis/ist0101/?ref=istioctl-analyze"}
IST0133 = dict(IST0101, code="IST0133", level="Warning", origin="EnvoyFilter istio-system/eco2-cookie-to-header",
               message="Schema validation warning")


def public_paths(pairs):
    return [p["path"] for p in pairs["public"]]


def test_eco2_pairs_through_ext_authz_and_excepted():
    pairs = mav.auth_pairs(dev_spec())
    assert pairs["provider"] == "eco2-ext-authz"
    assert pairs["ext_authz"] == [{"host": HOST, "path": "/api/v1/*"}]
    assert {p["host"] for p in pairs["public"]} == {HOST}
    paths = public_paths(pairs)
    # each domain's five, auth's own six (kakao, google, naver also with everything below them)
    assert len(paths) == len(DOMAINS) * 5 + 9
    for d in DOMAINS:
        assert "/api/v1/%s/docs" % d in paths and "/api/v1/%s/metrics" % d in paths
    assert {"/api/v1/auth/kakao", "/api/v1/auth/kakao/*", "/api/v1/auth/refresh",
            "/api/v1/auth/.well-known/jwks.json"} <= set(paths)
    assert "/api/v1/scan/kakao" not in paths
    # outside /api/v1/*: never sent to ext_authz, so not an exception of the policy
    assert pairs["outside"] == ["/health", "/ready", "/metrics"]


def test_pairs_follow_the_hosts_and_protected_paths():
    auth = eco2_auth()
    auth.update(hosts=["api.a.test", "api.b.test"], protected_paths=["/api/v1/scan/*", "/api/v1/chat/send"])
    pairs = mav.auth_pairs(dev_spec(mesh_auth=auth))
    assert pairs["ext_authz"] == [{"host": h, "path": p} for h in ("api.a.test", "api.b.test")
                                  for p in ("/api/v1/scan/*", "/api/v1/chat/send")]
    assert sorted(set(public_paths(pairs))) == ["/api/v1/scan/docs", "/api/v1/scan/health", "/api/v1/scan/metrics",
                                                "/api/v1/scan/openapi.json", "/api/v1/scan/ready"]
    assert len(pairs["public"]) == 2 * 5
    assert "/api/v1/auth/kakao/*" in pairs["outside"] and "/health" in pairs["outside"]


def test_unprotected_domain_is_public_below_its_prefix():
    auth = eco2_auth()
    auth["domains"]["chat"] = {"protected": False}
    paths = public_paths(mav.auth_pairs(dev_spec(mesh_auth=auth)))
    assert "/api/v1/chat" in paths and "/api/v1/chat/*" in paths


def test_namespaces_gateway_provider_and_jwks():
    assert mav.verify_namespaces(dev_spec()) == ["istio-system", "auth"]
    auth = eco2_auth()
    auth["jwt"].append({"issuer": "other", "jwks_uri": "http://keys.keys.svc.cluster.local:8080/jwks.json"})
    auth["jwt"].append({"issuer": "outside", "jwks_uri": "https://login.example.com/jwks.json"})
    assert mav.verify_namespaces(dev_spec(mesh_auth=auth)) == ["istio-system", "auth", "keys"]


def test_analyze_command_uses_the_cluster_access_and_suppressions():
    cmd = mav.analyze_command("/bin/istioctl", "auth", "/k/config", None, [])
    assert cmd == ["/bin/istioctl", "analyze", "--namespace", "auth", "--output", "json", "--output-threshold", "Info",
                   "--kubeconfig", "/k/config"]
    cmd = mav.analyze_command("istioctl", "auth", "/k/config", "prod", ["IST0133=EnvoyFilter *.istio-system"])
    assert cmd[-4:] == ["--context", "prod", "--suppress", "IST0133=EnvoyFilter *.istio-system"]


def test_messages_read_from_istioctl_json():
    msgs = mav.analyze_messages("auth", json.dumps([IST0101, IST0133]), "")
    assert msgs[0] == {"namespace": "auth", "level": "Error", "code": "IST0101", "origin": "VirtualService auth/broken",
                       "message": 'Referenced gateway not found: "istio-system/missing"'}
    assert [m["code"] for m in mav.at_least(msgs, "Error")] == ["IST0101"]
    assert [m["code"] for m in mav.at_least(msgs, "Warning")] == ["IST0101", "IST0133"]
    assert mav.message_line(msgs[0]) == \
        'Error [IST0101] (VirtualService auth/broken) Referenced gateway not found: "istio-system/missing"'
    assert mav.analyze_messages("auth", "[]\n", "\u2714 No validation issues found when analyzing namespace: auth.") \
        == []


@pytest.mark.parametrize("stdout, stderr, expected", [
    ("", 'namespace "auth" not found\n', "namespace auth not found: istioctl analyzed nothing there"),
    ("Error [IST0101] (VirtualService auth/broken)", "", "istioctl analyze -n auth gave no JSON"),
    ('{"code": "IST0101"}', "", "not a list of messages"),
])
def test_istioctl_output_that_is_no_analysis_fails(stdout, stderr, expected):
    with pytest.raises(mav.AnalyzeError, match=expected):
        mav.analyze_messages("auth", stdout, stderr)


def test_summary_lines():
    pairs = mav.auth_pairs(dev_spec())
    msgs = mav.analyze_messages("istio-system", json.dumps([IST0133]), "")
    lines = mav.summary_lines(pairs, ["istio-system", "auth"], msgs)
    assert lines[0] == ("Auth at the gateway, ext_authz provider eco2-ext-authz "
                        "(istioctl analyze -n istio-system, auth: 0 error, 1 warning, 0 info):")
    assert "  ext_authz %-28s /api/v1/*" % HOST in lines
    assert "  public    %-28s /api/v1/auth/kakao/*" % HOST in lines
    assert "  public paths outside the protected paths: /health, /ready, /metrics" in lines
    assert lines[-1] == "  Warning [IST0133] (EnvoyFilter istio-system/eco2-cookie-to-header) Schema validation warning"
    skipped = mav.summary_lines(pairs, "skipped in check mode (nothing was applied)", [])
    assert skipped[0].endswith("(istioctl analyze skipped in check mode (nothing was applied)):")
