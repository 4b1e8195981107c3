"""Auth offloading (mesh_auth) on the local cluster: Istio installed by the playbook with the ext_authz provider
in istiod's Helm values, the auth objects applied with the routing bundle and accepted by istiod's validating
webhook (failurePolicy Fail), a second run that writes nothing, each finding stopping the run before any write,
and the objects pruned when the section is switched off.

inventory/local keeps mesh_auth off (it has no auth server); these tests switch it on with -e and create the
auth-api Service (ports 8000 and 9001) and its Deployment themselves.
"""
from __future__ import annotations

import copy
import json

import pytest
import yaml

from tests.lib import chart_repo, cluster as local_cluster
from tests.lib.ansible_run import REPO, run_playbook
from tests.lib.bundle_cluster import BOTH, FIXTURES, PLAYBOOK, assert_noop

pytestmark = pytest.mark.slow

SHARED = yaml.safe_load((REPO / "inventory/shared/group_vars/all/mesh.yml").read_text())
ON = {"mesh_auth_enabled": True}
AUTH_KINDS = ("requestauthentications.security.istio.io", "authorizationpolicies.security.istio.io",
              "envoyfilters.networking.istio.io")
AUTH_SERVER = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "auth-api", "namespace": "auth"},
     "spec": {"selector": {"app": "auth-api"}, "ports": [
         {"name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"},
         {"name": "grpc-ext-authz", "port": 9001, "targetPort": 9001, "protocol": "TCP"}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "auth-api", "namespace": "auth"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "auth-api"}},
              "template": {"metadata": {"labels": {"app": "auth-api"}},
                           "spec": {"containers": [{"name": "api", "image": "auth-api:local"}]}}}},
]
HOST = "api.local.growbin.app"
# Outside the bundle, in the auth namespace: bound to a Gateway that does not exist (istioctl IST0101, an error).
BROKEN_VS = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
             "metadata": {"name": "auth-broken", "namespace": "auth"},
             "spec": {"hosts": [HOST], "gateways": ["istio-system/missing-gateway"],
                      "http": [{"route": [{"destination": {"host": "auth-api.auth.svc.cluster.local",
                                                           "port": {"number": 8000}}}]}]}}
DENY_AUTH_INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "deny-all", "namespace": "auth"},
                     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def auth_with(**over):
    auth = copy.deepcopy(SHARED["mesh_auth"])
    for key, value in over.items():
        if key.startswith("provider_"):
            auth["provider"][key[len("provider_"):]] = value
        else:
            auth[key] = value
    return auth


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    """Nodes of inventory/local, Istio installed by the playbook with mesh_auth on, the eco2 workloads."""
    k = local_cluster.start(inventory=str(REPO / "inventory/local"), workdir=str(tmp_path_factory.mktemp("auth")))
    try:
        with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as charts:
            installed = run_playbook(PLAYBOOK, "--tags", "istio", inventory="inventory/local",
                                     extra_vars=dict(ON, istio_chart_repo_url=charts.url), env=k.env())
            assert installed.rc == 0, installed
        k.wait_istiod()
        k.wait_webhook_fail()
        k.kubectl("apply", "-f", str(FIXTURES / "eco2-workloads.yaml"))
        k.kubectl("apply", "-f", "-", input="\n".join(json.dumps(o) for o in AUTH_SERVER))
        yield k
    finally:
        k.stop()


def play(kube, tags=BOTH, extra=None, *args):
    return run_playbook(PLAYBOOK, "--tags", tags, *args, inventory="inventory/local",
                        extra_vars=dict(ON, **(extra or {})), env=kube.env())


def auth_objects(kube):
    out = []
    for kind in AUTH_KINDS:
        items = json.loads(kube.kubectl("get", kind, "-A", "-l", "mesh.eco2.io/bundle=routing", "-o", "json")
                           .stdout)["items"]
        out += ["%s %s/%s" % (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in items]
    return sorted(out)


def assert_verified_with_pairs(result):
    """istioctl analyze ran clean on the live cluster and the summary lists the Eco² host/path pairs."""
    out = result.stdout
    assert ("Auth at the gateway, ext_authz provider eco2-ext-authz (istioctl analyze -n istio-system, auth: 0 error"
            in out), result
    assert "ext_authz %-28s /api/v1/*" % HOST in out, result
    for path in ("/api/v1/auth/kakao", "/api/v1/auth/kakao/*", "/api/v1/auth/.well-known/jwks.json",
                 "/api/v1/chat/docs", "/api/v1/scan/metrics"):
        assert "public    %-28s %s" % (HOST, path) in out, result
    assert "public paths outside the protected paths: /health, /ready, /metrics" in out, result


def test_istiod_values_carry_the_provider(kube):
    cm = json.loads(kube.kubectl("get", "configmap", "istio", "-n", "istio-system", "-o", "json").stdout)
    mesh = yaml.safe_load(cm["data"]["mesh"])
    assert {"name": "eco2-ext-authz", "envoyExtAuthzGrpc": {
        "service": "auth-api.auth.svc.cluster.local", "port": 9001, "timeout": "2s", "failOpen": False}} in \
        mesh["extensionProviders"]


# (id, tags, mesh_auth or other extra vars, setup, teardown, expected "object field:")
FINDINGS = [
    ("provider-not-in-istiod", "routing", {"mesh_auth": auth_with(provider_name="other-authz")}, None, None,
     "AuthorizationPolicy istio-system/eco2-ext-authz spec.provider.name:"),
    ("provider-service-missing", "routing",
     {"mesh_auth": auth_with(provider_service="authz.auth.svc.cluster.local")}, None, None,
     "Service auth/authz metadata.name:"),
    ("provider-port-missing", "routing", {"mesh_auth": auth_with(provider_port=9002)}, None, None,
     "Service auth/auth-api spec.ports:"),
    ("flow-blocked", "routing", None,
     lambda k: k.kubectl("apply", "-f", "-", input=json.dumps(DENY_AUTH_INGRESS)),
     lambda k: k.kubectl("delete", "networkpolicy", "-n", "auth", "deny-all"),
     "Namespace auth NetworkPolicy:"),
    ("health-route-caught", "routing", {"mesh_auth": auth_with(protected_paths=["/*"], hosts=["*"])}, None, None,
     "AuthorizationPolicy istio-system/eco2-ext-authz spec.rules:"),
]


@pytest.mark.parametrize("tags,extra,setup,teardown,where", [f[1:] for f in FINDINGS], ids=[f[0] for f in FINDINGS])
def test_finding_stops_the_run_before_any_write(kube, tags, extra, setup, teardown, where):
    if setup:
        setup(kube)
    try:
        kube.clear_requests()
        result = play(kube, tags, extra)
        assert result.rc != 0, result
        assert "mesh analysis:" in result.stdout, result
        assert where in result.stdout, result
        assert kube.writes() == []
        assert auth_objects(kube) == []
    finally:
        if teardown:
            teardown(kube)


def test_single_replica_fail_closed_warns_without_stopping(kube):
    kube.kubectl("scale", "deployment", "-n", "auth", "auth-api", "--replicas=1")
    try:
        kube.clear_requests()
        result = play(kube, "routing", None, "--check")
        assert result.rc == 0, result
        assert "auth-single-replica" in result.stdout + result.stderr, result
        assert kube.writes() == []
    finally:
        kube.kubectl("scale", "deployment", "-n", "auth", "auth-api", "--replicas=2")


def test_check_diff_then_apply_accepted_by_istiod_second_run_noop_then_prune(kube):
    kube.clear_requests()
    check = play(kube, BOTH, None, "--check", "--diff")
    assert check.rc == 0, check
    assert kube.writes() == []
    assert "istioctl analyze skipped in check mode (nothing was applied)" in check.stdout, check
    for ref in ("RequestAuthentication istio-system/eco2-jwt", "AuthorizationPolicy istio-system/eco2-ext-authz",
                "EnvoyFilter istio-system/eco2-cookie-to-header",
                "NetworkPolicy auth/mesh-auth-ext-authz-ingress-9001",
                "NetworkPolicy istio-system/mesh-auth-jwks-egress-8000"):
        assert "create " + ref in check.stdout, check

    first = play(kube)
    assert first.rc == 0, first
    assert_verified_with_pairs(first)
    assert auth_objects(kube) == ["AuthorizationPolicy istio-system/eco2-ext-authz",
                                  "EnvoyFilter istio-system/eco2-cookie-to-header",
                                  "RequestAuthentication istio-system/eco2-jwt"]
    # the webhook validates (and would refuse) these kinds: an invalid CUSTOM policy is denied
    bad = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
           "metadata": {"name": "bad", "namespace": "istio-system"},
           "spec": {"action": "CUSTOM", "rules": [{}]}}
    denied = kube.kubectl("apply", "-f", "-", input=json.dumps(bad), check=False)
    assert denied.returncode != 0
    assert 'admission webhook "validation.istio.io" denied the request' in denied.stderr, denied.stderr
    pols = json.loads(kube.kubectl("get", "networkpolicy", "-A", "-o", "json").stdout)["items"]
    names = {"%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]) for p in pols}
    assert {"istio-system/mesh-auth-ext-authz-egress-9001", "auth/mesh-auth-ext-authz-ingress-9001",
            "istio-system/mesh-auth-jwks-egress-8000", "auth/mesh-auth-jwks-ingress-8000"} <= names

    assert_noop(kube, lambda: play(kube))

    kube.clear_requests()
    off = play(kube, BOTH, {"mesh_auth_enabled": False})
    assert off.rc == 0, off
    assert auth_objects(kube) == []
    writes = kube.writes()
    assert writes and all(w["verb"] == "delete" for w in writes), writes
    deleted = sorted(w["path"].rsplit("/", 1)[-1] for w in writes)
    assert deleted == sorted(["eco2-jwt", "eco2-ext-authz", "eco2-cookie-to-header",
                              "mesh-auth-ext-authz-egress-9001", "mesh-auth-ext-authz-ingress-9001",
                              "mesh-auth-jwks-egress-8000", "mesh-auth-jwks-ingress-8000",
                              "mesh-allow-undeclared-egress", "mesh-allow-undeclared-ingress"]), deleted


def test_istioctl_error_after_apply_fails_the_run_with_its_message(kube):
    kube.kubectl("apply", "-f", "-", input=json.dumps(BROKEN_VS))
    try:
        result = play(kube, "routing")
        assert result.rc != 0, result
        assert "istioctl analyze reports error or worse: Error [IST0101] (VirtualService auth/auth-broken) " \
               "Referenced gateway not found: \"istio-system/missing-gateway\"" in result.stdout, result
        assert "RequestAuthentication istio-system/eco2-jwt" in auth_objects(kube)  # applied, then found wanting
    finally:
        kube.kubectl("delete", "virtualservice", "-n", "auth", "auth-broken")


def test_token_locations_are_accepted_by_istio_and_a_second_run_writes_nothing(kube):
    jwt = copy.deepcopy(SHARED["mesh_auth"]["jwt"])
    jwt[0].update(from_headers=[{"name": "authorization", "prefix": "Bearer "}, {"name": "x-jwt-assertion"}],
                  from_cookies=["s_access"])
    extra = {"mesh_auth": auth_with(jwt=jwt)}
    try:
        first = play(kube, "routing", extra)
        assert first.rc == 0, first
        ra = json.loads(kube.kubectl("get", "requestauthentications.security.istio.io", "-n", "istio-system",
                                     "eco2-jwt", "-o", "json").stdout)
        (rule,) = ra["spec"]["jwtRules"]
        assert rule["fromHeaders"] == [{"name": "authorization", "prefix": "Bearer "}, {"name": "x-jwt-assertion"}]
        assert rule["fromCookies"] == ["s_access"]
        assert_noop(kube, lambda: play(kube, "routing", extra))
    finally:  # the module's other tests expect the inventory's rule
        assert play(kube, "routing").rc == 0
