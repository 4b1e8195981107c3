# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkPolicy bundle: mesh spec -> NetworkPolicies (pure).

Per meshed namespace: egress to istiod (xDS/CA/webhook ports), egress to DNS,
ingress from the gateway pods to the app ports, traffic inside the namespace, the
declared peers (data stores, external addresses, scrapers); per flow both the
caller's egress and the callee's ingress.

Any policy that selects a pod isolates it for its direction, so the allowances
alone would cut whatever the spec does not describe. Unless the user asks for
isolation (default-deny), a namespace therefore also gets an allow-all policy per
direction - the bundle then denies nothing - except in a direction where policies
that are not ours already isolate its pods: there our allowances only add, and an
allow-all would undo the owner's isolation.
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth import auth_flows
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_telemetry import telemetry_flows
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import BUNDLE_LABEL, managed_labels

BUNDLE = "network-policies"
NS_NAME_LABEL = "kubernetes.io/metadata.name"


def _policy(name, namespace, pod_labels, types, ingress=None, egress=None):
    spec = {"podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {}, "policyTypes": list(types)}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": managed_labels(BUNDLE)},
        "spec": spec,
    }


def _peer(namespace, pod_labels):
    peer = {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: namespace}}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": dict(pod_labels)}
    return peer


def _ports(ports, protocol="TCP"):
    return [{"protocol": protocol, "port": p} for p in ports]


def meshed_namespaces(spec):
    """(namespace, [domains]) for every meshed namespace, in spec order."""
    out = {}
    for d in spec["domains"]:
        if d["meshed"]:
            out.setdefault(d["namespace"], []).append(d)
    return list(out.items())


def _app_ports(domains):
    ports = []
    for d in domains:
        for r in [{"port": d["port"], "namespace": d["namespace"]}] + d["routes"]:
            if r["namespace"] == d["namespace"] and r["port"] not in ports:
                ports.append(r["port"])
    return ports


def _peer_selector(peer):
    if peer["cidr"]:
        block = {"cidr": peer["cidr"]}
        if peer["except"]:
            block["except"] = list(peer["except"])
        return {"ipBlock": block}
    return _peer(peer["namespace"], peer["pod_labels"])


def _peer_policies(spec):
    """One policy per declared peer and selected pod group of the domains it applies to."""
    by_name = {d["name"]: d for d in spec["domains"]}
    objs = []
    for peer in spec.get("peers") or []:
        groups = []
        for name in peer["domains"]:
            d = by_name[name]
            if (d["namespace"], d["pod_labels"]) not in groups:
                groups.append((d["namespace"], d["pod_labels"]))
        for ns, labels in groups:
            same_ns = [g for g in groups if g[0] == ns]
            name = "mesh-peer-%s-%s" % (peer["direction"], peer["name"])
            if len(same_ns) > 1:
                name += "-%d" % same_ns.index((ns, labels))
            rule = {("to" if peer["direction"] == "egress" else "from"): [_peer_selector(peer)],
                    "ports": _ports(peer["ports"], peer["protocol"])}
            if peer["direction"] == "egress":
                objs.append(_policy(name, ns, labels, ["Egress"], egress=[rule]))
            else:
                objs.append(_policy(name, ns, labels, ["Ingress"], ingress=[rule]))
    return objs


def network_policy_objects(spec, isolated=None):
    """Every NetworkPolicy of the bundle, sorted by namespace then name.

    isolated: {namespace: [directions]} already isolated by policies that are not ours
    (read from the cluster); None when unknown (render mode): nothing is.
    """
    istiod, dns, gw = spec["istiod"], spec["dns"], spec["gateway"]
    isolated = isolated or {}
    objs = []
    meshed = meshed_namespaces(spec)
    for ns, domains in meshed:
        objs.append(_policy("mesh-allow-same-namespace", ns, {}, ["Ingress", "Egress"],
                            ingress=[{"from": [{"podSelector": {}}]}], egress=[{"to": [{"podSelector": {}}]}]))

        objs.append(_policy("mesh-allow-istiod-egress", ns, {}, ["Egress"], egress=[{
            "to": [_peer(istiod["namespace"], istiod["pod_labels"])],
            "ports": _ports(istiod["ports"]),
        }]))
        objs.append(_policy("mesh-allow-dns-egress", ns, {}, ["Egress"], egress=[{
            "to": [_peer(dns["namespace"], dns["pod_labels"])],
            "ports": _ports([dns["port"]], "UDP") + _ports([dns["port"]], "TCP"),
        }]))
        selectors = []
        for d in domains:
            if d["pod_labels"] not in selectors:
                selectors.append(d["pod_labels"])
        for i, labels in enumerate(selectors):
            owners = [d for d in domains if d["pod_labels"] == labels]
            name = "mesh-allow-gateway-ingress" if i == 0 else "mesh-allow-gateway-ingress-%s" % owners[0]["name"]
            objs.append(_policy(name, ns, labels, ["Ingress"], ingress=[{
                "from": [_peer(gw["namespace"], gw["pod_labels"])],
                "ports": _ports(_app_ports(owners)),
            }]))
        if any(d["default_deny"] for d in domains):
            objs.append(_policy("mesh-default-deny", ns, {}, ["Ingress", "Egress"]))
    by_name = {d["name"]: d for d in spec["domains"]}
    for flow in spec["flows"]:
        src, dst = by_name[flow["from"]], by_name[flow["to"]]
        suffix = "%s-%d-%s" % ("%s", flow["port"], flow["protocol"].lower())
        objs.append(_policy("mesh-flow-egress-to-" + suffix % dst["name"], src["namespace"], src["pod_labels"], ["Egress"],
                            egress=[{"to": [_peer(dst["namespace"], dst["pod_labels"])],
                                     "ports": _ports([flow["port"]], flow["protocol"])}]))
        objs.append(_policy("mesh-flow-ingress-from-" + suffix % src["name"], dst["namespace"], dst["pod_labels"],
                            ["Ingress"],
                            ingress=[{"from": [_peer(src["namespace"], src["pod_labels"])],
                                      "ports": _ports([flow["port"]], flow["protocol"])}]))
    objs += _peer_policies(spec)
    # auth offloading (gateway -> ext_authz, istiod -> JWKS), telemetry (scrapes, traces, Kiali)
    objs += _flow_policies(auth_flows(spec), "mesh-auth")
    objs += _flow_policies(telemetry_flows(spec), "mesh-telemetry")
    objs += _keep_open(spec, objs, isolated)
    objs.sort(key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))
    return objs


def _flow_policies(flows, prefix):
    """Both sides of each flow: one egress policy per source and port, one ingress per destination and port.

    Flows of one name that share a source (or destination) add their peer to the same policy.
    """
    by_name = {}
    for flow in flows:
        ports = _ports([flow["port"]], flow["protocol"])
        for direction, here, there in (("egress", flow["from"], flow["to"]), ("ingress", flow["to"], flow["from"])):
            name = "%s-%s-%s-%d" % (prefix, flow["name"], direction, flow["port"])
            key = (here["namespace"], name)
            if key not in by_name:
                rule = {("to" if direction == "egress" else "from"): [], "ports": ports}
                by_name[key] = _policy(name, here["namespace"], here["pod_labels"], [direction.capitalize()],
                                       **{direction: [rule]})
            peers = by_name[key]["spec"][direction][0]["to" if direction == "egress" else "from"]
            peer = _peer(there["namespace"], there["pod_labels"])
            if peer not in peers:
                peers.append(peer)
    return list(by_name.values())


def _keep_open(spec, objs, isolated):
    """An allow-all per direction in every namespace the bundle touches, unless it isolates on purpose.

    Covers namespaces reached only by a flow or a peer (e.g. an unmeshed domain) as well as the meshed ones.
    """
    deny = {d["namespace"] for d in spec["domains"] if d["default_deny"]}
    out = []
    for ns in sorted({o["metadata"]["namespace"] for o in objs} - deny):
        owned = isolated.get(ns) or []
        if "Egress" not in owned:
            out.append(_policy("mesh-allow-undeclared-egress", ns, {}, ["Egress"], egress=[{}]))
        if "Ingress" not in owned:
            out.append(_policy("mesh-allow-undeclared-ingress", ns, {}, ["Ingress"], ingress=[{}]))
    return out


def isolated_directions(policies):
    """{namespace: [directions]} that policies not applied by this collection isolate."""
    out = {}
    for pol in policies or []:
        labels = (pol.get("metadata") or {}).get("labels") or {}
        if labels.get(BUNDLE_LABEL) == BUNDLE:
            continue
        spec = pol.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
        ns = (pol.get("metadata") or {}).get("namespace")
        for t in types:
            if t not in out.setdefault(ns, []):
                out[ns].append(t)
    return {ns: sorted(types) for ns, types in out.items()}
