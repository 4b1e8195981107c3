"""Mesh spec validation and normalisation, and the shipped inventories' spec."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

REPO = Path(__file__).resolve().parents[4]
DOMAINS = ["auth", "my", "scan", "character", "location", "image", "chat"]


def inventory_vars(env):
    base = REPO / "inventory" / env / "group_vars" / "all"
    out = yaml.safe_load((base / "mesh.yml").read_text())
    out.update(yaml.safe_load((base / "mesh_env.yml").read_text()))
    return out


def minimal(**over):
    v = {"mesh_zone": "dev.growbin.app", "mesh_domains": [{"name": "auth"}, {"name": "scan"}, {"name": "character"}],
         "mesh_alb_certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc-123"}
    v.update(over)
    return v


def errors_of(variables):
    with pytest.raises(ms.MeshSpecError) as exc:
        ms.build_spec(variables)
    return exc.value.errors


def test_domain_defaults():
    spec = ms.build_spec(minimal())
    auth = spec["domains"][0]
    assert auth == {"name": "auth", "namespace": "auth", "service": "auth-api", "port": 8000,
                    "routes": [{"prefix": "/api/v1/auth", "service": "auth-api", "namespace": "auth", "port": 8000}],
                    "hosts": ["api.dev.growbin.app"], "gateways": ["istio-system/eco2-gateway"], "meshed": True,
                    "pod_labels": {}, "default_deny": False}


def test_domain_as_plain_string_and_overrides():
    spec = ms.build_spec(minimal(mesh_domains=["auth", {"name": "users", "namespace": "user-ns", "service": "u",
                                                        "port": 9000, "prefixes": ["/api/v1/users", "/api/v2/users"],
                                                        "routes": [{"prefix": "/internal", "port": 50051}]}]))
    users = spec["domains"][1]
    assert users["namespace"] == "user-ns" and users["service"] == "u"
    assert [r["prefix"] for r in users["routes"]] == ["/internal", "/api/v1/users", "/api/v2/users"]
    assert users["routes"][0] == {"prefix": "/internal", "service": "u", "namespace": "user-ns", "port": 50051}


def test_public_and_gateway_hosts_derived_from_zone():
    spec = ms.build_spec(minimal())
    assert spec["public_hosts"] == ["api.dev.growbin.app", "argocd.dev.growbin.app", "grafana.dev.growbin.app"]
    # '*' for the ALB probe (Host = target IP) because the health check goes through the traffic port
    assert spec["gateway"]["hosts"] == spec["public_hosts"] + ["*"]
    spec = ms.build_spec(minimal(mesh_health_check_route=False))
    assert "*" not in spec["gateway"]["hosts"]
    spec = ms.build_spec(minimal(mesh_health_check_route=False, mesh_gateway_extra_hosts=["*"]))
    assert spec["gateway"]["hosts"][-1] == "*"
    spec = ms.build_spec(minimal(mesh_alb={"healthcheck_port": 32021}))
    assert "*" not in spec["gateway"]["hosts"]


def test_explicit_public_hosts():
    spec = ms.build_spec(minimal(mesh_public_hosts=["api.example.org"]))
    assert spec["public_hosts"] == ["api.example.org"]


def test_gateway_identity_from_release_name():
    spec = ms.build_spec(minimal())
    assert spec["gateway"]["pod_labels"] == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    assert spec["gateway"]["service"] == "istio-ingressgateway"
    spec = ms.build_spec(minimal(istio_gateway_release_name="edge"))
    assert spec["gateway"]["pod_labels"] == {"app": "edge", "istio": "edge"}
    assert spec["gateway"]["service"] == "edge"
    assert ms.gateway_pod_labels_for_release("istio-gw") == {"app": "istio-gw", "istio": "gw"}


def test_alb_defaults_and_certificate_override():
    spec = ms.build_spec(minimal(mesh_alb={"group_order": 3}))
    assert spec["alb"]["group_order"] == 3
    assert spec["alb"]["healthcheck_path"] == "/healthz/ready"
    assert spec["alb"]["certificate_arn"].endswith("abc-123")


def test_flows_resolve_namespaces_and_default_port():
    spec = ms.build_spec(minimal(mesh_flows=[{"from": "scan", "to": "character"}]))
    assert spec["flows"] == [{"from": "scan", "to": "character", "from_namespace": "scan",
                              "to_namespace": "character", "port": 8000, "protocol": "TCP"}]


@pytest.mark.parametrize("over,expected", [
    ({"mesh_flows": [{"from": "scan", "to": "character", "port": 8000, "protocol": "TPC"}]},
     "mesh_flows[0].protocol: 'TPC' is not one of TCP, UDP, SCTP"),
    ({"mesh_flows": [{"from": "scan", "to": "charcter"}]},
     "mesh_flows[0].to: 'charcter' is not one of auth, scan, character"),
    ({"mesh_flows": [{"from": ["scan"], "to": "character"}]},
     "mesh_flows[0].from: ['scan'] is not one of auth, scan, character"),
    ({"mesh_flows": [{"from": "scan", "to": "character", "port": 70000}]},
     "mesh_flows[0].port: 70000 is not a port number (1-65535)"),
    ({"mesh_flows": [{"from": "scan", "to": "scan"}]}, "mesh_flows[0]: from and to are the same namespace"),
    ({"mesh_flows": [{"from": "scan", "to": "character", "ports": 1}]}, "mesh_flows[0].ports: unknown key"),
    ({"mesh_domains": [{"name": "Auth"}]}, "mesh_domains[0].name: 'Auth' is not a valid DNS-1123 label"),
    ({"mesh_domains": [{"name": "auth"}, {"name": "auth"}]}, "mesh_domains[1].name: 'auth' is declared twice"),
    ({"mesh_domains": [{"name": "auth", "port": "http"}]}, "mesh_domains[0].port: 'http' is not a port number"),
    ({"mesh_domains": [{"name": "auth", "prefixes": ["api"]}]},
     "mesh_domains[0].prefixes[0]: 'api' must be a URI path prefix starting with '/'"),
    ({"mesh_domains": [{"name": "auth", "meshed": "yes"}]}, "mesh_domains[0].meshed: 'yes' is not one of true, false"),
    ({"mesh_domains": [{"name": "auth", "pod_labels": {"app": 1}}]},
     "mesh_domains[0].pod_labels.app: 1 is not a valid label value"),
    ({"mesh_alb": {"scheme": "public"}}, "mesh_alb.scheme: 'public' is not one of internet-facing, internal"),
    ({"mesh_alb": {"target_type": "pod"}}, "mesh_alb.target_type: 'pod' is not one of instance, ip"),
    ({"mesh_alb": {"success_codes": "ok"}}, "mesh_alb.success_codes: 'ok' is not a list of HTTP codes"),
    ({"mesh_alb": {"group_order": 0}}, "mesh_alb.group_order: 0 is not an integer between 1 and 1000"),
    ({"mesh_alb": {"listen_ports": [{"HTTPZ": 443}]}}, "mesh_alb.listen_ports[0]: 'HTTPZ' is not one of HTTP, HTTPS"),
    ({"mesh_alb": {"colour": "red"}}, "mesh_alb.colour: unknown key"),
    ({"mesh_alb_certificate_arn": "my-cert"}, "mesh_alb_certificate_arn: 'my-cert' is not a valid ACM certificate ARN"),
    ({"mesh_zone": "Dev Zone"}, "mesh_zone: 'Dev Zone' is not a valid DNS zone"),
    ({"mesh_gateway_extra_hosts": ["bad host"]}, "mesh_gateway_extra_hosts[0]: 'bad host' is not a valid host name"),
    ({"mesh_gateway_selector": {}}, "mesh_gateway_selector: must not be empty"),
    ({"mesh_istiod": {"ports": [15012, "x"]}}, "mesh_istiod.ports[1]: 'x' is not a port number"),
    ({"mesh_external_dns": "on"}, "mesh_external_dns: 'on' is not one of true, false"),
    ({"mesh_platform_routes": [{"name": "argocd", "port": 0}]}, "mesh_platform_routes[0].port: 0 is not a port number"),
])
def test_errors_name_the_variable_and_allowed_values(over, expected):
    errors = errors_of(minimal(**over))
    assert any(e.startswith(expected) for e in errors), errors


def test_missing_required_values():
    errors = errors_of({})
    assert "mesh_zone: is required" in errors
    assert any(e.startswith("mesh_domains: is required") for e in errors)
    assert any(e.startswith("mesh_alb_certificate_arn: is required") for e in errors)


def test_all_errors_reported_at_once():
    errors = errors_of(minimal(mesh_flows=[{"from": "x", "to": "y", "protocol": "ICMP"}], mesh_alb={"scheme": "z"}))
    assert len(errors) >= 4
    assert "invalid mesh spec" in str(ms.MeshSpecError(errors))


def test_none_means_default():
    spec = ms.build_spec(dict(minimal(), mesh_flows=None, mesh_alb=None, mesh_gateway=None))
    assert spec["flows"] == [] and spec["gateway"]["name"] == "eco2-gateway"


def test_labels_and_selector_helpers():
    assert ms.managed_labels("routing") == {"app.kubernetes.io/managed-by": "eco2.mesh", "mesh.eco2.io/bundle": "routing"}
    assert ms.bundle_selector("network-policies") == \
        "app.kubernetes.io/managed-by=eco2.mesh,mesh.eco2.io/bundle=network-policies"
    with pytest.raises(ValueError):
        ms.managed_labels("other")


@pytest.mark.parametrize("env,zone", [("dev", "dev.growbin.app"), ("prod", "growbin.app"), ("local", "local.growbin.app")])
def test_shipped_inventories(env, zone):
    spec = ms.build_spec(inventory_vars(env))
    assert spec["zone"] == zone
    assert [d["name"] for d in spec["domains"]] == DOMAINS
    assert [r["name"] for r in spec["platform_routes"]] == ["argocd", "grafana"]
    assert spec["flows"] == [{"from": "scan", "to": "character", "from_namespace": "scan",
                              "to_namespace": "character", "port": 8000, "protocol": "TCP"}]
    assert spec["public_hosts"] == ["api.%s" % zone, "argocd.%s" % zone, "grafana.%s" % zone]
    assert "*" in spec["gateway"]["hosts"]


def test_dev_and_prod_differ_only_by_hostnames_and_certificate():
    dev, prod = ms.build_spec(inventory_vars("dev")), ms.build_spec(inventory_vars("prod"))

    def neutral(spec):
        text = yaml.safe_dump(copy.deepcopy(spec)).replace("dev.growbin.app", "ZONE").replace("growbin.app", "ZONE")
        out = yaml.safe_load(text)
        out["alb"].pop("certificate_arn")
        out["gateway"].pop("extra_hosts")  # dev lists '*' explicitly, prod gets it from the health check
        return out

    assert neutral(dev) == neutral(prod)
    assert dev["alb"]["certificate_arn"] != prod["alb"]["certificate_arn"]
