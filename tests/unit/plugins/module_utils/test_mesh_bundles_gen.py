"""Routing and NetworkPolicy bundle generation from the mesh spec."""
from __future__ import annotations

import json

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as np
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_routing as mr
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

from .test_mesh_spec import inventory_vars, minimal

OWN = {"app.kubernetes.io/managed-by": "eco2.mesh"}


def by_ref(objs):
    return {"%s %s/%s" % (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs}


def dev_spec():
    return ms.build_spec(inventory_vars("dev"))


def test_routing_bundle_for_dev():
    objs = by_ref(mr.routing_objects(dev_spec()))
    assert sorted(objs) == sorted([
        "Gateway istio-system/eco2-gateway", "Ingress istio-system/istio-ingress",
        "VirtualService istio-system/gateway-health-check",
        "VirtualService auth/auth-vs", "VirtualService my/my-vs", "VirtualService scan/scan-vs",
        "VirtualService character/character-vs", "VirtualService location/location-vs",
        "VirtualService image/image-vs", "VirtualService chat/chat-vs",
        "VirtualService argocd/argocd-vs", "VirtualService grafana/grafana-vs",
        "RequestAuthentication istio-system/eco2-jwt", "AuthorizationPolicy istio-system/eco2-ext-authz",
        "EnvoyFilter istio-system/eco2-cookie-to-header"])
    for obj in objs.values():
        assert obj["metadata"]["labels"] == dict(OWN, **{"mesh.eco2.io/bundle": "routing"})
    gw = objs["Gateway istio-system/eco2-gateway"]
    assert gw["apiVersion"] == "networking.istio.io/v1"
    assert gw["spec"]["selector"] == {"istio": "ingressgateway"}
    assert gw["spec"]["servers"] == [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                                      "hosts": ["api.dev.growbin.app", "argocd.dev.growbin.app",
                                                "grafana.dev.growbin.app", "*"]}]


def test_bridge_ingress():
    ing = by_ref(mr.routing_objects(dev_spec()))["Ingress istio-system/istio-ingress"]
    ann = ing["metadata"]["annotations"]
    assert ann == {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "instance",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/certificate-arn":
            "arn:aws:acm:ap-northeast-2:123456789012:certificate/00000000-0000-4000-8000-00000000dev0",
        "alb.ingress.kubernetes.io/group.name": "ecoeco-main",
        "alb.ingress.kubernetes.io/group.order": "1",
        "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
        "alb.ingress.kubernetes.io/healthcheck-path": "/healthz/ready",
        "alb.ingress.kubernetes.io/success-codes": "200",
        "external-dns.alpha.kubernetes.io/hostname": "api.dev.growbin.app,argocd.dev.growbin.app,grafana.dev.growbin.app",
    }
    assert json.loads(ann["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTPS": 443}]
    assert ing["spec"] == {"ingressClassName": "alb", "rules": [{"http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "istio-ingressgateway", "port": {"number": 80}}}}]}}]}


def test_ingress_annotation_options():
    spec = ms.build_spec(minimal(mesh_external_dns=False, mesh_alb={
        "healthcheck_port": 32021, "extra_annotations": {"alb.ingress.kubernetes.io/scheme": None, "x/y": 1}}))
    ann = mr.ingress_annotations(spec)
    assert "external-dns.alpha.kubernetes.io/hostname" not in ann
    assert "alb.ingress.kubernetes.io/scheme" not in ann
    assert ann["x/y"] == "1"
    assert ann["alb.ingress.kubernetes.io/healthcheck-port"] == "32021"


def test_health_check_virtual_service():
    vs = by_ref(mr.routing_objects(dev_spec()))["VirtualService istio-system/gateway-health-check"]
    assert vs["spec"]["hosts"] == ["*"]
    assert vs["spec"]["gateways"] == ["istio-system/eco2-gateway"]
    route = vs["spec"]["http"][0]
    assert route["match"][0] == {"uri": {"exact": "/healthz/ready"}}
    assert route["match"][1] == {"uri": {"exact": "/"}, "headers": {"user-agent": {"regex": "ELB-HealthChecker/.*"}}}
    assert route["directResponse"] == {"status": 200, "body": {"string": "Healthy"}}
    spec = ms.build_spec(minimal(mesh_health_check_route=False))
    assert "VirtualService istio-system/gateway-health-check" not in by_ref(mr.routing_objects(spec))


def test_domain_and_platform_virtual_services():
    objs = by_ref(mr.routing_objects(dev_spec()))
    scan = objs["VirtualService scan/scan-vs"]["spec"]
    assert scan == {"hosts": ["api.dev.growbin.app"], "gateways": ["istio-system/eco2-gateway"], "http": [{
        "name": "scan-0", "match": [{"uri": {"prefix": "/api/v1/scan"}}],
        "route": [{"destination": {"host": "scan-api.scan.svc.cluster.local", "port": {"number": 8000}}}]}]}
    argocd = objs["VirtualService argocd/argocd-vs"]["spec"]
    assert argocd["hosts"] == ["argocd.dev.growbin.app"]
    want = {"host": "argocd-server.argocd.svc.cluster.local", "port": {"number": 80}}
    assert argocd["http"][0]["route"][0]["destination"] == want


def test_longest_prefix_first():
    spec = ms.build_spec(minimal(mesh_domains=[{"name": "auth", "prefixes": ["/api/v1/auth"],
                                                "routes": [{"prefix": "/api/v1/auth/internal", "port": 9000}]}]))
    vs = mr.domain_virtual_service(spec, spec["domains"][0])
    assert [h["match"][0]["uri"]["prefix"] for h in vs["spec"]["http"]] == ["/api/v1/auth/internal", "/api/v1/auth"]


def test_adding_a_domain_is_one_entry():
    v = inventory_vars("dev")
    before = by_ref(mr.routing_objects(ms.build_spec(v)) + mp.network_policy_objects(ms.build_spec(v)))
    v["mesh_domains"] = v["mesh_domains"] + [{"name": "users"}]
    after = by_ref(mr.routing_objects(ms.build_spec(v)) + mp.network_policy_objects(ms.build_spec(v)))
    assert sorted(set(after) - set(before)) == [
        "NetworkPolicy users/mesh-allow-dns-egress", "NetworkPolicy users/mesh-allow-gateway-ingress",
        "NetworkPolicy users/mesh-allow-istiod-egress", "NetworkPolicy users/mesh-allow-same-namespace",
        "NetworkPolicy users/mesh-allow-undeclared-egress", "NetworkPolicy users/mesh-allow-undeclared-ingress",
        "NetworkPolicy users/mesh-peer-egress-external-https", "NetworkPolicy users/mesh-peer-egress-postgresql",
        "NetworkPolicy users/mesh-peer-egress-rabbitmq", "NetworkPolicy users/mesh-peer-egress-redis",
        "NetworkPolicy users/mesh-peer-ingress-monitoring",
        "NetworkPolicy users/mesh-telemetry-prometheus-sidecars-ingress-15020",
        "NetworkPolicy users/mesh-telemetry-prometheus-sidecars-ingress-15090",
        "NetworkPolicy users/mesh-telemetry-tracing-egress-9411", "VirtualService users/users-vs"]


def test_network_policy_bundle_for_dev():
    objs = by_ref(mp.network_policy_objects(dev_spec()))
    for ns in ("auth", "my", "scan", "character", "location", "image", "chat"):
        for name in ("mesh-allow-istiod-egress", "mesh-allow-dns-egress", "mesh-allow-gateway-ingress",
                     "mesh-allow-same-namespace", "mesh-allow-undeclared-egress", "mesh-allow-undeclared-ingress",
                     "mesh-peer-egress-postgresql", "mesh-peer-egress-redis", "mesh-peer-egress-rabbitmq",
                     "mesh-peer-egress-external-https", "mesh-peer-ingress-monitoring"):
            assert "NetworkPolicy %s/%s" % (ns, name) in objs
    assert "NetworkPolicy scan/mesh-flow-egress-to-character-8000-tcp" in objs
    assert "NetworkPolicy character/mesh-flow-ingress-from-scan-8000-tcp" in objs
    # mesh_auth: both sides of gateway -> ext_authz and istiod -> JWKS, and istio-system kept open otherwise
    for ref in ("istio-system/mesh-auth-ext-authz-egress-9001", "auth/mesh-auth-ext-authz-ingress-9001",
                "istio-system/mesh-auth-jwks-egress-8000", "auth/mesh-auth-jwks-ingress-8000",
                "istio-system/mesh-allow-undeclared-egress", "istio-system/mesh-allow-undeclared-ingress"):
        assert "NetworkPolicy " + ref in objs
    assert objs["NetworkPolicy istio-system/mesh-auth-ext-authz-egress-9001"]["spec"] == {
        "podSelector": {"matchLabels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}},
        "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "auth"}}}],
            "ports": [{"protocol": "TCP", "port": 9001}]}]}
    assert objs["NetworkPolicy auth/mesh-auth-jwks-ingress-8000"]["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}},
                      "podSelector": {"matchLabels": {"app": "istiod"}}}],
            "ports": [{"protocol": "TCP", "port": 8000}]}]}
    # mesh_telemetry: both sides of its flows, and the prometheus namespace kept open otherwise
    telemetry = [r for r in objs if "/mesh-telemetry-" in r]
    assert len(telemetry) == 7 * 3 + 10 + 4
    assert len(objs) == 7 * 11 + 2 + 4 + 2 + len(telemetry) + 2
    assert objs["NetworkPolicy auth/mesh-allow-undeclared-egress"]["spec"] == {
        "podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}
    assert objs["NetworkPolicy auth/mesh-peer-egress-external-https"]["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    assert objs["NetworkPolicy auth/mesh-peer-ingress-monitoring"]["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prometheus"}}}]
    assert not any(n.endswith("mesh-default-deny") for n in objs)
    for obj in objs.values():
        assert obj["metadata"]["labels"] == dict(OWN, **{"mesh.eco2.io/bundle": "network-policies"})
    istiod = objs["NetworkPolicy chat/mesh-allow-istiod-egress"]["spec"]
    assert istiod == {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}},
                "podSelector": {"matchLabels": {"app": "istiod"}}}],
        "ports": [{"protocol": "TCP", "port": p} for p in (15010, 15012, 15014, 15017, 443)]}]}
    dns = objs["NetworkPolicy chat/mesh-allow-dns-egress"]["spec"]["egress"][0]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    gw = objs["NetworkPolicy chat/mesh-allow-gateway-ingress"]["spec"]
    assert gw["ingress"][0]["from"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}},
        "podSelector": {"matchLabels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}}}]
    assert gw["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]


def test_generated_policies_allow_what_the_mesh_needs():
    spec = ms.build_spec(dict(inventory_vars("dev"), mesh_network_policy_default_deny=True))
    pols = mp.network_policy_objects(spec)
    assert "NetworkPolicy scan/mesh-default-deny" in by_ref(pols)
    scan = {"namespace": "scan", "labels": {"app": "scan-api"}}
    char = {"namespace": "character", "labels": {"app": "character-api"}}
    auth = {"namespace": "auth", "labels": {"app": "auth-api"}}
    istiod = {"namespace": "istio-system", "labels": {"app": "istiod", "istio": "pilot"}}
    dns = {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}
    gw = {"namespace": "istio-system", "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}}
    for port in (15010, 15012, 15014, 15017, 443):
        assert np.allowed(scan, istiod, port, "TCP", pols)
    assert np.allowed(scan, dns, 53, "UDP", pols) and np.allowed(scan, dns, 53, "TCP", pols)
    assert np.allowed(gw, char, 8000, "TCP", pols)
    assert np.allowed(scan, char, 8000, "TCP", pols)
    assert not np.allowed(char, scan, 8000, "TCP", pols)  # the flow is one-way
    assert not np.allowed(auth, char, 8000, "TCP", pols)  # not declared
    assert not np.allowed(gw, char, 9000, "TCP", pols)


def test_pod_labels_narrow_policies_and_unmeshed_domains_get_none():
    spec = ms.build_spec(minimal(mesh_domains=[{"name": "auth", "pod_labels": {"app": "auth-api"}},
                                               {"name": "legacy", "meshed": False}, {"name": "scan"}],
                                 mesh_flows=[{"from": "scan", "to": "auth"}]))
    objs = by_ref(mp.network_policy_objects(spec))
    assert not any("legacy/" in n for n in objs)
    assert objs["NetworkPolicy auth/mesh-allow-gateway-ingress"]["spec"]["podSelector"] == \
        {"matchLabels": {"app": "auth-api"}}
    assert objs["NetworkPolicy scan/mesh-flow-egress-to-auth-8000-tcp"]["spec"]["egress"][0]["to"][0]["podSelector"] == \
        {"matchLabels": {"app": "auth-api"}}


def test_two_domains_sharing_a_namespace():
    spec = ms.build_spec(minimal(mesh_domains=[{"name": "chat"}, {"name": "chat-ws", "namespace": "chat", "port": 8001}]))
    objs = by_ref(mp.network_policy_objects(spec))
    ports = objs["NetworkPolicy chat/mesh-allow-gateway-ingress"]["spec"]["ingress"][0]["ports"]
    assert [p["port"] for p in ports] == [8000, 8001]
