"""mTLS stages and telemetry: the spec sections, their objects, the flows and the STRICT blockers (Eco² values)."""
from __future__ import annotations

import copy
import re

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm as ih
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_analysis as ma
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_mtls as mm
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_telemetry as mt
from ansible_collections.eco2.mesh.plugins.module_utils import summary

from ...role_defaults import role_spec
from .test_mesh_spec import errors_of, inventory_vars, minimal

OURS = {"app.kubernetes.io/managed-by": "eco2.mesh", "mesh.eco2.io/bundle": "mtls-telemetry"}
PROMETHEUS = {"namespace": "prometheus", "labels": {"app.kubernetes.io/name": "prometheus"}}
JAEGER = {"namespace": "istio-system", "labels": {"app.kubernetes.io/name": "jaeger"}}
KIALI = {"namespace": "istio-system", "labels": {"app.kubernetes.io/name": "kiali"}}
ISTIOD = {"namespace": "istio-system", "labels": {"app": "istiod"}}
GATEWAY = {"namespace": "istio-system", "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}}
SCAN = {"namespace": "scan", "labels": {"app": "scan-api"}}


def dev_spec(**over):
    v = inventory_vars("dev")
    v.update(over)
    return ms.build_spec(v)


def pod(namespace, name, containers=("api", "istio-proxy"), ready=True, native=False):
    spec = {"containers": [{"name": c} for c in containers if not (native and c == "istio-proxy")]}
    statuses = [{"name": c, "ready": ready} for c in containers if not (native and c == "istio-proxy")]
    status = {"phase": "Running", "containerStatuses": statuses}
    if native:
        spec["initContainers"] = [{"name": "istio-proxy", "restartPolicy": "Always"}]
        status["initContainerStatuses"] = [{"name": "istio-proxy", "ready": ready}]
    return {"metadata": {"namespace": namespace, "name": name}, "spec": spec, "status": status}


# -- spec ------------------------------------------------------------------------------
def test_eco2_starts_permissive_with_one_mesh_wide_peer_authentication():
    spec = dev_spec()
    assert mm.peer_authentications(spec) == [{
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system", "labels": OURS},
        "spec": {"mtls": {"mode": "PERMISSIVE"}}}]
    assert mm.summary_line(spec) == ("mTLS: mesh-wide PERMISSIVE (PeerAuthentication istio-system/default); "
                                     "exceptions: none")


def test_namespace_and_port_exceptions():
    spec = dev_spec(mesh_mtls_mode="STRICT", mesh_mtls={
        "namespaces": [{"namespace": "chat", "mode": "permissive"}],
        "ports": [{"namespace": "scan", "ports": [9100, 9101], "mode": "disable"},
                  {"namespace": "scan", "pod_labels": {"app": "scan-worker"}, "ports": [9100], "mode": "permissive"}]})
    objs = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"] for o in mm.peer_authentications(spec)}
    assert objs == {
        ("istio-system", "default"): {"mtls": {"mode": "STRICT"}},
        ("chat", "default"): {"mtls": {"mode": "PERMISSIVE"}},
        # portLevelMtls needs a workload selector: the domain's pods by default
        ("scan", "mesh-mtls-ports-0"): {"selector": {"matchLabels": {"app": "scan-api"}},
                                        "portLevelMtls": {"9100": {"mode": "DISABLE"}, "9101": {"mode": "DISABLE"}}},
        ("scan", "mesh-mtls-ports-1"): {"selector": {"matchLabels": {"app": "scan-worker"}},
                                        "portLevelMtls": {"9100": {"mode": "PERMISSIVE"}}}}
    line = mm.summary_line(spec)
    assert line.startswith("mTLS: mesh-wide STRICT (PeerAuthentication istio-system/default); exceptions: ")
    assert "chat PERMISSIVE" in line and "scan/app=scan-api port 9100,9101 DISABLE" in line


def test_bad_input_names_the_variable_path_and_the_allowed_values():
    errors = errors_of(minimal(
        mesh_mtls_mode="strikt",
        mesh_mtls={"namespaces": [{"namespace": "chat", "mode": "off"}, {"namespace": "istio-system", "mode": "strict"}],
                   "ports": [{"namespace": "legacy", "ports": [99999]}], "nmae": "x"},
        mesh_telemetry={"tracing": {"type": "jaeger", "service": "jaeger", "sampling": 150,
                                    "custom_tags": {"request.path": {"cookie": "x"}}},
                        "prometheus": {"service": "prometheus-operated.prometheus", "scrape_interval": 15}}))
    assert "mesh_mtls_mode: 'strikt' is not one of permissive, strict" in errors
    assert "mesh_mtls.nmae: unknown key; allowed keys: name, namespaces, ports" in errors
    assert "mesh_mtls.namespaces[0].mode: 'off' is not one of permissive, strict, disable" in errors
    assert "mesh_mtls.namespaces[1].namespace: 'istio-system' is the root namespace: its mode is mesh_mtls_mode" in errors
    assert any(e.startswith("mesh_mtls.ports[0].pod_labels: is required outside the domains' namespaces") for e in errors)
    assert "mesh_mtls.ports[0].ports[0]: 99999 is not a port number (1-65535)" in errors
    assert "mesh_mtls.ports[0].mode: None is not one of permissive, strict, disable" in errors
    assert "mesh_telemetry.tracing.type: 'jaeger' is not one of zipkin, opentelemetry" in errors
    assert any(e.startswith("mesh_telemetry.tracing.service: 'jaeger' is not a valid in-cluster Service host") for e in errors)
    assert "mesh_telemetry.tracing.sampling: 150 is not a percentage between 0 and 100" in errors
    assert any(e.startswith("mesh_telemetry.tracing.custom_tags.request.path: must be one of") for e in errors)
    assert "mesh_telemetry.prometheus.scrape_interval: 15 is not a duration like 15s, 1m" in errors


def test_switches_remove_the_sections():
    spec = dev_spec(mesh_mtls_enabled=False, mesh_telemetry_enabled=False)
    assert spec["mtls"] is None and spec["telemetry"] is None
    assert mm.peer_authentications(spec) == [] and mt.telemetry_objects(spec) == [] and mt.telemetry_flows(spec) == []
    assert not [o for o in mp.network_policy_objects(spec) if "telemetry" in o["metadata"]["name"]]


def test_local_inventory_manages_mtls_but_not_telemetry():
    spec = ms.build_spec(inventory_vars("local"))
    assert spec["mtls"]["mode"] == "permissive" and spec["telemetry"] is None


# -- telemetry objects ---------------------------------------------------------------------
def test_eco2_mesh_default_telemetry():
    (tel,) = [o for o in mt.telemetry_objects(dev_spec()) if o["kind"] == "Telemetry"]
    assert tel == {"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
                   "metadata": {"name": "mesh-default", "namespace": "istio-system", "labels": OURS},
                   "spec": {"accessLogging": [{"providers": [{"name": "envoy"}]}],
                            "tracing": [{"providers": [{"name": "jaeger"}], "randomSamplingPercentage": 50,
                                         "customTags": {"request.path": {"header": {"name": ":path"}}}}]}}


def test_monitors_only_when_the_crds_exist():
    spec = dev_spec()
    kinds = [o["kind"] for o in mt.telemetry_objects(spec)]
    assert kinds == ["Telemetry", "PodMonitor", "ServiceMonitor"]
    assert [o["kind"] for o in mt.telemetry_objects(spec, monitors=False)] == ["Telemetry"]
    pm, sm = mt.telemetry_objects(spec)[1:]
    assert pm["spec"]["namespaceSelector"] == {"matchNames": ["auth", "my", "scan", "character", "location", "image",
                                                              "chat"]}
    endpoint = pm["spec"]["podMetricsEndpoints"][0]
    assert endpoint["path"] == "/stats/prometheus"
    assert {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_ip"], "regex": "(.+)",
            "replacement": "$1:15020", "targetLabel": "__address__"} in endpoint["relabelings"]
    assert sm["spec"] == {"selector": {"matchLabels": {"app": "istiod"}},
                          "namespaceSelector": {"matchNames": ["istio-system"]},
                          "endpoints": [{"port": "http-monitoring", "interval": "15s"}]}


def test_tracing_provider_joins_istiod_values_beside_the_ext_authz_provider():
    v = inventory_vars("dev")
    providers = mesh_auth.validate_provider(v["mesh_auth"]) + mt.validate_provider(v["mesh_telemetry"])
    assert providers[1] == {"name": "jaeger", "zipkin": {"service": "jaeger-collector.istio-system.svc.cluster.local",
                                                         "port": 9411}}
    values = ih.istiod_values(role_spec("istiod", {
        "extension_providers": providers, "mesh_config": {"extensionProviders": [{"name": "jaeger", "zipkin": {}}]}}))
    assert values["meshConfig"]["extensionProviders"] == providers
    assert mt.validate_provider(v["mesh_telemetry"], False) == [] and mt.validate_provider(None) == []


# -- flows -------------------------------------------------------------------------------------
@pytest.mark.parametrize("src,dst,port", [
    (PROMETHEUS, SCAN, 15020), (PROMETHEUS, SCAN, 15090), (PROMETHEUS, GATEWAY, 15020), (PROMETHEUS, ISTIOD, 15014),
    (SCAN, JAEGER, 9411), (GATEWAY, JAEGER, 9411), (KIALI, PROMETHEUS, 9090), (KIALI, ISTIOD, 15014),
    (KIALI, JAEGER, 16686)])
def test_the_bundle_opens_both_sides_of_every_telemetry_flow_even_with_default_deny(src, dst, port):
    spec = dev_spec(mesh_network_policy_default_deny=True)
    policies = mp.network_policy_objects(spec)
    verdict = netpol.evaluate(src, dst, port, "TCP", policies)
    assert verdict.egress.selecting and verdict.ingress.selecting  # both sides isolated ...
    assert verdict.allowed  # ... and both written
    names = {"%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies}
    assert {"prometheus/mesh-telemetry-prometheus-sidecars-egress-15020",
            "scan/mesh-telemetry-prometheus-sidecars-ingress-15020",
            "istio-system/mesh-telemetry-tracing-ingress-9411"} <= names


def denied(findings):
    """(from name, to name, port) of every newly-denied finding."""
    out = set()
    for f in findings:
        m = re.match(r"applying the bundle would deny \S+ \((.+?)\) -> \S+ \((.+?)\) on TCP ([\d, ]+), which", f["message"])
        if f["check"] == "newly-denied" and m:
            out |= {(m.group(1), m.group(2), int(p)) for p in m.group(3).split(", ")}
    return out


FLOWS = [("telemetry prometheus-sidecars", "scan", 15020), ("telemetry prometheus-sidecars", "auth", 15090),
         ("scan", "telemetry tracing", 9411)]


def test_reachability_names_a_telemetry_flow_the_policies_would_cut():
    peers = [p for p in inventory_vars("dev")["mesh_peers"] if p["name"] != "monitoring"]  # it also opens 15020/15090
    spec = dev_spec(mesh_network_policy_default_deny=True, mesh_peers=peers)
    full = mp.network_policy_objects(spec)
    context = {"spec": spec, "checks": ["network_policies"], "gateway_pod_labels": [spec["gateway"]["pod_labels"]]}
    findings = ma.analyze(full, context)
    assert not set(FLOWS) & denied(findings)
    assert not [f for f in findings if f["check"] == "telemetry-flow-blocked"]
    cut = [p for p in full if not p["metadata"]["name"].startswith("mesh-telemetry-")]
    findings = ma.analyze(cut, context)
    assert set(FLOWS) <= denied(findings)
    blocked = [f["message"] for f in findings if f["check"] == "telemetry-flow-blocked"]
    assert any(m.startswith("prometheus-sidecars: prometheus/app.kubernetes.io/name=prometheus -> scan/app=scan-api on "
                            "TCP 15020 is blocked by the NetworkPolicies after this apply: ingress into scan") for m in blocked)


# -- STRICT blockers ---------------------------------------------------------------------------
def strict_findings(spec, pods):
    context = {"spec": spec, "checks": ["mtls_telemetry"], "pods": pods}
    return [f for f in ma.analyze(mm.peer_authentications(spec), context) if f["check"] == "mtls-strict-blocker"]


def test_permissive_has_no_blocker():
    assert strict_findings(dev_spec(), [pod("scan", "scan-api-1", ("api",))]) == []


def test_strict_names_each_pod_without_a_ready_sidecar():
    v = minimal(mesh_mtls_mode="strict")
    pods = [pod("scan", "scan-api-1"), pod("scan", "scan-api-2", ("api",)), pod("auth", "auth-api-1", ready=False),
            pod("character", "character-api-1", native=True), pod("default", "other", ("web",))]
    found = strict_findings(ms.build_spec(v), pods)
    assert [(f["object"], f["field"]) for f in found] == [
        ("Pod scan/scan-api-2", "spec.containers"), ("Pod auth/auth-api-1", "spec.containers")]
    assert "runs no ready istio-proxy" in found[0]["message"] and "sidecar_injection" in found[0]["fix"]
    # a permissive namespace is no blocker
    v["mesh_mtls"] = {"namespaces": [{"namespace": "scan", "mode": "permissive"},
                                     {"namespace": "auth", "mode": "permissive"}]}
    assert strict_findings(ms.build_spec(v), pods) == []


def test_strict_names_an_unmeshed_caller_and_its_flow():
    domains = [{"name": "auth"}, {"name": "scan"}, {"name": "legacy", "meshed": False}]
    v = minimal(mesh_domains=domains, mesh_mtls_mode="strict",
                mesh_flows=[{"from": "legacy", "to": "scan", "port": 8000}, {"from": "auth", "to": "scan", "port": 8000}])
    (f,) = strict_findings(ms.build_spec(v), [])
    assert f["object"] == "PeerAuthentication istio-system/default" and f["field"] == "spec.mtls.mode"
    assert f["message"] == ("caller legacy (any pod): mesh_flows legacy -> scan: legacy (any pod, no sidecar) -> scan "
                            "port 8000, which is STRICT: plaintext is refused.")
    v["mesh_mtls"] = {"ports": [{"namespace": "scan", "ports": [8000], "mode": "permissive"}]}
    assert strict_findings(ms.build_spec(v), []) == []


def test_eco2_strict_is_blocked_by_the_app_port_scrape_and_the_jwks_fetch():
    found = strict_findings(dev_spec(mesh_mtls_mode="strict"), [])
    messages = [f["message"] for f in found]
    assert any("mesh_peers monitoring -> scan: prometheus (any pod, no sidecar) -> scan port 8000" in m for m in messages)
    assert any("jwks: istio-system (app=istiod, no sidecar) -> auth port 8000" in m for m in messages)
    # the scrapes of the sidecars' own ports and the traces are not blockers
    assert not any("15020" in m or "15090" in m or "9411" in m for m in messages)


# -- summary of what is in force -------------------------------------------------------------
def test_summary_of_the_live_peer_authentications():
    spec = dev_spec(mesh_mtls_mode="strict", mesh_mtls={
        "namespaces": [{"namespace": "chat", "mode": "permissive"}],
        "ports": [{"namespace": "scan", "ports": [9100], "mode": "permissive"}]})
    line = summary.mtls(copy.deepcopy(mm.peer_authentications(spec)), "istio-system")
    assert line == ("mTLS: mesh-wide STRICT (istio-system/default); exceptions: chat/default PERMISSIVE; "
                    "scan/mesh-mtls-ports app=scan-api port 9100 PERMISSIVE")
    assert summary.mtls([], "istio-system").startswith("mTLS: mesh-wide PERMISSIVE (Istio's default")
