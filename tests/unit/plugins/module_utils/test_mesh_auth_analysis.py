"""Auth offloading findings (mesh_auth_analysis), through mesh_analysis.analyze like every other check."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth as mauth
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth_analysis as maa
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_routing as mr

from .test_mesh_analysis import only, run, services, spec_of, svc
from .test_mesh_auth import eco2_auth

PROVIDERS = {"extensionProviders": mauth.validate_provider(eco2_auth())}


def deny_ingress(ns):
    return {"kind": "NetworkPolicy", "metadata": {"name": "deny-all", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def auth_findings(findings):
    return [f for f in findings if f["check"].startswith("auth-")]


def routing_run(spec=None, **ctx):
    spec = spec or spec_of()
    context = {"services": services(spec), "istiod_mesh_config": PROVIDERS, "auth_network_policies": [],
               "auth_replicas": 2}
    context.update(ctx)
    return run(spec, mr.routing_objects(spec), ["routing"], **context)


def test_eco2_values_are_clean():
    assert auth_findings(routing_run()) == []
    spec = spec_of()
    assert auth_findings(run(spec, mp.network_policy_objects(spec), ["network_policies"])) == []


def test_provider_not_in_istiods_mesh_config():
    (f,) = auth_findings(routing_run(istiod_mesh_config={"extensionProviders": [{"name": "other"}]}))
    assert f["check"] == "auth-provider-unknown" and f["severity"] == "error"
    assert f["object"] == "AuthorizationPolicy istio-system/eco2-ext-authz" and f["field"] == "spec.provider.name"
    assert "'eco2-ext-authz'" in f["message"] and "declared: other" in f["message"]
    (f,) = auth_findings(routing_run(istiod_mesh_config={}))
    assert "declared: none" in f["message"]


def test_provider_service_missing_or_without_the_port():
    spec = spec_of()
    no_auth = [s for s in services(spec) if s["metadata"]["name"] != "auth-api"]
    found = auth_findings(routing_run(spec, services=no_auth))
    assert [(f["check"], f["object"], f["field"]) for f in found] == [
        ("auth-service-missing", "Service auth/auth-api", "metadata.name")] * 2
    assert "ext_authz provider eco2-ext-authz" in found[0]["message"]
    assert "JWKS of issuer sesacthon-auth" in found[1]["message"]
    (f,) = auth_findings(routing_run(spec, services=no_auth + [svc("auth", "auth-api", 8000)]))
    assert f["field"] == "spec.ports" and "no port 9001 (ports: 8000)" in f["message"]


def test_network_policy_on_the_cluster_blocks_ext_authz_and_jwks():
    found = auth_findings(routing_run(auth_network_policies=[deny_ingress("auth")]))
    assert [f["check"] for f in found] == ["auth-flow-blocked"] * 2
    assert "gateway -> ext_authz auth/TCP:9001" in found[0]["message"]
    assert "istiod -> JWKS auth/TCP:8000" in found[1]["message"]
    assert "auth/deny-all" in found[0]["message"]
    # once the network-policies bundle is on the cluster, both flows are open again
    spec = spec_of()
    assert auth_findings(routing_run(spec, auth_network_policies=[deny_ingress("auth")]
                                     + mp.network_policy_objects(spec))) == []


def test_network_policy_bundle_without_the_auth_flows_is_caught():
    spec = spec_of()
    objs = [o for o in mp.network_policy_objects(spec, {"auth": ["Ingress"]})
            if not o["metadata"]["name"].startswith("mesh-auth-")]
    found = only(run(spec, objs, ["network_policies"], live=[deny_ingress("auth")]), "auth-flow-blocked")
    assert len(found) == 2 and "after this apply" in found[0]["message"]


def test_health_route_and_public_paths_caught_by_a_broad_custom_policy():
    auth = eco2_auth()
    auth["protected_paths"] = ["/*"]
    auth["hosts"] = ["*"]
    found = auth_findings(routing_run(spec_of(mesh_auth=auth)))
    assert {f["check"] for f in found} == {"auth-public-caught"}
    assert any("the ALB health check (Host 10.0.0.10, path /healthz/ready)" in f["message"] for f in found)
    assert not any("public path" in f["message"] for f in found)  # notPaths still exempt them


def test_public_path_caught_by_a_custom_policy_that_is_not_ours():
    foreign = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
               "metadata": {"name": "legacy-authz", "namespace": "istio-system"},
               "spec": {"selector": {"matchLabels": {"istio": "ingressgateway"}}, "action": "CUSTOM",
                        "provider": {"name": "eco2-ext-authz"},
                        "rules": [{"to": [{"operation": {"paths": ["/api/v1/auth/*"]}}]}]}}
    found = auth_findings(routing_run(live=[foreign]))
    assert found and all(f["object"] == "AuthorizationPolicy istio-system/legacy-authz" for f in found)
    assert any("public path /api/v1/auth/kakao/*" in f["message"] for f in found)


def test_fail_closed_with_one_replica_warns():
    (f,) = auth_findings(routing_run(auth_replicas=1))
    assert f["check"] == "auth-single-replica" and f["severity"] == "warning"
    assert "PodDisruptionBudget" in f["fix"]
    auth = eco2_auth()
    auth["provider"]["fail_open"] = True
    assert auth_findings(routing_run(spec_of(mesh_auth=auth), auth_replicas=1)) == []


def test_authorization_policy_matching():
    pol = mauth.authorization_policy(spec_of())
    assert maa.policy_matches(pol, "api.dev.growbin.app", "/api/v1/scan/scan")
    assert maa.policy_matches(pol, "API.dev.growbin.app", "/api/v1/scan/scan")
    assert not maa.policy_matches(pol, "api.dev.growbin.app", "/api/v1/scan/docs")
    assert not maa.policy_matches(pol, "api.dev.growbin.app", "/api/v1/auth/kakao/callback")
    assert not maa.policy_matches(pol, "argocd.dev.growbin.app", "/api/v1/scan/scan")
    assert not maa.policy_matches({"spec": {"action": "CUSTOM"}}, "a", "/")  # no rules: never matches
