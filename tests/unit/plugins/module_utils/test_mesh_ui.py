"""Helm values of the mesh UIs (kiali-server 1.89.0, jaeger 3.4.1), their platform routes and Kiali's public-host check."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_ui

from ...role_defaults import SHARED, defaults

ISTIO_NS = SHARED["istio_namespace"]
# The values the roles' defaults give (Eco²), shared with tests/integration/test_mesh_ui.py.
EXPECTED = yaml.safe_load((Path(__file__).resolve().parents[3] / "integration/fixtures/mesh-ui-values.yml").read_text())


def role_options(role, options, over=None):
    """The role's defaults as the builder's options, the templated ones resolved the way Ansible would."""
    d = defaults(role)
    spec = {}
    for opt in options:
        value = d["%s_%s" % (role, opt)]
        if isinstance(value, str) and "{{ istio_namespace }}" in value:
            value = value.replace("{{ istio_namespace }}", ISTIO_NS)
        spec[opt] = value
    spec.update(over or {})
    return spec


def kiali(over=None):
    return mesh_ui.kiali_values(role_options("kiali", mesh_ui.KIALI_OPTIONS, over))


def jaeger(over=None):
    return mesh_ui.jaeger_values(role_options("jaeger", mesh_ui.JAEGER_OPTIONS, over))


def test_kiali_defaults_token_auth_wired_to_eco2_prometheus_and_jaeger_query():
    assert kiali() == EXPECTED["kiali-server"]


def test_kiali_grafana_and_external_links_when_given():
    values = kiali({"grafana_url": "http://grafana.grafana.svc.cluster.local", "grafana_external_url":
                    "https://grafana.dev.growbin.app", "tracing_external_url": "https://jaeger.dev.growbin.app",
                    "resources": {"requests": {"cpu": "10m"}}, "view_only_mode": True})
    services = values["external_services"]
    assert services["grafana"] == {"enabled": True, "in_cluster_url": "http://grafana.grafana.svc.cluster.local",
                                   "url": "https://grafana.dev.growbin.app"}
    assert services["tracing"]["url"] == "https://jaeger.dev.growbin.app"
    assert values["deployment"] == {"ingress": {"enabled": False}, "view_only_mode": True,
                                    "resources": {"requests": {"cpu": "10m"}}}


def test_kiali_without_tracing_or_istio_namespace_and_extra_values_last():
    values = kiali({"tracing_url": "", "istio_namespace": "", "extra_values": {"auth": {"strategy": "openid"}}})
    assert values["external_services"]["tracing"] == {"enabled": False}
    assert "istio_namespace" not in values
    assert values["auth"] == {"strategy": "openid"}


@pytest.mark.parametrize("over, message", [
    ({"auth_strategy": "none"}, "kiali_auth_strategy must be one of token, anonymous, openid, openshift, header"),
    ({"prometheus_url": ""}, "kiali_prometheus_url must be the in-cluster URL"),
])
def test_kiali_bad_options_name_the_variable(over, message):
    with pytest.raises(ValueError, match=message):
        kiali(over)


def test_builders_take_every_option_and_no_other():
    with pytest.raises(ValueError, match="unknown option 'route'"):
        mesh_ui.kiali_values(dict(role_options("kiali", mesh_ui.KIALI_OPTIONS), route={}))
    with pytest.raises(ValueError, match="missing option"):
        mesh_ui.jaeger_values({"max_traces": 1})


def test_jaeger_all_in_one_memory_storage_with_the_eco2_limits():
    assert jaeger() == EXPECTED["jaeger"]
    assert "resources" not in jaeger({"resources": {}})["allInOne"]
    with pytest.raises(ValueError, match="jaeger_max_traces must be >= 1"):
        jaeger({"max_traces": 0})


def test_ui_values_dispatch_by_chart():
    assert mesh_ui.ui_values(role_options("jaeger", mesh_ui.JAEGER_OPTIONS), "jaeger") == jaeger()
    with pytest.raises(ValueError, match="unknown UI chart 'grafana'"):
        mesh_ui.ui_values({}, "grafana")


def spec(**over):
    v = {"mesh_zone": "dev.growbin.app", "mesh_domains": [{"name": "auth"}],
         "mesh_alb_certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc-123"}
    v.update(over)
    return ms.build_spec(v)


def test_no_ui_route_unless_asked():
    assert [r["name"] for r in spec()["platform_routes"]] == ["argocd", "grafana"]


def test_ui_routes_become_platform_routes_to_the_chart_services():
    asked = [{"ui": "kiali"}, {"ui": "jaeger", "host": "traces.example.org", "prefix": "/jaeger"}]
    routes = {r["name"]: r for r in spec(mesh_ui_routes=asked)["platform_routes"]}
    assert routes["kiali"] == {"name": "kiali", "host": "kiali.dev.growbin.app", "namespace": "istio-system",
                               "service": "kiali", "port": 20001, "prefix": "/"}
    assert routes["jaeger"] == {"name": "jaeger", "host": "traces.example.org", "namespace": "istio-system",
                                "service": "jaeger-query", "port": 16686, "prefix": "/jaeger"}


def test_bad_ui_routes_name_the_path():
    with pytest.raises(ms.MeshSpecError) as exc:
        spec(mesh_ui_routes=[{"ui": "grafana"}, {"ui": "kiali", "host": "Bad_Host", "port": 1},
                             {"ui": "kiali"}])
    errors = exc.value.errors
    assert "mesh_ui_routes[0].ui: 'grafana' is not one of jaeger, kiali" in errors
    assert "mesh_ui_routes[1].port: unknown key; allowed keys: host, namespace, prefix, ui" in errors
    assert any(e.startswith("mesh_ui_routes[1].host: 'Bad_Host' is not a valid host name") for e in errors)
    assert any(e.startswith("mesh_ui_routes[2].ui: 'kiali' already has a platform route") for e in errors)


def test_public_route_hosts_of_kiali():
    routed = spec(mesh_ui_routes=[{"ui": "kiali"}])
    assert mesh_ui.public_route_hosts(routed, "kiali", "istio-system") == ["kiali.dev.growbin.app"]
    assert mesh_ui.public_route_hosts(routed, "kiali", "kiali") == []  # a route to another namespace's Kiali
    private = spec(mesh_ui_routes=[{"ui": "kiali"}], mesh_public_hosts=["api.dev.growbin.app"])
    assert mesh_ui.public_route_hosts(private, "kiali", "istio-system") == []
    assert mesh_ui.public_route_hosts(spec(), "kiali", "istio-system") == []
    # Declared as an ordinary platform route, it counts too.
    manual = spec(mesh_platform_routes=[{"name": "mesh-ui", "service": "kiali", "namespace": "istio-system",
                                         "port": 20001}])
    assert mesh_ui.public_route_hosts(manual, "kiali", "istio-system") == ["mesh-ui.dev.growbin.app"]
