# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the analysis checks share: the finding shape, object references, and the world they look at."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import k8s_objects
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms


def finding(check, obj, field, message, fix, severity="error"):
    return {"check": check, "severity": severity, "object": obj, "field": field, "message": message, "fix": fix}


def format_finding(f):
    return "[%s] %s %s: %s Fix: %s (%s)" % (f["severity"], f["object"], f["field"], f["message"], f["fix"], f["check"])


_key = k8s_objects.key
ref = k8s_objects.ref


def _ns(obj):
    return (obj.get("metadata") or {}).get("namespace")


def _name(obj):
    return (obj.get("metadata") or {}).get("name")


def _kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def blocked_sides(verdict, src, dst):
    """What a NetworkPolicy verdict blocks: 'egress from <ns> (isolated by ...)', 'ingress into <ns> (...)'."""
    out = []
    if not verdict.egress.allowed:
        out.append("egress from %s (isolated by %s)" % (src["namespace"], ", ".join(verdict.egress.selecting)))
    if not verdict.ingress.allowed:
        out.append("ingress into %s (isolated by %s)" % (dst["namespace"], ", ".join(verdict.ingress.selecting)))
    return out


def blocked_flows(flows, pod_of, policies, namespaces):
    """(flow, source pod, destination pod, blocked sides) for each flow the policies do not allow.

    `pod_of(end)` turns a flow's end ({namespace, pod_labels}) into a pod ({namespace, labels}).
    """
    for flow in flows:
        src, dst = pod_of(flow["from"]), pod_of(flow["to"])
        verdict = mesh_netpol.evaluate(src, dst, flow["port"], flow["protocol"], policies, namespaces)
        if not verdict.allowed:
            yield flow, src, dst, blocked_sides(verdict, src, dst)


def _labels_str(labels):
    return ",".join("%s=%s" % kv for kv in sorted((labels or {}).items())) or "(any)"


# -- the context -------------------------------------------------------------
class _World:
    def __init__(self, objects, context):
        self.objects = list(objects or [])
        self.context = context or {}
        keys = {_key(o) for o in self.objects}
        live = [o for o in self.context.get("live") or [] if _key(o) not in keys]
        self.live = live
        self.all = self.objects + live
        self.spec = self.context.get("spec") or {}
        services = self.context.get("services")
        if services is not None:
            services = list(services) + _kind(self.all, "Service")
        self.services = None if services is None else {(_ns(s), _name(s)): s for s in services}
        self.namespaces = self.context.get("namespaces")  # {name: labels} or None when unknown
        # The endpoints come from the model; pod labels read from the live cluster win over the model's.
        ctx = self.context
        self.istiod = ms.istiod_endpoint(self.spec)
        self.istiod["labels"] = ctx.get("istiod_pod_labels") or self.istiod["labels"]
        self.dns = ms.dns_endpoint(self.spec)
        self.dns["labels"] = ctx.get("dns_pod_labels") or self.dns["labels"]
        self.gateway_pod = ms.gateway_endpoint(self.spec)
        self.gateway_label_sets = ctx.get("gateway_pod_labels") or [self.gateway_pod["labels"]]
        self.gateway_pod["labels"] = self.gateway_label_sets[0]

    def gateways(self):
        return _kind(self.all, "Gateway")

    def gateway(self, namespace, name):
        for gw in self.gateways():
            if _ns(gw) == namespace and _name(gw) == name:
                return gw
        return None

    def ns_labels(self):
        return self.namespaces or {}
