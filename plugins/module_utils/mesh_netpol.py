# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkPolicy semantics, as the Kubernetes API defines them (networking.k8s.io/v1).

A connection src -> dst:port/protocol is allowed when BOTH
  * egress: no policy in src's namespace selects src for Egress, or one of the
    egress rules of those policies matches (dst, port); and
  * ingress: no policy in dst's namespace selects dst for Ingress, or one of the
    ingress rules of those policies matches (src, port).
Policies are additive (a union of allows), never deny anything beyond isolating
the pods they select.

Details implemented:
  * policyTypes: when empty/absent, "Ingress" always, plus "Egress" when the
    policy has at least one egress rule (API defaulting).
  * A rule with `from`/`to` absent or empty matches every peer; with `ports`
    absent or empty matches every port.
  * A peer with podSelector only: pods of the policy's own namespace; with
    namespaceSelector only: all pods of the matching namespaces; with both: the
    matching pods in the matching namespaces (AND); several peers: OR. An empty
    selector ({}) matches everything; ipBlock matches by IP (cidr minus except).
  * A port entry: protocol defaults to TCP; `port` absent = every port of that
    protocol; numeric port with optional endPort (range); a named port matches
    the destination pod's container port of that name (best effort: needs
    the pod's `ports`).
  * Peers outside the cluster (no namespace) only match ipBlock peers or
    rules without from/to.

Pods are dicts: {"namespace": str|None, "labels": {...}, "ip": "10.0.0.1"
(optional), "ports": [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
(optional)}. `namespaces` maps a namespace name to its labels;
kubernetes.io/metadata.name is always implied.
"""
from __future__ import annotations

import ipaddress

from ansible_collections.eco2.mesh.plugins.module_utils.k8s_objects import selector_matches

NS_NAME_LABEL = "kubernetes.io/metadata.name"


def namespace_labels(name, namespaces):
    labels = dict((namespaces or {}).get(name) or {})
    if name is not None:
        labels.setdefault(NS_NAME_LABEL, name)
    return labels


def policy_types(policy):
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return set(types)
    out = {"Ingress"}
    if spec.get("egress"):
        out.add("Egress")
    return out


def selects(policy, pod):
    meta = policy.get("metadata") or {}
    if pod.get("namespace") is None or meta.get("namespace") != pod.get("namespace"):
        return False
    return selector_matches((policy.get("spec") or {}).get("podSelector") or {}, pod.get("labels"))


def _ip_in_block(ip, block):
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
        if addr not in ipaddress.ip_network(block["cidr"], strict=False):
            return False
        return not any(addr in ipaddress.ip_network(ex, strict=False) for ex in block.get("except") or [])
    except (ValueError, KeyError, TypeError):
        return False


def peer_matches(peer, policy_namespace, other, namespaces):
    """Does one NetworkPolicyPeer match the other end of the connection?"""
    if peer.get("ipBlock") is not None:
        return _ip_in_block(other.get("ip"), peer["ipBlock"])
    ns_sel = peer.get("namespaceSelector")
    pod_sel = peer.get("podSelector")
    if ns_sel is None and pod_sel is None:
        return False  # invalid peer; the API rejects it
    other_ns = other.get("namespace")
    if other_ns is None:
        return False
    if ns_sel is None:
        if other_ns != policy_namespace:
            return False
    elif not selector_matches(ns_sel, namespace_labels(other_ns, namespaces)):
        return False
    if pod_sel is not None and not selector_matches(pod_sel, other.get("labels")):
        return False
    return True


def _named_port(dst, name, protocol):
    for p in dst.get("ports") or []:
        if p.get("name") == name and (p.get("protocol") or "TCP") == protocol:
            return p.get("containerPort")
    return None


def port_matches(entry, port, protocol, dst):
    if (entry.get("protocol") or "TCP") != protocol:
        return False
    want = entry.get("port")
    if want is None:
        return True
    if isinstance(want, str) and not want.isdigit():
        return _named_port(dst, want, protocol) == port
    want = int(want)
    end = entry.get("endPort")
    if end is not None:
        return want <= port <= int(end)
    return port == want


def rule_matches(rule, direction, policy_namespace, other, dst, port, protocol, namespaces):
    peers = rule.get("from" if direction == "Ingress" else "to")
    if peers:
        if not any(peer_matches(p, policy_namespace, other, namespaces) for p in peers):
            return False
    ports = rule.get("ports")
    if ports:
        if not any(port_matches(p, port, protocol, dst) for p in ports):
            return False
    return True


class Side:
    """Verdict for one direction: isolated?, allowed?, which policies matter."""

    def __init__(self, isolated, allowed, selecting, allowing):
        self.isolated = isolated
        self.allowed = allowed
        self.selecting = selecting
        self.allowing = allowing

    def __bool__(self):
        return self.allowed

    def __repr__(self):
        return "Side(isolated=%r, allowed=%r, selecting=%r, allowing=%r)" % (
            self.isolated, self.allowed, self.selecting, self.allowing)


def _name(policy):
    meta = policy.get("metadata") or {}
    return "%s/%s" % (meta.get("namespace"), meta.get("name"))


def side(direction, src, dst, port, protocol, policies, namespaces):
    """Evaluate the egress side (policies of src) or the ingress side (policies of dst)."""
    pod, other = (src, dst) if direction == "Egress" else (dst, src)
    key = "egress" if direction == "Egress" else "ingress"
    selecting, allowing = [], []
    for pol in policies:
        if direction not in policy_types(pol) or not selects(pol, pod):
            continue
        selecting.append(_name(pol))
        ns = (pol.get("metadata") or {}).get("namespace")
        for rule in (pol.get("spec") or {}).get(key) or []:
            if rule_matches(rule, direction, ns, other, dst, port, protocol, namespaces):
                allowing.append(_name(pol))
                break
    isolated = bool(selecting)
    return Side(isolated, (not isolated) or bool(allowing), selecting, allowing)


class Verdict:
    def __init__(self, egress, ingress):
        self.egress = egress
        self.ingress = ingress

    @property
    def allowed(self):
        return self.egress.allowed and self.ingress.allowed

    def __bool__(self):
        return self.allowed

    def __repr__(self):
        return "Verdict(egress=%r, ingress=%r)" % (self.egress, self.ingress)


class PolicyIndex:
    """NetworkPolicies by namespace: a policy only ever selects pods of its own namespace, so each side of a
    connection needs only the policies of one namespace (what keeps the analysis quadratic, not cubic)."""

    def __init__(self, policies):
        self.by_namespace = {}
        for pol in policies or []:
            if (pol.get("kind") or "NetworkPolicy") == "NetworkPolicy":
                self.by_namespace.setdefault((pol.get("metadata") or {}).get("namespace"), []).append(pol)

    def of(self, namespace):
        return self.by_namespace.get(namespace, []) if namespace is not None else []


def index(policies):
    """A PolicyIndex of policies (built once by callers that evaluate many connections)."""
    return policies if isinstance(policies, PolicyIndex) else PolicyIndex(policies)


def allows_everything(pod, direction, policies):
    """True when `pod` may talk to (Egress) or be reached by (Ingress) every end on every port: no policy
    isolates it in that direction, or one that does has a rule with no peers and no ports. `policies` is a
    PolicyIndex. Lets a caller skip the per-port evaluation of every connection of such a pod."""
    key = "egress" if direction == "Egress" else "ingress"
    peer_key = "to" if direction == "Egress" else "from"
    isolated = False
    for pol in policies.of(pod.get("namespace")):
        if direction not in policy_types(pol) or not selects(pol, pod):
            continue
        isolated = True
        if any(not rule.get(peer_key) and not rule.get("ports") for rule in (pol.get("spec") or {}).get(key) or []):
            return True
    return not isolated


def evaluate(src_pod, dst_pod, port, protocol, policies, namespaces=None):
    """Both sides of src -> dst:port/protocol. Pods outside the cluster have namespace None.

    `policies` is a list of NetworkPolicies or a PolicyIndex of them."""
    protocol = protocol or "TCP"
    policies = index(policies)
    egress = side("Egress", src_pod, dst_pod, port, protocol, policies.of(src_pod.get("namespace")), namespaces)
    ingress = side("Ingress", src_pod, dst_pod, port, protocol, policies.of(dst_pod.get("namespace")), namespaces)
    return Verdict(egress, ingress)


def allowed(src_pod, dst_pod, port, protocol, policies, namespaces=None):
    """True when Kubernetes NetworkPolicies allow src_pod -> dst_pod:port/protocol."""
    return evaluate(src_pod, dst_pod, port, protocol, policies, namespaces).allowed
