"""Auth offloading: the mesh_auth spec section and the objects generated from the Eco² values."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm as ih
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth as ma
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_routing as mr
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

from ...role_defaults import role_spec
from .test_mesh_spec import errors_of, inventory_vars, minimal

ROUTING = {"app.kubernetes.io/managed-by": "eco2.mesh", "mesh.eco2.io/bundle": "routing"}


def eco2_auth():
    return copy.deepcopy(inventory_vars("dev")["mesh_auth"])


def dev_spec(**over):
    v = inventory_vars("dev")
    v.update(over)
    return ms.build_spec(v)


def by_kind(objs):
    return {o["kind"]: o for o in objs}


def test_eco2_request_authentication():
    ra = by_kind(ma.auth_objects(dev_spec()))["RequestAuthentication"]
    assert ra["apiVersion"] == "security.istio.io/v1"
    assert ra["metadata"] == {"name": "eco2-jwt", "namespace": "istio-system", "labels": ROUTING}
    assert ra["spec"] == {
        "selector": {"matchLabels": {"istio": "ingressgateway"}},
        "jwtRules": [{"issuer": "sesacthon-auth",
                      "jwksUri": "http://auth-api.auth.svc.cluster.local:8000/api/v1/auth/.well-known/jwks.json",
                      "forwardOriginalToken": True}],
    }


def test_token_locations_become_the_rule_s_from_headers_and_from_cookies():
    auth = eco2_auth()
    auth["jwt"][0].update(from_headers=[{"name": "X-Jwt-Assertion"}, {"name": "authorization", "prefix": "Bearer "}],
                          from_cookies=["access_token"])
    ra = by_kind(ma.auth_objects(dev_spec(mesh_auth=auth)))["RequestAuthentication"]
    (rule,) = ra["spec"]["jwtRules"]
    assert rule["fromHeaders"] == [{"name": "x-jwt-assertion"}, {"name": "authorization", "prefix": "Bearer "}]
    assert rule["fromCookies"] == ["access_token"]
    # Without them Istio reads Authorization: Bearer, and the rule says nothing.
    (plain,) = by_kind(ma.auth_objects(dev_spec()))["RequestAuthentication"]["spec"]["jwtRules"]
    assert "fromHeaders" not in plain and "fromCookies" not in plain


def test_eco2_custom_authorization_policy():
    ap = by_kind(ma.auth_objects(dev_spec()))["AuthorizationPolicy"]
    assert ap["metadata"]["namespace"] == "istio-system"
    spec = ap["spec"]
    assert spec["action"] == "CUSTOM"
    assert spec["provider"] == {"name": "eco2-ext-authz"}
    assert spec["selector"] == {"matchLabels": {"istio": "ingressgateway"}}
    (rule,) = spec["rules"]
    (to,) = rule["to"]
    op = to["operation"]
    assert op["hosts"] == ["api.dev.growbin.app"]
    assert op["paths"] == ["/api/v1/*"]
    assert op["notPaths"][:3] == ["/health", "/ready", "/metrics"]


def test_public_paths_generated_from_the_domains():
    paths = dev_spec()["auth"]["public_paths"]
    domains = ["auth", "my", "scan", "character", "location", "image", "chat"]
    for d in domains:
        for rel in ("docs", "openapi.json", "health", "ready", "metrics"):
            assert "/api/v1/%s/%s" % (d, rel) in paths
    for rel in ("kakao", "kakao/*", "google", "google/*", "naver", "naver/*", "refresh", "logout",
                ".well-known/jwks.json"):
        assert "/api/v1/auth/" + rel in paths
    # the auth domain's own paths are not given to the others
    assert "/api/v1/scan/kakao" not in paths
    assert len(paths) == 3 + 5 * len(domains) + 9
    assert len(set(paths)) == len(paths)


def test_a_new_domain_brings_its_public_paths():
    v = inventory_vars("dev")
    v["mesh_domains"] = v["mesh_domains"] + [{"name": "users", "prefixes": ["/api/v1/users", "/api/v2/users"]}]
    auth = eco2_auth()
    auth["domains"]["users"] = {"public_paths": ["signup"]}
    v["mesh_auth"] = auth
    paths = ms.build_spec(v)["auth"]["public_paths"]
    for prefix in ("/api/v1/users", "/api/v2/users"):
        assert prefix + "/docs" in paths
        assert prefix + "/signup" in paths


def test_unprotected_domain_is_public_below_its_prefix():
    auth = eco2_auth()
    auth["domains"]["image"] = {"protected": False}
    paths = dev_spec(mesh_auth=auth)["auth"]["public_paths"]
    assert "/api/v1/image" in paths and "/api/v1/image/*" in paths


def test_cookie_filter_runs_before_jwt_authn():
    ef = by_kind(ma.auth_objects(dev_spec()))["EnvoyFilter"]
    assert ef["apiVersion"] == "networking.istio.io/v1alpha3"
    assert ef["spec"]["workloadSelector"] == {"labels": {"istio": "ingressgateway"}}
    (patch,) = ef["spec"]["configPatches"]
    assert patch["applyTo"] == "HTTP_FILTER"
    assert patch["match"]["context"] == "GATEWAY"
    hcm = patch["match"]["listener"]["filterChain"]["filter"]
    assert hcm["name"] == "envoy.filters.network.http_connection_manager"
    # before JWT authentication, not merely before ext_authz: a cookie token is then checked by jwt_authn
    assert hcm["subFilter"] == {"name": "envoy.filters.http.jwt_authn"}
    assert patch["patch"]["operation"] == "INSERT_BEFORE"
    config = patch["patch"]["value"]["typed_config"]
    assert config["@type"] == "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
    assert '{cookie = "s_access", header = "authorization", prefix = "Bearer "}' in config["inlineCode"]
    assert '{cookie = "s_refresh", header = "x-refresh-token", prefix = "Bearer "}' in config["inlineCode"]


def test_one_switch_removes_the_cookie_filter():
    auth = eco2_auth()
    auth["cookie_to_header"] = False
    kinds = [o["kind"] for o in ma.auth_objects(dev_spec(mesh_auth=auth))]
    assert kinds == ["RequestAuthentication", "AuthorizationPolicy"]


def test_auth_objects_are_in_the_routing_bundle_and_leave_with_the_section():
    with_auth = [o["kind"] for o in mr.routing_objects(dev_spec())]
    assert with_auth[-3:] == ["RequestAuthentication", "AuthorizationPolicy", "EnvoyFilter"]
    v = inventory_vars("dev")
    del v["mesh_auth"]
    assert ms.build_spec(v)["auth"] is None
    assert not {"RequestAuthentication", "AuthorizationPolicy", "EnvoyFilter"} & {
        o["kind"] for o in mr.routing_objects(ms.build_spec(v))}
    assert dev_spec(mesh_auth_enabled=False)["auth"] is None


def test_local_inventory_keeps_auth_off():
    assert ms.build_spec(inventory_vars("local"))["auth"] is None


def test_extension_provider_for_istiod_values():
    providers = ma.validate_provider(eco2_auth())
    assert providers == [{"name": "eco2-ext-authz", "envoyExtAuthzGrpc": {
        "service": "auth-api.auth.svc.cluster.local", "port": 9001, "timeout": "2s", "failOpen": False}}]
    values = ih.istiod_values(role_spec("istiod", {
        "extension_providers": providers,
        "mesh_config": {"accessLogFile": "/dev/stdout",
                        "extensionProviders": [{"name": "other", "prometheus": {}},
                                               {"name": "eco2-ext-authz", "prometheus": {}}]}}))
    assert values["meshConfig"] == {"accessLogFile": "/dev/stdout",
                                    "extensionProviders": [{"name": "other", "prometheus": {}}] + providers}
    assert "meshConfig" not in ih.istiod_values(role_spec("istiod"))
    assert ma.validate_provider(None) == [] and ma.validate_provider(eco2_auth(), False) == []


def test_http_provider_carries_the_check_headers():
    auth = eco2_auth()
    auth["provider"]["type"] = "envoyExtAuthzHttp"
    (p,) = ma.validate_provider(auth)
    assert p["envoyExtAuthzHttp"]["includeRequestHeadersInCheck"] == [
        "authorization", "x-refresh-token", "x-request-id", "x-b3-traceid", "x-b3-spanid"]


def test_flows_gateway_to_ext_authz_and_istiod_to_jwks():
    flows = ma.auth_flows(dev_spec())
    assert [(f["name"], f["from"]["namespace"], f["from"]["pod_labels"], f["to"]["namespace"], f["port"])
            for f in flows] == [
        ("ext-authz", "istio-system", {"app": "istio-ingressgateway", "istio": "ingressgateway"}, "auth", 9001),
        ("jwks", "istio-system", {"app": "istiod"}, "auth", 8000)]


@pytest.mark.parametrize("change, expected", [
    (lambda a: a["provider"].update(type="grpc"),
     "mesh_auth.provider.type: 'grpc' is not one of envoyExtAuthzGrpc, envoyExtAuthzHttp"),
    (lambda a: a["provider"].update(port=70000), "mesh_auth.provider.port: 70000 is not a port number (1-65535)"),
    (lambda a: a["provider"].update(service="auth-api.example.com"),
     "mesh_auth.provider.service: 'auth-api.example.com' is not an in-cluster Service host"),
    (lambda a: a["provider"].update(timeout="2 seconds"),
     "mesh_auth.provider.timeout: '2 seconds' is not a duration like 2s, 500ms, 1m"),
    (lambda a: a["provider"].update(fail_open="no"), "mesh_auth.provider.fail_open: 'no' is not one of true, false"),
    (lambda a: a["provider"].update(failOpen=True), "mesh_auth.provider.failOpen: unknown key; allowed keys: "),
    (lambda a: a.update(jwt=[]), "mesh_auth.jwt: must list at least one rule {issuer, jwks_uri}"),
    (lambda a: a["jwt"][0].update(jwks_uri="auth-api:8000/jwks"),
     "mesh_auth.jwt[0].jwks_uri: 'auth-api:8000/jwks' is not a valid http(s) URL"),
    (lambda a: a["jwt"][0].pop("issuer"), "mesh_auth.jwt[0].issuer: is required"),
    (lambda a: a["jwt"][0].update(from_headers=[{"name": "x jwt"}]),
     "mesh_auth.jwt[0].from_headers[0].name: 'x jwt' is not a valid HTTP header name"),
    (lambda a: a["jwt"][0].update(from_headers=[{"name": "x-jwt"}, {"name": "X-Jwt", "prefix": "Bearer "}]),
     "mesh_auth.jwt[0].from_headers[1].name: 'x-jwt' is declared twice"),
    (lambda a: a["jwt"][0].update(from_headers=[{"name": "x-jwt", "prefix": 'a"b'}]),
     "mesh_auth.jwt[0].from_headers[0].prefix: 'a\"b' must be a one-line string without quotes or backslashes"),
    (lambda a: a["jwt"][0].update(from_cookies=["s token"]),
     "mesh_auth.jwt[0].from_cookies[0]: 's token' is not a valid cookie name"),
    (lambda a: a["jwt"][0].update(jwks_port=8000),
     "mesh_auth.jwt[0].jwks_port: unknown key; allowed keys: audiences, forward_original_token, from_cookies, "
     "from_headers, issuer, jwks_uri"),
    (lambda a: a.update(protected_paths=["api/v1/*"]), "mesh_auth.protected_paths[0]: 'api/v1/*' must be a path"),
    (lambda a: a.update(public_paths=["/a*b"]), "mesh_auth.public_paths[0]: '/a*b' must be a path"),
    (lambda a: a.update(domains={"billing": {}}),
     "mesh_auth.domains.billing: unknown key; allowed keys: auth, character, chat, image, location, my, scan"),
    (lambda a: a["domains"]["auth"].update(public_paths=["/kakao"]),
     "mesh_auth.domains.auth.public_paths[0]: '/kakao' must be a path relative to the domain prefix"),
    (lambda a: a["domains"]["auth"].update(protected="yes"),
     "mesh_auth.domains.auth.protected: 'yes' is not one of true, false"),
    (lambda a: a["cookies"][0].update(cookie="s access"),
     "mesh_auth.cookies[0].cookie: 's access' is not a valid cookie name"),
    (lambda a: a["cookies"][1].update(header="authorization"),
     "mesh_auth.cookies[1].header: 'authorization' is set by two cookies"),
    (lambda a: a["cookies"][0].update(prefix='Bearer "'), "mesh_auth.cookies[0].prefix:"),
    (lambda a: a.update(cookies=[]),
     "mesh_auth.cookies: must list at least one {cookie, header} while mesh_auth.cookie_to_header is true"),
    (lambda a: a.update(cookie_to_header="off"), "mesh_auth.cookie_to_header: 'off' is not one of true, false"),
    (lambda a: a.update(hosts="api"), "mesh_auth.hosts: must be a list"),
    (lambda a: a.update(provider_name="x"), "mesh_auth.provider_name: unknown key; allowed keys: cookie_to_header"),
])
def test_validation_errors_name_the_path_and_allowed_values(change, expected):
    auth = eco2_auth()
    change(auth)
    v = inventory_vars("dev")
    v["mesh_auth"] = auth
    errors = errors_of(v)
    assert any(e.startswith(expected) for e in errors), errors


def test_mesh_auth_enabled_must_be_a_bool():
    assert "mesh_auth_enabled: 'yes' is not one of true, false" in errors_of(
        minimal(mesh_auth=eco2_auth(), mesh_auth_enabled="yes"))


def test_provider_filter_validates_alone():
    auth = eco2_auth()
    auth["provider"]["port"] = "x"
    with pytest.raises(ms.MeshSpecError) as exc:
        ma.validate_provider(auth)
    assert exc.value.errors == ["mesh_auth.provider.port: 'x' is not a port number (1-65535)"]


def test_summary_shows_the_ext_authz_host_path_pairs():
    from ansible_collections.eco2.mesh.plugins.module_utils import summary
    objs = ma.auth_objects(dev_spec())
    rows = summary.ext_authz(objs)
    assert rows == [{"policy": "istio-system/eco2-ext-authz", "provider": "eco2-ext-authz",
                     "hosts": "api.dev.growbin.app", "paths": "/api/v1/*", "public": 47}]
    lines = summary.summary_lines({"istiod_nodes": [], "gateway_nodes": [], "releases": [], "routes": [],
                                   "policies": {}, "sidecars": [], "ext_authz": rows})
    assert any(line.strip().startswith("api.dev.growbin.app") and "-> eco2-ext-authz (47 public paths" in line
               for line in lines), lines
