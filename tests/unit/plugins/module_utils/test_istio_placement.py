"""Placement predicates: nodeSelector, required affinity, taints/tolerations, Ready."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm, istio_placement as ip

from ...role_defaults import role_spec


def node(name, labels, taints=(), ready=True):
    return {"metadata": {"name": name, "labels": dict(labels)},
            "spec": {"taints": [dict(zip(("key", "value", "effect"), t)) for t in taints]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


MASTER_TAINTS = [("role", "control-plane", "NoSchedule"), ("node-role.kubernetes.io/control-plane", "", "NoSchedule")]
MASTER = node("k8s-master", {"role": "control-plane"}, MASTER_TAINTS)
GATEWAY = node("k8s-ingress-gateway", {"role": "ingress-gateway"}, [("role", "ingress-gateway", "NoSchedule")])
API = node("k8s-api-scan", {"role": "api", "domain": "scan"}, [("domain", "scan", "NoSchedule")])
NODES = [MASTER, GATEWAY, API]


def placement(chart):
    values = istio_helm.helm_values(role_spec(chart), chart)
    return ip.placement_from_values(chart, values)


def test_default_placements_fit_the_sample_topology():
    assert ip.check_placement("istiod", placement("istiod"), NODES)["candidates"] == ["k8s-master"]
    assert ip.check_placement("istio-ingressgateway", placement("gateway"), NODES)["candidates"] == ["k8s-ingress-gateway"]


def test_missing_gateway_label_is_named():
    unlabelled = node("k8s-ingress-gateway", {}, [("role", "ingress-gateway", "NoSchedule")])
    res = ip.check_placement("istio-ingressgateway", placement("gateway"), [MASTER, unlabelled, API])
    assert not res["ok"]
    assert "role=ingress-gateway" in res["message"]
    assert "k8s-ingress-gateway (missing label role=ingress-gateway)" in res["message"]
    assert "k8s-master" in res["message"] and "k8s-api-scan" in res["message"]


def test_untolerated_taint_is_named():
    p = placement("gateway")
    p["tolerations"] = []
    res = ip.check_placement("istio-ingressgateway", p, NODES)
    assert not res["ok"]
    assert "untolerated taint role=ingress-gateway:NoSchedule" in res["message"]


def test_not_ready_and_empty_cluster():
    down = node("k8s-ingress-gateway", {"role": "ingress-gateway"}, ready=False)
    assert "not Ready" in ip.check_placement("gw", placement("gateway"), [down])["message"]
    assert "no nodes" in ip.check_placement("gw", placement("gateway"), [])["message"]


def test_tolerations_semantics():
    taint = {"key": "role", "value": "x", "effect": "NoSchedule"}
    assert ip.tolerates({"key": "role", "operator": "Exists"}, taint)
    assert ip.tolerates({"operator": "Exists"}, taint)
    assert not ip.tolerates({"key": "role", "value": "y"}, taint)
    assert not ip.tolerates({"key": "role", "operator": "Exists", "effect": "NoExecute"}, taint)
    prefer = node("n", {}, [("a", "b", "PreferNoSchedule")])
    assert ip.untolerated_taints(prefer, []) == []


def test_required_affinity():
    terms = [{"matchExpressions": [{"key": "role", "operator": "In", "values": ["ingress-gateway"]},
                                   {"key": "zone", "operator": "Exists"}]},
             {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["network"]}]}]
    labels = {"role": "ingress-gateway", "tier": "network"}
    assert "zone" in ip.affinity_failure(terms, labels)
    assert ip.affinity_failure(terms, dict(labels, zone="a")) is None
    assert ip.affinity_failure([{"matchExpressions": [{"key": "phase", "operator": "Gt", "values": ["4"]}]}],
                               {"phase": "5"}) is None
    assert ip.affinity_failure([{"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}], {"x": "1"})
    values = istio_helm.gateway_values(role_spec("gateway", {"required_node_affinity": terms}))
    assert ip.placement_from_values("gateway", values)["affinity_terms"] == terms


def test_an_empty_node_selector_term_matches_no_node_like_the_scheduler():
    from ansible_collections.eco2.mesh.plugins.module_utils.istio_placement import affinity_failure
    assert affinity_failure([{}], {"role": "control-plane"}) == \
        "node affinity not satisfied (an empty nodeSelectorTerm (matches no node))"
    # ... while another term of the same list may still match (terms are ORed)
    assert affinity_failure([{}, {"matchExpressions": [{"key": "role", "operator": "Exists"}]}], {"role": "x"}) is None


def test_match_fields_select_by_node_name():
    from ansible_collections.eco2.mesh.plugins.module_utils.istio_placement import affinity_failure
    term = [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["k8s-master"]}]}]
    assert affinity_failure(term, {}, "k8s-master") is None
    assert "field metadata.name in (k8s-master)" in affinity_failure(term, {}, "k8s-api-auth")
