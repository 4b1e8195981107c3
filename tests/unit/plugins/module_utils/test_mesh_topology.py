"""Topology picture: spec + placement + node profiles -> graph, Mermaid, Graphviz text (pure part)."""
from __future__ import annotations

import copy

import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm

from ...role_defaults import role_spec
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_topology as mt

from .test_mesh_spec import REPO, inventory_vars


def dev_profiles():
    out = {}
    for group, hosts in (("masters", ["k8s-master"]), ("ingress_gateway", ["k8s-ingress-gateway"]),
                         ("api_nodes", ["k8s-api-scan"])):
        prof = yaml.safe_load((REPO / "inventory/dev/group_vars" / ("%s.yml" % group)).read_text()) or {}
        for host in hosts:
            out[host] = {"labels": prof.get("node_profile_labels", {}), "taints": prof.get("node_profile_taints", [])}
    return out


def graph(variables=None, profiles=None):
    spec = ms.build_spec(variables or inventory_vars("dev"))
    return mt.build(spec, istio_helm.helm_values(role_spec("istiod"), "istiod"),
                    istio_helm.helm_values(role_spec("gateway"), "gateway"),
                    dev_profiles() if profiles is None else profiles)


def labels(g):
    nodes = list(g["nodes"]) + [n for c in g["clusters"] for n in c["nodes"]]
    return {n["id"]: n["label"] for n in nodes}


def test_placement_comes_from_the_values_and_the_node_profiles():
    lab = labels(graph())
    assert "node: k8s-ingress-gateway" in lab["gateway"]
    assert "node: k8s-master" in lab["istiod"]
    lab = labels(graph(profiles={}))
    assert "node: no inventory node matches" in lab["gateway"]


def test_every_domain_route_and_flow_is_drawn():
    g = graph()
    ids = labels(g)
    edges = {(e["src"], e["dst"]): e for e in g["edges"]}
    spec = ms.build_spec(inventory_vars("dev"))
    clusters = {c["namespace"]: c for c in g["clusters"]}
    for d in spec["domains"]:
        vs = mt._id("vs", d["namespace"], "%s-vs" % d["name"])
        svc = mt._id("svc", d["namespace"], d["service"])
        assert ("gateway", vs) in edges and edges[(vs, svc)]["label"] == d["routes"][0]["prefix"]
        assert "hosts api.dev.growbin.app" in ids[vs]
        assert clusters[d["namespace"]]["label"] == "namespace %s (meshed)" % d["namespace"]
        assert ("istiod", mt._id("sidecars", d["namespace"])) in edges
    flow = edges[(mt._id("svc", "scan", "scan-api"), mt._id("svc", "character", "character-api"))]
    assert flow["label"] == "flow scan → character TCP 8000" and flow["style"] == "bold"
    assert clusters["argocd"]["label"] == "namespace argocd"  # a platform namespace is not meshed
    mermaid = mt.to_mermaid(g, "dev")
    assert mermaid.startswith("---\ntitle: dev\n---\nflowchart LR\n")
    assert "svc_scan_scan_api ==>|flow scan → character TCP 8000| svc_character_character_api" in mermaid
    dot = mt.to_dot(g, "dev")
    assert 'svc_scan_scan_api -> svc_character_character_api [label="flow scan → character TCP 8000", ' in dot


def test_one_domain_changes_only_its_part_of_the_picture():
    variables = inventory_vars("dev")
    changed = copy.deepcopy(variables)
    changed["mesh_domains"] = [dict(d, port=8080) if d["name"] == "location" else d for d in changed["mesh_domains"]]
    before, after = mt.to_mermaid(graph(variables)).splitlines(), mt.to_mermaid(graph(changed)).splitlines()
    differ = list(set(before) ^ set(after))
    assert differ and all("location" in line for line in differ), differ


def test_unmeshed_domain_has_no_sidecars():
    variables = inventory_vars("dev")
    variables["mesh_domains"] = [dict(d, meshed=False) if d["name"] == "chat" else d for d in variables["mesh_domains"]]
    g = graph(variables)
    assert mt._id("sidecars", "chat") not in labels(g)
    assert {c["namespace"]: c["label"] for c in g["clusters"]}["chat"] == "namespace chat"
