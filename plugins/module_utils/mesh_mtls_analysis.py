# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-apply analysis of mTLS (mesh_mtls) and telemetry (mesh_telemetry), run by mesh_analysis.analyze (pure).

Checks (errors):
  mtls-strict-blocker         STRICT would break something: a pod of a STRICT namespace without a ready sidecar
                              (live pods only), or a caller without a sidecar in the spec (mesh_flows, mesh_peers,
                              auth's istiod -> JWKS, ...) into a STRICT workload port - each named
  telemetry-provider-unknown  the Telemetry's tracing provider is not declared in istiod's mesh config
  telemetry-flow-blocked      NetworkPolicies block a telemetry flow (scrapes, traces, Kiali): on the cluster now
                              (mtls_telemetry run) or after the NetworkPolicy bundle (network_policies run)

Context keys (read from the cluster by mesh_analyze; absent in render mode):
  pods                         every Pod of the cluster (one list call)
  istiod_mesh_config           istiod's mesh config (ConfigMap istio, key mesh)
  telemetry_network_policies   every NetworkPolicy on the cluster
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import blocked_flows, finding
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth import auth_flows
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_mtls import strict_blockers
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_telemetry import telemetry_flows


def check_strict_blockers(world):
    spec = world.spec
    mtls = spec.get("mtls")
    if not mtls:
        return []
    pa = "PeerAuthentication %s/%s" % (mtls["root_namespace"], mtls["name"])
    out = []
    for b in strict_blockers(spec, world.context.get("pods"), auth_flows(spec) + telemetry_flows(spec)):
        if b["flow"] is None:
            out.append(finding(
                "mtls-strict-blocker", "Pod %s/%s" % (b["namespace"], b["pod"]), "spec.containers", b["reason"] + ".",
                "mesh the pod first (eco2.mesh.sidecar_injection restarts its workload with the sidecar), or keep "
                "namespace %s permissive (mesh_mtls.namespaces: [{namespace: %s, mode: permissive}])"
                % (b["namespace"], b["namespace"])))
        else:
            out.append(finding(
                "mtls-strict-blocker", pa, "spec.mtls.mode", "caller %s (%s): %s." % (b["namespace"], b["pod"], b["reason"]),
                "mesh the caller's namespace %s, drop the flow, or keep its destination permissive (mesh_mtls.namespaces "
                "or mesh_mtls.ports with mode permissive); mesh_mtls_mode: permissive until then" % b["namespace"]))
    return out


def check_provider_declared(world):
    telemetry = world.spec.get("telemetry")
    config = world.context.get("istiod_mesh_config")
    if not telemetry or not telemetry["tracing"] or config is None:
        return []
    declared = [p.get("name") for p in config.get("extensionProviders") or [] if isinstance(p, dict)]
    name = telemetry["tracing"]["provider"]
    if name in declared:
        return []
    return [finding(
        "telemetry-provider-unknown", "Telemetry %s/%s" % (telemetry["root_namespace"], telemetry["name"]),
        "spec.tracing[0].providers[0].name",
        "tracing provider %r is not declared in istiod's mesh config (declared: %s); the sidecars send no traces."
        % (name, ", ".join(d for d in declared if d) or "none"),
        "install istiod with the provider in its Helm values (eco2.mesh.istiod puts mesh_telemetry.tracing into "
        "meshConfig.extensionProviders), then re-run")]


def _pod(end, spec):
    labels = dict(end["pod_labels"])
    if not labels:
        for d in spec["domains"]:
            if d["namespace"] == end["namespace"]:
                labels = dict(d["pod_labels"] or {"app": d["service"]})
                break
    return {"namespace": end["namespace"], "labels": labels}


def _flow_findings(world, policies, where, fix):
    out = []
    flows = telemetry_flows(world.spec)
    for flow, src, dst, blocked in blocked_flows(flows, lambda end: _pod(end, world.spec), policies, world.namespaces):
        out.append(finding(
            "telemetry-flow-blocked", "Namespace %s" % dst["namespace"], "NetworkPolicy",
            "%s: %s/%s -> %s/%s on TCP %s is blocked %s: %s." % (
                flow["name"], src["namespace"], netpol_labels(src), dst["namespace"], netpol_labels(dst), flow["port"],
                where, "; ".join(blocked)), fix))
    return out


def netpol_labels(pod):
    return ",".join("%s=%s" % kv for kv in sorted(pod["labels"].items())) or "*"


def check_flows_live(world):
    policies = world.context.get("telemetry_network_policies")
    if not world.spec.get("telemetry") or policies is None:
        return []
    return _flow_findings(world, policies, "by the NetworkPolicies on the cluster",
                          "apply the network-policies bundle (wave 7, tag network_policies) with this mesh_telemetry "
                          "first: it opens both sides of every telemetry flow")


def check_flows_bundle(world):
    if not world.spec.get("telemetry"):
        return []
    policies = [o for o in world.all if o.get("kind") == "NetworkPolicy"]
    return _flow_findings(world, policies, "by the NetworkPolicies after this apply",
                          "correct mesh_telemetry's namespaces and pod_labels, or the policies that isolate them")


CHECKS = (check_strict_blockers, check_provider_declared, check_flows_live)
POLICY_CHECKS = (check_flows_bundle,)


def read_cluster(kube, spec, context):
    """Fill the context keys above from the cluster (kube: module_utils.kube client). Returns {kind: count}."""
    import yaml  # istiod's mesh config is YAML; PyYAML comes with ansible-core on the controller

    read = {}
    if spec.get("mtls"):
        context["pods"] = kube.list_objects("v1", "Pod")
        read["Pod"] = len(context["pods"])
    if spec.get("telemetry"):
        context["telemetry_network_policies"] = kube.list_objects("networking.k8s.io/v1", "NetworkPolicy")
        read["NetworkPolicy"] = len(context["telemetry_network_policies"])
        config_map = kube.get_object("v1", "ConfigMap", "istio", spec["istiod"]["namespace"])
        mesh = yaml.safe_load(((config_map or {}).get("data") or {}).get("mesh") or "") or {}
        context["istiod_mesh_config"] = mesh if isinstance(mesh, dict) else {}
    return read
