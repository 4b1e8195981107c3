"""NetworkPolicy semantics (mesh_netpol), as a table of cases checked against the Kubernetes documentation."""
from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as np


def pol(ns, name="p", pod=None, types=None, ingress=None, egress=None):
    spec = {"podSelector": {} if pod is None else pod}
    if types is not None:
        spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def ml(**labels):
    return {"matchLabels": {k.replace("__", "-").replace("_", "."): v for k, v in labels.items()}}


def gw_peer(ns):
    return {"namespaceSelector": nsname(ns), "podSelector": ml(app="istio-ingressgateway")}


def nsname(name):
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


def pod(ns, ip=None, ports=None, **labels):
    out = {"namespace": ns, "labels": dict(labels)}
    if ip:
        out["ip"] = ip
    if ports:
        out["ports"] = ports
    return out


SCAN = pod("scan", ip="10.1.0.5", app="scan-api")
CHAR = pod("character", ip="10.1.1.7", app="character-api",
           ports=[{"name": "http", "containerPort": 8000, "protocol": "TCP"}])
CHAR_WORKER = pod("character", ip="10.1.1.8", app="character-worker")
AUTH = pod("auth", ip="10.1.2.9", app="auth-api")
ISTIOD = pod("istio-system", ip="10.1.3.2", app="istiod", istio="pilot")
GATEWAY = pod("istio-system", ip="10.1.3.3", app="istio-ingressgateway", istio="ingressgateway")
DNS = pod("kube-system", ip="10.1.4.4", **{"k8s-app": "kube-dns"})
EXTERNAL = {"namespace": None, "labels": {}, "ip": "203.0.113.9"}
NAMESPACES = {"scan": {"team": "a", "mesh": "on"}, "character": {"team": "b", "mesh": "on"},
              "auth": {"team": "a"}, "istio-system": {}, "kube-system": {}}

DENY_ALL_INGRESS_CHAR = pol("character", "deny-in")
DENY_ALL_EGRESS_SCAN = pol("scan", "deny-out", types=["Egress"])
EGRESS_SCAN_TO_CHAR = pol("scan", "to-char", types=["Egress"],
                          egress=[{"to": [{"namespaceSelector": nsname("character")}], "ports": [{"port": 8000}]}])
INGRESS_CHAR_FROM_SCAN = pol("character", "from-scan",
                             ingress=[{"from": [{"namespaceSelector": nsname("scan")}], "ports": [{"port": 8000}]}])

# (id, src, dst, port, protocol, policies, expected_allowed)
CASES = [
    ("no policies: everything allowed", SCAN, CHAR, 8000, "TCP", [], True),
    ("unselected pod is not isolated", SCAN, CHAR, 8000, "TCP", [pol("character", pod=ml(app="other"))], True),
    ("policy in another namespace does not isolate", SCAN, CHAR, 8000, "TCP", [pol("auth")], True),
    ("empty podSelector + no ingress rules = deny all ingress", SCAN, CHAR, 8000, "TCP", [DENY_ALL_INGRESS_CHAR], False),
    ("policyTypes default: ingress-only policy does not isolate egress", SCAN, CHAR, 8000, "TCP",
     [pol("scan", "in-only")], True),
    ("egress: [] without policyTypes is ingress-only (default)", SCAN, CHAR, 8000, "TCP",
     [pol("scan", "empty-egress", egress=[])], True),
    ("egress rules without policyTypes imply Egress", SCAN, AUTH, 8000, "TCP",
     [pol("scan", "eg", egress=[{"to": [{"namespaceSelector": nsname("character")}]}])], False),
    ("policyTypes [Egress] with no rules = deny all egress", SCAN, CHAR, 8000, "TCP", [DENY_ALL_EGRESS_SCAN], False),
    ("policyTypes [Egress] does not isolate ingress", CHAR, SCAN, 8000, "TCP", [DENY_ALL_EGRESS_SCAN], True),
    ("one side only (egress allowed, ingress denied) is denied", SCAN, CHAR, 8000, "TCP",
     [DENY_ALL_EGRESS_SCAN, EGRESS_SCAN_TO_CHAR, DENY_ALL_INGRESS_CHAR], False),
    ("both sides written", SCAN, CHAR, 8000, "TCP",
     [DENY_ALL_EGRESS_SCAN, EGRESS_SCAN_TO_CHAR, DENY_ALL_INGRESS_CHAR, INGRESS_CHAR_FROM_SCAN], True),
    ("policies are additive (deny-all + allow)", SCAN, CHAR, 8000, "TCP",
     [DENY_ALL_INGRESS_CHAR, INGRESS_CHAR_FROM_SCAN], True),
    ("wrong port denied", SCAN, CHAR, 8080, "TCP", [INGRESS_CHAR_FROM_SCAN], False),
    ("port without protocol means TCP: UDP denied", SCAN, CHAR, 8000, "UDP", [INGRESS_CHAR_FROM_SCAN], False),
    ("explicit UDP port", SCAN, DNS, 53, "UDP",
     [pol("scan", "dns", types=["Egress"], egress=[{"ports": [{"protocol": "UDP", "port": 53}]}])], True),
    ("protocol-only port entry matches every port of it", SCAN, CHAR, 31337, "TCP",
     [pol("character", "tcp", ingress=[{"ports": [{"protocol": "TCP"}]}])], True),
    ("protocol-only port entry: other protocol denied", SCAN, CHAR, 53, "UDP",
     [pol("character", "tcp", ingress=[{"ports": [{"protocol": "TCP"}]}])], False),
    ("endPort range includes the port", SCAN, CHAR, 8005, "TCP",
     [pol("character", "range", ingress=[{"ports": [{"port": 8000, "endPort": 8010}]}])], True),
    ("endPort range excludes the port", SCAN, CHAR, 8011, "TCP",
     [pol("character", "range", ingress=[{"ports": [{"port": 8000, "endPort": 8010}]}])], False),
    ("named port resolves on the destination pod", SCAN, CHAR, 8000, "TCP",
     [pol("character", "named", ingress=[{"ports": [{"port": "http"}]}])], True),
    ("named port missing on the destination pod", SCAN, CHAR_WORKER, 8000, "TCP",
     [pol("character", "named", ingress=[{"ports": [{"port": "http"}]}])], False),
    ("rule with ports but no from: any source", AUTH, CHAR, 8000, "TCP",
     [pol("character", "any-src", ingress=[{"ports": [{"port": 8000}]}])], True),
    ("empty rule {} allows everything", EXTERNAL, CHAR, 1, "TCP", [pol("character", "all", ingress=[{}])], True),
    ("from: [] (empty list) matches all sources", AUTH, CHAR, 8000, "TCP",
     [pol("character", "empty-from", ingress=[{"from": [], "ports": [{"port": 8000}]}])], True),
    ("podSelector-only peer: own namespace only", SCAN, CHAR, 8000, "TCP",
     [pol("character", "same-ns", ingress=[{"from": [{"podSelector": ml(app="scan-api")}]}])], False),
    ("podSelector-only peer matches a pod in the same namespace", CHAR_WORKER, CHAR, 8000, "TCP",
     [pol("character", "same-ns", ingress=[{"from": [{"podSelector": ml(app="character-worker")}]}])], True),
    ("podSelector {} peer: every pod of the own namespace", CHAR_WORKER, CHAR, 8000, "TCP",
     [pol("character", "ns-all", ingress=[{"from": [{"podSelector": {}}]}])], True),
    ("namespaceSelector {} peer: every pod of every namespace", AUTH, CHAR, 8000, "TCP",
     [pol("character", "cluster", ingress=[{"from": [{"namespaceSelector": {}}]}])], True),
    ("namespaceSelector {} does not match outside the cluster", EXTERNAL, CHAR, 8000, "TCP",
     [pol("character", "cluster", ingress=[{"from": [{"namespaceSelector": {}}]}])], False),
    ("ns AND pod in one peer: both match", GATEWAY, CHAR, 8000, "TCP",
     [pol("character", "gw", ingress=[{"from": [gw_peer("istio-system")]}])], True),
    ("ns AND pod in one peer: istiod (same ns, other labels) denied", ISTIOD, CHAR, 8000, "TCP",
     [pol("character", "gw", ingress=[{"from": [gw_peer("istio-system")]}])], False),
    ("two peers are OR: istiod matches the namespace-only peer", ISTIOD, CHAR, 8000, "TCP",
     [pol("character", "or", ingress=[{"from": [
         {"namespaceSelector": nsname("istio-system")}, {"podSelector": ml(app="istio-ingressgateway")}]}])], True),
    ("two peers are OR: pod-only peer looks in the policy namespace", GATEWAY, CHAR, 8000, "TCP",
     [pol("character", "or", ingress=[{"from": [
         {"namespaceSelector": nsname("auth")}, {"podSelector": ml(app="istio-ingressgateway")}]}])], False),
    ("namespace label selector (custom labels)", AUTH, CHAR, 8000, "TCP",
     [pol("character", "team", ingress=[{"from": [{"namespaceSelector": ml(team="a")}]}])], True),
    ("namespace label selector misses", AUTH, CHAR, 8000, "TCP",
     [pol("character", "team", ingress=[{"from": [{"namespaceSelector": ml(team="b")}]}])], False),
    ("matchExpressions In", SCAN, CHAR, 8000, "TCP",
     [pol("character", "in", ingress=[{"from": [{"namespaceSelector": {"matchExpressions": [
         {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["scan", "my"]}]}}]}])], True),
    ("matchExpressions NotIn (absent key matches)", AUTH, CHAR, 8000, "TCP",
     [pol("character", "notin", ingress=[{"from": [{"namespaceSelector": {"matchExpressions": [
         {"key": "mesh", "operator": "NotIn", "values": ["on"]}]}}]}])], True),
    ("matchExpressions Exists", SCAN, CHAR, 8000, "TCP",
     [pol("character", "exists", ingress=[{"from": [{"namespaceSelector": {"matchExpressions": [
         {"key": "mesh", "operator": "Exists"}]}}]}])], True),
    ("matchExpressions DoesNotExist", SCAN, CHAR, 8000, "TCP",
     [pol("character", "dne", ingress=[{"from": [{"namespaceSelector": {"matchExpressions": [
         {"key": "mesh", "operator": "DoesNotExist"}]}}]}])], False),
    ("ipBlock matches an external client", EXTERNAL, CHAR, 8000, "TCP",
     [pol("character", "ip", ingress=[{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}])], True),
    ("ipBlock except carves the client out", EXTERNAL, CHAR, 8000, "TCP",
     [pol("character", "ip", ingress=[{"from": [
         {"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.0/28"]}}]}])], False),
    ("egress ipBlock to an external address", SCAN, EXTERNAL, 443, "TCP",
     [pol("scan", "out", types=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                                    "ports": [{"port": 443}]}])], True),
    ("egress podSelector-only peer is the source namespace", SCAN, CHAR, 8000, "TCP",
     [pol("scan", "out", types=["Egress"], egress=[{"to": [{"podSelector": ml(app="character-api")}]}])], False),
    ("istiod egress on 15012 allowed, ingress side open", SCAN, ISTIOD, 15012, "TCP",
     [pol("scan", "istiod", types=["Egress"], egress=[{"to": [{"namespaceSelector": nsname("istio-system"),
                                                               "podSelector": ml(app="istiod")}],
                                                       "ports": [{"port": 15012}]}])], True),
    ("istiod egress on 15010 not listed", SCAN, ISTIOD, 15010, "TCP",
     [pol("scan", "istiod", types=["Egress"], egress=[{"to": [{"namespaceSelector": nsname("istio-system"),
                                                               "podSelector": ml(app="istiod")}],
                                                       "ports": [{"port": 15012}]}])], False),
    ("policyTypes [Ingress] ignores its egress section", SCAN, AUTH, 8000, "TCP",
     [pol("scan", "x", types=["Ingress"], egress=[{"to": [{"podSelector": ml(app="nothing")}]}])], True),
    ("second rule of the same policy allows", SCAN, CHAR, 9000, "TCP",
     [pol("character", "two", ingress=[{"ports": [{"port": 8000}]}, {"ports": [{"port": 9000}]}])], True),
]


@pytest.mark.parametrize("src,dst,port,protocol,policies,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_allowed_table(src, dst, port, protocol, policies, expected):
    assert np.allowed(src, dst, port, protocol, policies, NAMESPACES) is expected


def test_table_is_large():
    assert len(CASES) >= 30


def test_verdict_reports_sides_and_policies():
    v = np.evaluate(SCAN, CHAR, 8000, "TCP", [DENY_ALL_EGRESS_SCAN, EGRESS_SCAN_TO_CHAR, DENY_ALL_INGRESS_CHAR],
                    NAMESPACES)
    assert v.egress.allowed and v.egress.isolated
    assert v.egress.allowing == ["scan/to-char"]
    assert sorted(v.egress.selecting) == ["scan/deny-out", "scan/to-char"]
    assert not v.ingress.allowed and v.ingress.selecting == ["character/deny-in"]
    assert not v


def test_namespace_name_label_is_implied():
    assert np.namespace_labels("chat", {}) == {"kubernetes.io/metadata.name": "chat"}
    assert np.namespace_labels("scan", NAMESPACES)["team"] == "a"


def test_policy_types_defaulting():
    assert np.policy_types(pol("a")) == {"Ingress"}
    assert np.policy_types(pol("a", egress=[{}])) == {"Ingress", "Egress"}
    assert np.policy_types(pol("a", egress=[])) == {"Ingress"}
    assert np.policy_types(pol("a", types=["Egress"])) == {"Egress"}


def test_unknown_operator_raises():
    with pytest.raises(ValueError):
        np.selector_matches({"matchExpressions": [{"key": "a", "operator": "Gt"}]}, {"a": "1"})


def test_non_networkpolicy_objects_are_ignored():
    svc = {"kind": "Service", "metadata": {"name": "x", "namespace": "character"}, "spec": {}}
    assert np.allowed(SCAN, CHAR, 8000, "TCP", [svc], NAMESPACES)
