# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh topology as a picture: spec + Istio placement + node profiles -> Mermaid and Graphviz text (pure).

ALB -> bridge Ingress -> gateway (and the node it is placed on) -> VirtualServices (host + prefix)
-> Services per namespace; istiod and its node; xDS to every meshed namespace's sidecars;
the spec's cross-domain flows. The routing objects come from mesh_routing (what is applied),
the nodes from the Helm values' placement matched against the inventory's node profiles.
"""
from __future__ import annotations

import re

from ansible_collections.eco2.mesh.plugins.module_utils import istio_placement, mesh_routing

INJECTION_LABEL = "istio-injection=enabled"


def node_objects(profiles):
    """Inventory node profiles {host: {labels, taints}} -> Node dicts as istio_placement reads them."""
    out = []
    for host in sorted(profiles or {}):
        prof = profiles[host] or {}
        out.append({"metadata": {"name": host, "labels": dict(prof.get("labels") or {})},
                    "spec": {"taints": list(prof.get("taints") or [])},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    return out


def placed_on(chart, values, profiles):
    """Inventory hosts the chart's pods can be scheduled on (empty list: none, or no node profiles)."""
    placement = istio_placement.placement_from_values(chart, values or {})
    return istio_placement.check_placement(chart, placement, node_objects(profiles))["candidates"]


def _id(*parts):
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(str(p) for p in parts))


def _hosts_text(nodes):
    return "node: %s" % (", ".join(nodes) if nodes else "no inventory node matches")


def _listen(alb):
    return ", ".join("%s %s" % (proto, port) for item in alb.get("listen_ports") or [] for proto, port in item.items())


def build(spec, istiod_values=None, gateway_values=None, profiles=None):
    """The graph: {"clusters": [{id, label, nodes: [...]}], "nodes": [...], "edges": [...]}.

    A node is {id, label (lines)}; an edge {src, dst, label, style: solid|dashed|bold}.
    """
    gw = spec["gateway"]
    alb = spec["alb"]
    routing = mesh_routing.routing_objects(spec)
    ingress = next(o for o in routing if o["kind"] == "Ingress")
    services = {}  # (namespace, service) -> {port}
    clusters = {}

    def cluster(namespace):
        if namespace not in clusters:
            clusters[namespace] = {"id": _id("ns", namespace), "namespace": namespace, "nodes": []}
        return clusters[namespace]

    def service(namespace, name, port):
        key = (namespace, name)
        if key not in services:
            services[key] = _id("svc", namespace, name)
            cluster(namespace)["nodes"].append({"id": services[key], "label": ["Service %s" % name, "port %s" % port]})
        return services[key]

    top = [{"id": "alb", "label": ["AWS ALB (%s)" % alb["scheme"], _listen(alb), "group %s" % alb["group_name"]]}]
    edges = [{"src": "alb", "dst": "ingress", "label": "target-type %s" % alb["target_type"], "style": "solid"}]
    cluster(ingress["metadata"]["namespace"])["nodes"].append(
        {"id": "ingress", "label": ["Ingress %s" % ingress["metadata"]["name"], "class alb (bridge)"]})
    gw_nodes = placed_on("gateway", gateway_values, profiles)
    cluster(gw["namespace"])["nodes"].append(
        {"id": "gateway", "label": ["Gateway %s" % gw["name"], "pods %s" % gw["release"], _hosts_text(gw_nodes)]})
    edges.append({"src": "ingress", "dst": "gateway", "label": "Service %s:%s" % (gw["service"], gw["port"]),
                  "style": "solid"})
    istiod_nodes = placed_on("istiod", istiod_values, profiles)
    cluster(spec["istiod"]["namespace"])["nodes"].append({"id": "istiod", "label": ["istiod", _hosts_text(istiod_nodes)]})

    for vs in (o for o in routing if o["kind"] == "VirtualService"):
        meta = vs["metadata"]
        vs_id = _id("vs", meta["namespace"], meta["name"])
        cluster(meta["namespace"])["nodes"].append(
            {"id": vs_id, "label": ["VirtualService %s" % meta["name"], "hosts %s" % ", ".join(vs["spec"]["hosts"])]})
        edges.append({"src": "gateway", "dst": vs_id, "label": "", "style": "solid"})
        for http in vs["spec"]["http"]:
            match = http["match"][0]["uri"]
            path = match.get("prefix") or match.get("exact")
            if "route" not in http:
                edges.append({"src": vs_id, "dst": vs_id, "label": "%s: %s" % (path, http["directResponse"]["status"]),
                              "style": "dashed"})
                continue
            dest = http["route"][0]["destination"]
            name, namespace = dest["host"].split(".")[:2]
            edges.append({"src": vs_id, "dst": service(namespace, name, dest["port"]["number"]),
                          "label": path, "style": "solid"})

    for d in spec["domains"]:
        service(d["namespace"], d["service"], d["port"])
    meshed = []
    for d in spec["domains"]:
        if d["meshed"] and d["namespace"] not in meshed:
            meshed.append(d["namespace"])
    for namespace in meshed:
        car = _id("sidecars", namespace)
        cluster(namespace)["nodes"].append({"id": car, "label": ["sidecars", INJECTION_LABEL]})
        edges.append({"src": "istiod", "dst": car, "label": "xDS", "style": "dashed"})
    by_name = {d["name"]: d for d in spec["domains"]}
    for flow in spec["flows"]:
        src, dst = by_name[flow["from"]], by_name[flow["to"]]
        edges.append({"src": service(src["namespace"], src["service"], src["port"]),
                      "dst": service(dst["namespace"], dst["service"], dst["port"]),
                      "label": "flow %s → %s %s %s" % (flow["from"], flow["to"], flow["protocol"], flow["port"]),
                      "style": "bold"})
    for c in clusters.values():
        c["label"] = "namespace %s%s" % (c["namespace"], " (meshed)" if c["namespace"] in meshed else "")
    return {"nodes": top, "clusters": list(clusters.values()), "edges": edges}


_MERMAID_ARROWS = {"solid": "-->", "dashed": "-.->", "bold": "==>"}


def _mermaid_text(text):
    return text.replace('"', "#quot;")


def to_mermaid(graph, title=None):
    lines = []
    if title:
        lines += ["---", "title: %s" % title, "---"]
    lines.append("flowchart LR")

    def node(n, indent):
        lines.append('%s%s["%s"]' % (indent, n["id"], "<br/>".join(_mermaid_text(t) for t in n["label"])))

    for n in graph["nodes"]:
        node(n, "  ")
    for c in graph["clusters"]:
        lines.append('  subgraph %s["%s"]' % (c["id"], _mermaid_text(c["label"])))
        for n in c["nodes"]:
            node(n, "    ")
        lines.append("  end")
    for e in graph["edges"]:
        arrow = _MERMAID_ARROWS[e["style"]]
        label = "|%s|" % _mermaid_text(e["label"]) if e["label"] else ""
        lines.append("  %s %s%s %s" % (e["src"], arrow, label, e["dst"]))
    return "\n".join(lines) + "\n"


def _dot_escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_label(lines):
    return '"%s"' % "\\n".join(_dot_escape(t) for t in lines)


_DOT_STYLES = {"solid": [], "dashed": ["style=dashed"], "bold": ["style=bold", "color=firebrick"]}


def to_dot(graph, title=None):
    # newrank: the default ranking fails ("trouble in init_rank") once clusters and flows cross, from ~20 domains.
    lines = ["digraph mesh {", "  rankdir=LR;", "  newrank=true;", '  node [shape=box, fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if title:
        lines.append("  label=%s; labelloc=t;" % _dot_label([title]))
    for n in graph["nodes"]:
        lines.append("  %s [label=%s];" % (n["id"], _dot_label(n["label"])))
    for c in graph["clusters"]:
        lines.append("  subgraph cluster_%s {" % c["id"])
        lines.append("    label=%s; style=rounded;" % _dot_label([c["label"]]))
        for n in c["nodes"]:
            lines.append("    %s [label=%s];" % (n["id"], _dot_label(n["label"])))
        lines.append("  }")
    for e in graph["edges"]:
        attrs = (["label=%s" % _dot_label([e["label"]])] if e["label"] else []) + _DOT_STYLES[e["style"]]
        lines.append("  %s -> %s [%s];" % (e["src"], e["dst"], ", ".join(attrs)))
    lines.append("}")
    return "\n".join(lines) + "\n"
