# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What applying the NetworkPolicy bundle would newly deny (pure).

Compares the connections the policies allow today (the cluster's policies, ours
included; none in render mode) with what they allow once the bundle is applied,
over a finite set of probes: every meshed workload to and from every other
workload, declared peer, istiod, DNS, the gateway, a pod of every other known
namespace and an address outside the cluster, on the ports the spec knows of
(app ports, sidecar ports, peers, istiod, DNS, 80, 443). A connection open today
and closed afterwards is a finding unless the spec acknowledges it.
"""
from __future__ import annotations

import ipaddress

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import SIDECAR_PORTS
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_telemetry import telemetry_flows

# Stands for "any address outside the cluster" (TEST-NET-3: evaluated, never dialled).
EXTERNAL_IP = "203.0.113.10"
COMMON_PORTS = (80, 443)


def _desc(end):
    if end.get("namespace") is None:
        return "external %s" % end.get("ip")
    labels = ",".join("%s=%s" % kv for kv in sorted((end.get("labels") or {}).items()))
    return "%s/%s" % (end["namespace"], labels or "*")


def _peer_end(peer):
    if peer["cidr"]:
        net = ipaddress.ip_network(peer["cidr"], strict=False)
        ip = EXTERNAL_IP if net.prefixlen == 0 else str(next(net.hosts(), net.network_address))
        return {"namespace": None, "ip": ip, "name": "peer " + peer["name"]}
    return {"namespace": peer["namespace"], "labels": dict(peer["pod_labels"]), "name": "peer " + peer["name"]}


def endpoints(spec, namespaces, workloads, istiod_labels, dns_labels, gateway_labels):
    """(meshed workloads, every other end) the probes run between."""
    meshed = [{"namespace": w["namespace"], "labels": dict(w["labels"]), "ports": list(w["ports"]),
               "name": w["domain"]} for w in workloads]
    # Pods of a meshed namespace that are not the domain's API (workers, jobs) lose what its policies cut too.
    for ns in sorted({w["namespace"] for w in workloads}):
        meshed.append({"namespace": ns, "labels": {"eco2.mesh/probe": "other-pods"}, "ports": [],
                       "name": "other pods of " + ns})
    others = [{"namespace": spec["istiod"]["namespace"], "labels": dict(istiod_labels), "name": "istiod",
               "ports": list(spec["istiod"]["ports"])},
              {"namespace": spec["dns"]["namespace"], "labels": dict(dns_labels), "name": "dns",
               "ports": [spec["dns"]["port"]]},
              {"namespace": spec["gateway"]["namespace"], "labels": dict(gateway_labels), "name": "gateway",
               "ports": [80, 443, 15021]},
              {"namespace": None, "ip": EXTERNAL_IP, "name": "external"}]
    for peer in spec.get("peers") or []:
        end = _peer_end(peer)
        end["ports"] = list(peer["ports"])
        others.append(end)
    # Telemetry's ends outside the meshed namespaces (Prometheus, the trace collector, Kiali): probed like peers.
    meshed_ns = {w["namespace"] for w in workloads}
    for flow in telemetry_flows(spec):
        for end, port in ((flow["from"], None), (flow["to"], flow["port"])):
            if end["namespace"] in meshed_ns or not end["pod_labels"]:
                continue
            found = next((e for e in others if e.get("namespace") == end["namespace"]
                          and e.get("labels") == end["pod_labels"]), None)
            if found is None:
                found = {"namespace": end["namespace"], "labels": dict(end["pod_labels"]), "ports": [],
                         "name": "telemetry " + flow["name"]}
                others.append(found)
            if port and port not in found["ports"]:
                found["ports"].append(port)
    known = {e["namespace"] for e in meshed + others}
    for ns in sorted(n for n in namespaces if n not in known):
        others.append({"namespace": ns, "labels": {}, "name": "pods of " + ns})
    return meshed, others


def _acknowledged(acks, src, dst, port):
    for ack in acks:
        if ack["from"] in ("*", ack_name(src)) and ack["to"] in ("*", ack_name(dst)) and ack["port"] in ("*", port):
            return True
    return False


def newly_denied(spec, before, after, namespaces, workloads, istiod_labels, dns_labels, gateway_labels):
    """[(src, dst, protocol, [ports])] open under `before` policies and closed under `after`."""
    ns_labels = dict(namespaces or {})
    meshed, others = endpoints(spec, ns_labels or {n: {} for n in _spec_namespaces(spec)},
                               workloads, istiod_labels, dns_labels, gateway_labels)
    known_ports = set(COMMON_PORTS) | set(SIDECAR_PORTS)
    for end in meshed + others:
        known_ports.update(end.get("ports") or [])
    every_port = sorted(known_ports)
    acks = spec.get("acknowledged_denials") or []
    before, after = netpol.index(before), netpol.index(after)
    # A connection the bundle leaves open on every port cannot be newly denied: with allow-all policies
    # (the default) that is nearly every probe, which keeps the analysis linear in the probes, not in
    # probes x ports x policies.
    open_out = [netpol.allows_everything(end, "Egress", after) for end in meshed + others]
    open_in = [netpol.allows_everything(end, "Ingress", after) for end in meshed + others]

    def probes():
        for i, src in enumerate(meshed):
            for j, dst in enumerate(meshed + others):
                if open_out[i] and open_in[j]:
                    continue
                if dst.get("name") == "external":
                    ports = every_port
                elif j < len(meshed):
                    ports = (list(dst["ports"]) or every_port) + list(SIDECAR_PORTS)
                else:
                    ports = dst.get("ports") or every_port
                yield src, dst, ports
        for j, dst in enumerate(meshed):
            for i, src in enumerate(others, start=len(meshed)):
                if open_out[i] and open_in[j]:
                    continue
                yield src, dst, (list(dst["ports"]) or every_port) + list(SIDECAR_PORTS)

    found = {}
    for src, dst, ports in probes():
        protocols = ("UDP", "TCP") if dst.get("name") == "dns" else ("TCP",)
        for proto in protocols:
            for port in sorted(set(ports)):
                if not netpol.allowed(src, dst, port, proto, before, ns_labels):
                    continue
                if netpol.allowed(src, dst, port, proto, after, ns_labels):
                    continue
                if _acknowledged(acks, src, dst, port):
                    continue
                key = (_desc(src), src.get("name"), _desc(dst), dst.get("name"), proto)
                if key not in found:
                    verdict = netpol.evaluate(src, dst, port, proto, after, ns_labels)
                    side = verdict.egress if not verdict.egress else verdict.ingress
                    found[key] = {"ports": [], "isolated_by": list(side.selecting),
                                  "direction": "egress" if not verdict.egress else "ingress",
                                  "from_ack": ack_name(src), "to_ack": ack_name(dst)}
                found[key]["ports"].append(port)
    return [dict(v, **{"from": k[0], "from_name": k[1], "to": k[2], "to_name": k[3], "protocol": k[4]})
            for k, v in sorted(found.items())]


def ack_name(end):
    """How mesh_network_policy_acknowledged_denials names an end: its namespace, or external."""
    return end["namespace"] if end.get("namespace") is not None else "external"


def _spec_namespaces(spec):
    names = [d["namespace"] for d in spec.get("domains") or []]
    names += [p["namespace"] for p in spec.get("platform_routes") or []]
    return sorted(set(names))


def _peer_text(peer, policy_namespace):
    if peer.get("ipBlock"):
        return peer["ipBlock"].get("cidr", "?")
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        return "same namespace" if peer.get("podSelector") is not None else "?"
    name = (ns_sel.get("matchLabels") or {}).get(netpol.NS_NAME_LABEL)
    return name or "selected namespaces"


def _rule_text(rule, key, policy_namespace):
    peers = rule.get(key)
    where = "any" if not peers else "/".join(sorted({_peer_text(p, policy_namespace) for p in peers}))
    ports = rule.get("ports")
    if not ports:
        return where
    return "%s:%s" % (where, ",".join(str(p.get("port", "*")) for p in ports))


def open_lines(pods_by_namespace, policies):
    """Per namespace, what its pods may reach (out) and be reached by (in), from the policies in force."""
    lines = []
    for ns, pods in pods_by_namespace.items():
        labels = ((pods[0].get("metadata") or {}).get("labels") or {}) if pods else {}
        pod = {"namespace": ns, "labels": labels}
        parts = []
        for direction, key, peer_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            selecting = [p for p in policies if netpol.selects(p, pod) and direction in netpol.policy_types(p)]
            word = "in" if direction == "Ingress" else "out"
            rules = [r for p in selecting for r in (p.get("spec") or {}).get(key) or []]
            if not selecting or any(not r.get(peer_key) and not r.get("ports") for r in rules):
                parts.append("%s: open" % word)
                continue
            texts = sorted({_rule_text(r, peer_key, ns) for r in rules})
            parts.append("%s: only %s" % (word, "; ".join(texts) or "nothing"))
        lines.append("%s - %s" % (ns, " | ".join(parts)))
    return lines
