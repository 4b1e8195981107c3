"""Analysis: every failure class of the real migration is found, with object, field and fix."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import analysis_routing as ar
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_analysis as ma
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_routing as mr
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

from .test_mesh_spec import inventory_vars


def spec_of(**over):
    v = inventory_vars("dev")
    if "mesh_domains" in over and "mesh_auth" not in over:
        del v["mesh_auth"]  # its per-domain overrides name the Eco² domains
    v.update(over)
    return ms.build_spec(v)


def services(spec):
    out = []
    provider = (spec.get("auth") or {}).get("provider") or {}
    for d in spec["domains"]:
        ext_authz = (d["namespace"], d["service"]) == (provider.get("namespace"), provider.get("service_name"))
        out.append(svc(d["namespace"], d["service"], d["port"], *([provider["port"]] if ext_authz else [])))
    for r in spec["platform_routes"]:
        out.append(svc(r["namespace"], r["service"], r["port"]))
    out.append(svc("istio-system", "istio-ingressgateway", 80, 443, 15021))
    return out


def svc(ns, name, *ports):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": [{"port": p} for p in ports]}}


def run(spec, objects=None, checks=None, **ctx):
    if objects is None:
        objects = mr.routing_objects(spec) + mp.network_policy_objects(spec)
    context = {"spec": spec, "external_dns": spec["external_dns"], "gateway_pod_labels": [spec["gateway"]["pod_labels"]]}
    if checks:
        context["checks"] = checks
    context.update(ctx)
    return ma.analyze(objects, context)


def only(findings, check):
    return [f for f in findings if f["check"] == check]


def errors(findings):
    return [f for f in findings if f["severity"] == "error"]


def find(objs, kind, ns, name):
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["namespace"] == ns and o["metadata"]["name"] == name)


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_shipped_specs_are_clean(env):
    spec = ms.build_spec(inventory_vars(env))
    findings = run(spec, services=services(spec), namespaces={n: {} for n in (
        "auth", "my", "scan", "character", "location", "image", "chat", "argocd", "grafana", "istio-system",
        "prometheus")})
    assert findings == [], ma.summary(findings)


# -- 1. ExternalDNS ------------------------------------------------------------------
def test_ingress_without_external_dns_annotation():
    spec = spec_of()
    objs = mr.routing_objects(spec)
    del find(objs, "Ingress", "istio-system", "istio-ingress")["metadata"]["annotations"][ar.EXTERNAL_DNS_HOSTNAME]
    (f,) = only(run(spec, objs, ["routing"]), "external-dns")
    assert f["object"] == "Ingress istio-system/istio-ingress"
    assert f["field"] == 'metadata.annotations["external-dns.alpha.kubernetes.io/hostname"]'
    assert "api.dev.growbin.app,argocd.dev.growbin.app,grafana.dev.growbin.app" in f["fix"]


def test_ingress_missing_a_public_host():
    spec = spec_of(mesh_alb={"extra_annotations": {ar.EXTERNAL_DNS_HOSTNAME: "api.dev.growbin.app"}})
    (f,) = only(run(spec, checks=["routing"]), "external-dns")
    assert "argocd.dev.growbin.app, grafana.dev.growbin.app" in f["message"]


def test_external_dns_off_is_not_checked():
    spec = spec_of(mesh_external_dns=False)
    assert only(run(spec, checks=["routing"]), "external-dns") == []


# -- 2. ALB health check -------------------------------------------------------------
def test_seed_outage_gateway_without_star():
    spec = spec_of(mesh_health_check_route=False, mesh_gateway_extra_hosts=[])
    (f,) = only(run(spec, checks=["routing"]), "alb-health-check")
    assert f["object"] == "Gateway istio-system/eco2-gateway"
    assert f["field"] == "spec.servers[0].hosts"
    assert "api.dev.growbin.app, argocd.dev.growbin.app, grafana.dev.growbin.app" in f["message"]
    assert "'*'" in f["fix"]


def test_star_but_no_health_route():
    spec = spec_of(mesh_health_check_route=False)  # dev lists '*' but no health VirtualService
    (f,) = only(run(spec, checks=["routing"]), "alb-health-check")
    assert f["object"] == "Ingress istio-system/istio-ingress"
    assert "healthcheck-path" in f["field"]
    assert "/healthz/ready" in f["message"]


def test_health_route_with_wrong_status():
    spec = spec_of()
    objs = mr.routing_objects(spec)
    find(objs, "VirtualService", "istio-system", "gateway-health-check")["spec"]["http"][0]["directResponse"]["status"] = 204
    (f,) = only(run(spec, objs, ["routing"]), "alb-health-check")
    assert f["object"] == "VirtualService istio-system/gateway-health-check" and f["field"] == "spec.http[0]"


def test_health_check_on_status_port_needs_no_route():
    spec = spec_of(mesh_health_check_route=False, mesh_gateway_extra_hosts=[], mesh_alb={"healthcheck_port": 32021})
    assert only(run(spec, checks=["routing"]), "alb-health-check") == []


def test_health_route_matching_helpers():
    vs = mr.health_check_virtual_service(spec_of())
    assert ar.first_route(vs, "/healthz/ready", {})[0] == 0
    assert ar.first_route(vs, "/", {"User-Agent": "ELB-HealthChecker/2.0"})[0] == 0
    assert ar.first_route(vs, "/", {"User-Agent": "curl"})[0] is None
    assert ar.success_codes("200,204-206") == {200, 204, 205, 206}
    assert ar.host_matches("*.growbin.app", "api.growbin.app") and not ar.host_matches("*.growbin.app", "growbin.app")
    assert ar.hosts_overlap("*", "api.x") and not ar.hosts_overlap("a.x", "b.x")


# -- 3. Gateway selector -------------------------------------------------------------
def test_gateway_selector_matching_no_pod():
    spec = spec_of(mesh_gateway_selector={"istio": "gateway"})
    (f,) = only(run(spec, checks=["routing"]), "gateway-selector")
    assert f["object"] == "Gateway istio-system/eco2-gateway" and f["field"] == "spec.selector"
    assert "istio=gateway" in f["message"] and "app=istio-ingressgateway,istio=ingressgateway" in f["message"]


def test_gateway_release_renamed_breaks_selector():
    spec = spec_of(istio_gateway_release_name="edge-gateway", mesh_gateway_selector={"istio": "ingressgateway"})
    (f,) = only(run(spec, checks=["routing"]), "gateway-selector")
    assert "edge-gateway" in f["fix"]


def test_gateway_selector_follows_renamed_release_by_default():
    spec = spec_of(istio_gateway_release_name="edge-gateway")
    assert spec["gateway"]["selector"] == {"istio": "edge-gateway"}
    assert not only(run(spec, checks=["routing"]), "gateway-selector")


# -- 4. VirtualService destinations -----------------------------------------------------
def test_destination_service_missing():
    spec = spec_of()
    svcs = [s for s in services(spec) if s["metadata"]["name"] != "chat-api"]
    (f,) = only(run(spec, checks=["routing"], services=svcs), "vs-destination")
    assert f["object"] == "VirtualService chat/chat-vs"
    assert f["field"] == "spec.http[0].route[0].destination.host"
    assert "chat/chat-api" in f["message"]


def test_destination_port_missing():
    spec = spec_of(mesh_domains=[{"name": "auth"}, {"name": "my"}, {"name": "scan"}, {"name": "character"},
                                 {"name": "location"}, {"name": "image"}, {"name": "chat", "port": 8080}])
    svcs = services(spec_of())
    (f,) = only(run(spec, checks=["routing"], services=svcs), "vs-destination")
    assert f["field"] == "spec.http[0].route[0].destination.port.number"
    assert "8080" in f["message"] and "8000" in f["message"]


def test_gateway_service_missing():
    spec = spec_of()
    svcs = [s for s in services(spec) if s["metadata"]["name"] != "istio-ingressgateway"]
    (f,) = only(run(spec, checks=["routing"], services=svcs), "vs-destination")
    assert f["object"] == "Ingress istio-system/istio-ingress"
    assert f["field"] == "spec.rules[0].http.paths[0].backend.service.name"


def test_destinations_unknown_without_services():
    assert only(run(spec_of(), checks=["routing"]), "vs-destination") == []


def test_service_name_forms():
    assert ar._service_of("a.b.svc.cluster.local", "x") == ("b", "a")
    assert ar._service_of("a", "x") == ("x", "a")
    assert ar._service_of("a.b", "x") == ("b", "a")
    assert ar._service_of("a.b.svc", "x") == ("b", "a")
    assert ar._service_of("www.example.com", "x") is None


# -- 5. VirtualService host / gateway ---------------------------------------------------
def test_vs_host_not_on_gateway():
    spec = spec_of(mesh_health_check_route=False, mesh_gateway_extra_hosts=[],
                   mesh_domains=[{"name": "chat", "hosts": ["chat.example.org"]}], mesh_flows=[],
                   mesh_public_hosts=["api.dev.growbin.app"], mesh_platform_routes=[])
    (f,) = only(run(spec, checks=["routing"]), "vs-gateway")
    assert f["object"] == "VirtualService chat/chat-vs" and f["field"] == "spec.hosts[0]"
    assert "chat.example.org" in f["message"]


def test_vs_bound_to_missing_gateway():
    spec = spec_of(mesh_domains=[{"name": "chat", "gateways": ["istio-system/other-gateway"]}], mesh_flows=[])
    (f,) = only(run(spec, checks=["routing"]), "vs-gateway")
    assert f["field"] == "spec.gateways[0]" and "istio-system/other-gateway" in f["message"]


def test_vs_host_only_on_wildcard_warns():
    spec = spec_of(mesh_domains=[{"name": "chat", "hosts": ["chat.dev.growbin.app"]}], mesh_flows=[],
                   mesh_public_hosts=["api.dev.growbin.app", "argocd.dev.growbin.app", "grafana.dev.growbin.app"])
    (f,) = only(run(spec, checks=["routing"]), "vs-gateway")
    assert f["severity"] == "warning"


# -- 6. Conflicts ----------------------------------------------------------------------
def test_two_virtual_services_same_host_and_prefix():
    spec = spec_of(mesh_domains=[{"name": "chat"}, {"name": "chat2", "namespace": "chat", "prefixes": ["/api/v1/chat"]}],
                   mesh_flows=[])
    (f,) = only(run(spec, checks=["routing"]), "vs-conflict")
    assert "VirtualService chat/chat-vs" in f["message"] and "VirtualService chat/chat2-vs" in f["message"]
    assert "prefix /api/v1/chat" in f["message"] and "api.dev.growbin.app" in f["message"]
    assert f["field"].startswith("spec.http[0]")


def test_conflict_with_a_live_leftover():
    spec = spec_of()
    leftover = copy.deepcopy(mr.domain_virtual_service(spec, spec["domains"][0]))
    leftover["metadata"] = {"name": "auth-legacy", "namespace": "auth"}
    leftover["spec"]["hosts"] = ["*"]
    (f,) = only(run(spec, checks=["routing"], live=[leftover]), "vs-conflict")
    assert f["object"] == "VirtualService auth/auth-vs" and f["field"] == "spec.http[0].match[0]"
    assert "auth/auth-legacy" in f["message"]


def test_live_objects_replaced_by_the_bundle_are_not_conflicts():
    spec = spec_of()
    live = copy.deepcopy(mr.routing_objects(spec))
    assert run(spec, checks=["routing"], live=live) == []


# -- 7. istiod egress -------------------------------------------------------------------
def test_istiod_ports_missing():
    # The spec's ports are istiod's; but without 15012 (xDS, certificates) no sidecar starts.
    spec = spec_of(mesh_istiod={"ports": [15010, 15014]}, mesh_network_policy_default_deny=True)
    found = only(run(spec, checks=["network_policies"]), "istiod-egress")
    assert len(found) == 7
    f = next(x for x in found if "namespace scan" in x["message"])
    assert f["object"].startswith("NetworkPolicy scan/") and f["field"] == "spec.egress"
    assert "on TCP 15012 " in f["message"] and "15010, 15014, 15012" in f["fix"]


def test_istiod_ports_override_is_what_the_analysis_checks():
    spec = spec_of(mesh_istiod={"ports": [15010, 15012, 15017]}, mesh_network_policy_default_deny=True)
    assert not only(run(spec, checks=["network_policies"]), "istiod-egress")
    pol = next(o for o in mp.network_policy_objects(spec) if o["metadata"]["name"] == "mesh-allow-istiod-egress"
               and o["metadata"]["namespace"] == "scan")
    assert [p["port"] for p in pol["spec"]["egress"][0]["ports"]] == [15010, 15012, 15017]


def test_istiod_selector_wrong():
    # The live istiod (read from its Deployment) carries other labels than the spec selects.
    spec = spec_of(mesh_istiod={"pod_labels": {"app": "istiod-canary"}}, mesh_network_policy_default_deny=True)
    found = only(run(spec, checks=["network_policies"], istiod_pod_labels={"app": "istiod", "istio": "pilot"}),
                 "istiod-egress")
    assert len(found) == 7 and "app=istiod,istio=pilot" in found[0]["message"]


def test_foreign_policy_in_istio_system_blocks_istiod_ingress():
    spec = spec_of()
    lockdown = {"kind": "NetworkPolicy", "metadata": {"name": "lockdown", "namespace": "istio-system"},
                "spec": {"podSelector": {"matchLabels": {"app": "istiod"}}, "ingress": [{"from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]}]}}
    # as on a cluster: the bundle keeps no allow-all where the lockdown isolates (mesh_auth's flows touch istio-system)
    objs = mp.network_policy_objects(spec, mp.isolated_directions([lockdown]))
    found = only(run(spec, objs, checks=["network_policies"], live=[lockdown]), "istiod-egress")
    assert found and found[0]["object"] == "NetworkPolicy istio-system/lockdown" and found[0]["field"] == "spec.ingress"


# -- 8. DNS / default-deny -----------------------------------------------------------------
LIVE_DNS = {"k8s-app": "kube-dns"}  # what the cluster's CoreDNS pods carry (read from its Deployment)


def test_default_deny_without_dns():
    spec = spec_of(mesh_dns={"pod_labels": {"k8s-app": "coredns"}}, mesh_network_policy_default_deny=True)
    found = only(run(spec, checks=["network_policies"], dns_pod_labels=LIVE_DNS), "default-deny-dns")
    assert len(found) == 7
    f = next(x for x in found if x["object"] == "NetworkPolicy scan/mesh-default-deny")
    assert f["field"] == "spec.policyTypes" and "default-deny without DNS" in f["message"]


def test_dns_blocked_with_a_wrong_dns_selector_where_others_isolate_egress():
    spec = spec_of(mesh_dns={"pod_labels": {"k8s-app": "coredns"}})
    live = [{"kind": "NetworkPolicy", "metadata": {"name": "db-only", "namespace": d["namespace"]},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 5432}]}]}}
            for d in spec["domains"]]
    objs = mp.network_policy_objects(spec, mp.isolated_directions(live))
    found = only(run(spec, objs, ["network_policies"], live=live, dns_pod_labels=LIVE_DNS), "dns-egress")
    assert len(found) == 7 and found[0]["field"] == "spec.egress"


def test_dns_labels_override_is_what_the_analysis_checks():
    spec = spec_of(mesh_dns={"pod_labels": {"k8s-app": "coredns"}}, mesh_network_policy_default_deny=True)
    assert not [f for f in run(spec, checks=["network_policies"]) if "dns" in f["check"]]
    pol = next(o for o in mp.network_policy_objects(spec) if o["metadata"]["name"] == "mesh-allow-dns-egress"
               and o["metadata"]["namespace"] == "scan")
    assert pol["spec"]["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "coredns"}}


def test_foreign_default_deny_in_unmeshed_namespace():
    deny = {"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "legacy"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    (f,) = only(ma.analyze([deny], {"checks": ["network_policies"]}), "default-deny-dns")
    assert f["object"] == "NetworkPolicy legacy/deny"


# -- 9. Flows -----------------------------------------------------------------------------
def test_flow_one_sided_from_a_hand_written_egress():
    spec = spec_of(mesh_network_policy_default_deny=True)  # isolation asked for
    half = {"kind": "NetworkPolicy", "metadata": {"name": "image-to-chat", "namespace": "image"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "chat"}}}],
                "ports": [{"protocol": "TCP", "port": 8000}]}]}}
    (f,) = only(run(spec, checks=["network_policies"], live=[half]), "flow-one-sided")
    assert f["object"] == "NetworkPolicy chat/mesh-allow-gateway-ingress" and f["field"] == "spec.ingress"
    assert "egress to chat allowed by NetworkPolicy image/image-to-chat" in f["message"]
    assert "egress from image is allowed but ingress into chat on TCP/8000 is not" in f["message"]
    assert "mesh_flows" in f["fix"]


def test_flow_one_sided_ingress_without_egress():
    spec = spec_of(mesh_network_policy_default_deny=True)
    half = {"kind": "NetworkPolicy", "metadata": {"name": "from-auth", "namespace": "my"},
            "spec": {"podSelector": {}, "ingress": [{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "auth"}}}],
                "ports": [{"port": 8000}]}]}}
    (f,) = only(run(spec, checks=["network_policies"], live=[half]), "flow-one-sided")
    assert f["object"].startswith("NetworkPolicy auth/") and f["field"] == "spec.egress"
    assert "ingress into my is allowed but egress from auth on TCP/8000 is not" in f["message"]


def test_declared_flow_with_one_side_removed():
    spec = spec_of(mesh_network_policy_default_deny=True)  # isolation asked for
    objs = [o for o in mp.network_policy_objects(spec) if o["metadata"]["name"] != "mesh-flow-ingress-from-scan-8000-tcp"]
    (f,) = only(run(spec, objs, ["network_policies"]), "flow-one-sided")
    assert "flow scan -> character TCP/8000" in f["message"]
    assert f["object"] == "NetworkPolicy character/mesh-allow-gateway-ingress"


def test_declared_flow_blocked_both_sides():
    spec = spec_of(mesh_network_policy_default_deny=True)  # isolation asked for
    objs = [o for o in mp.network_policy_objects(spec) if "mesh-flow" not in o["metadata"]["name"]]
    (f,) = only(run(spec, objs, ["network_policies"]), "flow-blocked")
    assert f["object"].startswith("NetworkPolicy scan/")


def test_gateway_cannot_reach_app_port():
    spec = spec_of(mesh_network_policy_default_deny=True)  # isolation asked for
    objs = mp.network_policy_objects(spec)
    find(objs, "NetworkPolicy", "chat", "mesh-allow-gateway-ingress")["spec"]["ingress"][0]["ports"][0]["port"] = 9000
    (f,) = only(run(spec, objs, ["network_policies"]), "gateway-ingress")
    assert f["object"] == "NetworkPolicy chat/mesh-allow-gateway-ingress" and "TCP 8000" in f["message"]


def test_missing_namespace_when_known():
    spec = spec_of()
    (f, *rest) = only(run(spec, mp.network_policy_objects(spec), ["network_policies"],
                          namespaces={"auth": {}, "istio-system": {}}),
                      "namespace-missing")
    assert f["field"] == "metadata.namespace" and len(rest) == 6  # the 5 other domains and prometheus (telemetry)


# -- formatting ---------------------------------------------------------------------------
def test_summary_and_format():
    spec = spec_of(mesh_health_check_route=False, mesh_gateway_extra_hosts=[])
    text = ma.summary(run(spec, checks=["routing"]))
    assert text.startswith("mesh analysis: 1 error(s), 0 warning(s)")
    assert "[error] Gateway istio-system/eco2-gateway spec.servers[0].hosts:" in text
    assert "Fix:" in text and "(alb-health-check)" in text
