# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkPolicy checks: istiod and DNS egress, gateway ingress, flows, newly denied connections."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_reachability
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import BUNDLE_LABEL
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import (
    _kind, _labels_str, _name, _ns, finding, ref)
from ansible_collections.eco2.mesh.plugins.module_utils.sequences import unique_in_order


# -- NetworkPolicy checks ------------------------------------------------------
def _workloads(world):
    """Representative pods of the meshed domains, with their app ports."""
    out = []
    for d in world.spec.get("domains") or []:
        if not d.get("meshed", True):
            continue
        labels = dict(d.get("pod_labels") or {"app": d["service"]})
        ports = [d["port"]] + [r["port"] for r in d.get("routes") or []
                               if r["namespace"] == d["namespace"] and r["port"] != d["port"]]
        out.append({"domain": d["name"], "namespace": d["namespace"], "labels": labels, "ports": unique_in_order(ports)})
    if not out:
        for ns in unique_in_order([_ns(p) for p in _kind(world.objects, "NetworkPolicy")]):
            out.append({"domain": ns, "namespace": ns, "labels": {}, "ports": []})
    return out


def _blocked_side(v, src, dst, policies, nss, first="Egress"):
    """(object, field, names, direction) of the side that blocks src -> dst (`first` when both do)."""
    egress = (v.egress, "Egress", src["namespace"], dst)
    ingress = (v.ingress, "Ingress", dst["namespace"], src)
    order = (egress, ingress) if first == "Egress" else (ingress, egress)
    side, direction, ns, other = order[0] if not order[0][0] else order[1]
    return _blocking(side, ns, direction, policies, other, nss) + (direction,)


def _blocking(side, namespace, direction, policies=None, other=None, namespaces=None):
    """(object, field, names) of the policy to fix: the isolating policy whose rules reach `other`, else the first."""
    names = side.selecting or ["(none)"]
    if not side.selecting:
        return "Namespace %s" % namespace, "spec.%s" % direction.lower(), ", ".join(names)
    key, peer_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    by_name = {"%s/%s" % (_ns(p), _name(p)): p for p in policies or []}

    def reaches(pol):
        for rule in (pol.get("spec") or {}).get(key) or []:
            peers = rule.get(peer_key)
            if not peers or any(netpol.peer_matches(p, _ns(pol), other, namespaces) for p in peers):
                return True
        return False

    def foreign(pol):  # our policies only add: when none reaches, the one to fix is someone else's
        return ((pol.get("metadata") or {}).get("labels") or {}).get(BUNDLE_LABEL) is None

    chosen = names[0]
    if other is not None:
        chosen = next((n for n in names if reaches(by_name.get(n) or {})), None) or next(
            (n for n in names if foreign(by_name.get(n) or {})), names[0])
    return "NetworkPolicy %s" % chosen, "spec.%s" % direction.lower(), ", ".join(names)


def _is_default_deny_egress(pol):
    spec = pol.get("spec") or {}
    return ("Egress" in netpol.policy_types(pol) and not spec.get("egress")
            and not (spec.get("podSelector") or {}).get("matchLabels")
            and not (spec.get("podSelector") or {}).get("matchExpressions"))


def check_policies(world):
    out = []
    policies = _kind(world.all, "NetworkPolicy")
    indexed = netpol.index(policies)
    nss = world.ns_labels()
    istiod = {"namespace": world.istiod["namespace"], "labels": world.istiod["labels"]}
    dns = {"namespace": world.dns["namespace"], "labels": world.dns["labels"]}
    gw_pod = {"namespace": world.gateway_pod["namespace"], "labels": world.gateway_pod["labels"]}
    istiod_ns, dns_ns, gw_ns = istiod["namespace"], dns["namespace"], gw_pod["namespace"]
    istiod_ports = world.istiod["ports"]
    dns_port = world.dns["port"]

    if world.namespaces is not None:
        for ns in unique_in_order([_ns(o) for o in world.objects if _ns(o)]):
            if ns not in world.namespaces:
                obj = next(o for o in world.objects if _ns(o) == ns)
                out.append(finding("namespace-missing", ref(obj), "metadata.namespace",
                                   "namespace %s does not exist, the apply would fail." % ns,
                                   "create the namespace first (sync wave 2) or fix mesh_domains[].namespace"))

    workloads = _workloads(world)
    default_deny_reported = set()
    for w in workloads:
        pod = {"namespace": w["namespace"], "labels": w["labels"]}
        blocked = [p for p in istiod_ports if not netpol.evaluate(pod, istiod, p, "TCP", indexed, nss)]
        if blocked:
            v = netpol.evaluate(pod, istiod, blocked[0], "TCP", indexed, nss)
            obj, field, names, direction = _blocked_side(v, pod, istiod, policies, nss)
            out.append(finding(
                "istiod-egress", obj, field,
                "sidecars in meshed namespace %s cannot reach istiod (%s, %s) on TCP %s (%s isolated by %s); they "
                "cannot fetch config or certificates (CSR 'i/o timeout') and the pods degrade."
                % (w["namespace"], istiod_ns, _labels_str(istiod["labels"]), ", ".join(str(p) for p in blocked),
                   direction.lower(), names),
                "allow egress to namespace %s pods %s on TCP %s (mesh_istiod)"
                % (istiod_ns, _labels_str(istiod["labels"]), ", ".join(str(p) for p in istiod_ports))))
        dns_blocked = [proto for proto in ("UDP", "TCP") if not netpol.evaluate(pod, dns, dns_port, proto, indexed, nss)]
        if dns_blocked:
            v = netpol.evaluate(pod, dns, dns_port, dns_blocked[0], indexed, nss)
            obj, field, names, direction = _blocked_side(v, pod, dns, policies, nss)
            deny = [p for p in policies if _ns(p) == w["namespace"] and _is_default_deny_egress(p)]
            check = "default-deny-dns" if deny else "dns-egress"
            if deny:
                obj, field = ref(deny[0]), "spec.policyTypes"
                default_deny_reported.add(w["namespace"])
            out.append(finding(
                check, obj, field,
                "%spods in %s cannot reach DNS (%s, %s) on %s %s: every name lookup, including istiod's, fails."
                % ("default-deny without DNS: " if deny else "", w["namespace"], dns_ns, _labels_str(dns["labels"]),
                   "/".join(dns_blocked), dns_port),
                "allow egress to namespace %s pods %s on UDP and TCP %s (mesh_dns)"
                % (dns_ns, _labels_str(dns["labels"]), dns_port)))
        for port in w["ports"]:
            v = netpol.evaluate(gw_pod, dict(pod, ports=[]), port, "TCP", indexed, nss)
            if not v:
                obj, field, names, direction = _blocked_side(v, gw_pod, pod, policies, nss, first="Ingress")
                out.append(finding(
                    "gateway-ingress", obj, field,
                    "gateway pods (%s, %s) cannot reach %s in %s on TCP %s (%s isolated by %s): routes to %s fail."
                    % (gw_ns, _labels_str(gw_pod["labels"]), _labels_str(w["labels"]), w["namespace"], port,
                       direction.lower(), names, w["domain"]),
                    "allow ingress from namespace %s pods %s on TCP %s" % (gw_ns, _labels_str(gw_pod["labels"]), port)))

    # default-deny in a namespace that is not a meshed workload of the spec
    for pol in _kind(world.objects, "NetworkPolicy"):
        ns = _ns(pol)
        if ns in default_deny_reported or not _is_default_deny_egress(pol):
            continue
        if any(w["namespace"] == ns for w in workloads):
            continue
        pod = {"namespace": ns, "labels": {}}
        if not all(netpol.evaluate(pod, dns, dns_port, proto, indexed, nss) for proto in ("UDP", "TCP")):
            default_deny_reported.add(ns)
            out.append(finding("default-deny-dns", ref(pol), "spec.policyTypes",
                               "default-deny without DNS: pods in %s cannot reach DNS on %s." % (ns, dns_port),
                               "allow egress to namespace %s pods %s on UDP and TCP %s"
                               % (dns_ns, _labels_str(dns["labels"]), dns_port)))

    out += _check_flows(world, workloads, policies, nss)
    return out


def _pod_in(namespace, selector, workloads):
    labels = None
    if selector is not None:
        if selector.get("matchExpressions"):
            return None
        labels = dict(selector.get("matchLabels") or {})
    if not labels:
        for w in workloads:
            if w["namespace"] == namespace:
                labels = dict(w["labels"])
                break
    return {"namespace": namespace, "labels": labels or {}}


def _named_namespace(peer):
    sel = peer.get("namespaceSelector") or {}
    return (sel.get("matchLabels") or {}).get(netpol.NS_NAME_LABEL)


def _check_flows(world, workloads, policies, nss):
    out = []
    indexed = netpol.index(policies)
    done = set()
    for flow in world.spec.get("flows") or []:
        src = _pod_in(flow["from_namespace"], None, workloads)
        dst = _pod_in(flow["to_namespace"], None, workloads)
        key = (src["namespace"], dst["namespace"], flow["port"], flow["protocol"])
        done.add(key)
        f = _flow_finding(src, dst, flow["port"], flow["protocol"], policies, indexed, nss,
                          "flow %s -> %s %s/%s" % (flow["from"], flow["to"], flow["protocol"], flow["port"]), True)
        if f:
            out.append(f)
    # one-sided allowances written directly in policies (e.g. a hand-written egress without its ingress)
    for pol in policies:
        ns = _ns(pol)
        spec = pol.get("spec") or {}
        selector = spec.get("podSelector") or {}
        for direction, key in (("Egress", "egress"), ("Ingress", "ingress")):
            if direction not in netpol.policy_types(pol):
                continue
            for rule in spec.get(key) or []:
                for peer in rule.get("to" if key == "egress" else "from") or []:
                    other_ns = _named_namespace(peer)
                    if not other_ns or other_ns == ns:
                        continue
                    here = _pod_in(ns, selector, workloads)
                    there = _pod_in(other_ns, peer.get("podSelector"), workloads)
                    if here is None or there is None:
                        continue
                    src, dst = (here, there) if direction == "Egress" else (there, here)
                    for port in rule.get("ports") or []:
                        number = port.get("port")
                        if isinstance(number, str) and number.isdigit():
                            number = int(number)  # a quoted number; named ports are left out
                        if port.get("endPort") is not None or not isinstance(number, int):
                            continue
                        proto = port.get("protocol") or "TCP"
                        k = (src["namespace"], dst["namespace"], number, proto)
                        if k in done:
                            continue
                        done.add(k)
                        f = _flow_finding(src, dst, number, proto, policies, indexed, nss,
                                          "%s allowed by %s %s" % (
                                              "egress to %s" % dst["namespace"] if direction == "Egress"
                                              else "ingress from %s" % src["namespace"], ref(pol),
                                              "%s/%s" % (proto, port["port"])), False)
                        if f:
                            out.append(f)
    return out


def _flow_finding(src, dst, port, proto, policies, indexed, nss, what, declared):
    v = netpol.evaluate(src, dst, port, proto, indexed, nss)
    one_sided = v.egress.allowed != v.ingress.allowed
    if v.allowed or not (one_sided or declared):
        return None
    obj, field, names, direction = _blocked_side(v, src, dst, policies, nss)
    if one_sided:
        egress, ingress = "egress from %s" % src["namespace"], "ingress into %s" % dst["namespace"]
        allowed_as, blocked_as = (egress, ingress) if direction == "Ingress" else (ingress, egress)
        return finding(
            "flow-one-sided", obj, field,
            "%s: %s is allowed but %s on %s/%s is not (isolated by %s); the call times out."
            % (what, allowed_as, blocked_as, proto, port, names),
            "write both sides: declare it in mesh_flows ({from: <%s domain>, to: <%s domain>, port: %s, protocol: %s})"
            % (src["namespace"], dst["namespace"], port, proto))
    return finding("flow-blocked", obj, field,
                   "%s is blocked on both sides (egress by %s, ingress by %s)."
                   % (what, names, ", ".join(v.ingress.selecting)),
                   "allow egress in %s and ingress in %s on %s/%s" % (src["namespace"], dst["namespace"], proto, port))


def check_newly_denied(world):
    """Connections the policies allow today (ours included) that they would not allow after the apply."""
    spec = world.spec
    if not spec.get("domains") or "istiod" not in spec:
        return []
    after = _kind(world.all, "NetworkPolicy")
    before = _kind(world.live + list(world.context.get("live_ours") or []), "NetworkPolicy")
    denied = mesh_reachability.newly_denied(
        spec, before, after, world.namespaces, _workloads(world), world.istiod["labels"], world.dns["labels"],
        world.gateway_pod["labels"])
    out = []
    for d in denied:
        names = d["isolated_by"] or ["(none)"]
        chosen = next((n for n in names if n.endswith("/mesh-default-deny")), names[0])
        out.append(finding(
            "newly-denied", "NetworkPolicy %s" % chosen, "spec.policyTypes",
            "applying the bundle would deny %s (%s) -> %s (%s) on %s %s, which is open today (%s isolated by %s)."
            % (d["from"], d["from_name"], d["to"], d["to_name"], d["protocol"], ", ".join(str(p) for p in d["ports"]),
               d["direction"], ", ".join(names)),
            "declare the connection (mesh_peers or mesh_flows), or accept losing it in "
            "mesh_network_policy_acknowledged_denials ({from: %s, to: %s, port: %s})"
            % (d["from_ack"], d["to_ack"], d["ports"][0])))
    return out


POLICY_CHECKS = (check_policies, check_newly_denied)
