# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks after an Istio install (mesh_istio_verify): CRDs, istiod and its webhooks, the gateway.

`run(params, kube)` returns (results, out): one {name, status, message} per check, plus what was
read (deployments, gateway pods, the Service). `kube()` gives the client.
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.check_results import ChecksStopped
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm, k8s_objects


WEBHOOK_KINDS = {"mutating": "MutatingWebhookConfiguration", "validating": "ValidatingWebhookConfiguration"}


def deployment_check(name, dep):
    """(ok, message, summary) for a Deployment dict or None."""
    if dep is None:
        return False, "Deployment %s not found" % name, None
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    available = int(status.get("availableReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    summary = {"replicas": want, "available": available, "ready": ready}
    cond = {c.get("type"): c for c in status.get("conditions") or []}
    avail_cond = cond.get("Available") or {}
    if available >= max(want, 1) and str(avail_cond.get("status", "True")) == "True":
        return True, "%d/%d replicas available" % (available, want), summary
    reason = avail_cond.get("message") or "waiting for pods"
    return False, "%d/%d replicas available (%s)" % (available, want, reason), summary


def placement_check(pods, nodes_by_name, node_labels):
    wanted = ", ".join("%s=%s" % kv for kv in sorted(node_labels.items()))
    placed, wrong, unscheduled = [], [], []
    for pod in pods:
        name = pod["metadata"]["name"]
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            unscheduled.append(name)
            continue
        labels = ((nodes_by_name.get(node) or {}).get("metadata") or {}).get("labels") or {}
        if k8s_objects.labels_match(node_labels, labels):
            placed.append("%s on %s" % (name, node))
        else:
            wrong.append("%s on %s" % (name, node))
    if not pods:
        return False, "no gateway pod found"
    if wrong:
        return False, "gateway pod(s) on nodes without %s: %s" % (wanted, ", ".join(wrong))
    if unscheduled:
        return False, "gateway pod(s) not scheduled: %s" % ", ".join(unscheduled)
    return True, "%d pod(s) on nodes with %s: %s" % (len(placed), wanted, ", ".join(placed))


def service_check(svc, want_type, want_ports):
    if svc is None:
        return False, "Service not found", None
    spec = svc.get("spec") or {}
    ports = [{k: p.get(k) for k in ("name", "port", "nodePort") if p.get(k) is not None} for p in spec.get("ports") or []]
    summary = {"type": spec.get("type"), "ports": ports}
    problems = []
    if spec.get("type") != want_type:
        problems.append("type is %s, expected %s" % (spec.get("type"), want_type))
    by_name = {p.get("name"): p for p in ports}
    for want in want_ports:
        have = by_name.get(want["name"])
        if have is None:
            problems.append("port %s/%s missing" % (want["name"], want["port"]))
            continue
        if int(have.get("port", 0)) != int(want["port"]):
            problems.append("port %s is %s, expected %s" % (want["name"], have.get("port"), want["port"]))
        if want_type == "NodePort" and not have.get("nodePort"):
            problems.append("port %s has no nodePort" % want["name"])
        if want.get("node_port") and int(have.get("nodePort") or 0) != int(want["node_port"]):
            problems.append("port %s has nodePort %s, expected %s" % (want["name"], have.get("nodePort"), want["node_port"]))
    if problems:
        return False, "; ".join(problems), summary
    shown = ", ".join("%s %s%s" % (p.get("name"), p.get("port"), "->%s" % p["nodePort"] if p.get("nodePort") else "")
                      for p in ports)
    return True, "%s with ports %s" % (spec.get("type"), shown), summary


def crds_check(expected, crds, base_release, namespace):
    by_name = {(c.get("metadata") or {}).get("name"): c for c in crds}
    missing = [name for name in expected if name not in by_name]
    unestablished, foreign = [], []
    for name in expected:
        crd = by_name.get(name)
        if crd is None:
            continue
        conds = (crd.get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Established" and str(c.get("status")) == "True" for c in conds):
            unestablished.append(name)
        ann = (crd.get("metadata") or {}).get("annotations") or {}
        if ann.get("meta.helm.sh/release-name") != base_release or ann.get("meta.helm.sh/release-namespace") != namespace:
            foreign.append(name)
    problems = []
    if missing:
        problems.append("missing: %s" % ", ".join(missing))
    if unestablished:
        problems.append("not Established: %s" % ", ".join(unestablished))
    if foreign:
        problems.append("not owned by release %s/%s: %s" % (namespace, base_release, ", ".join(foreign)))
    if problems:
        return False, "; ".join(problems)
    return True, "%d CRDs installed, Established, owned by %s/%s" % (len(expected), namespace, base_release)


def run(p, kube):
    ns = p["namespace"]
    results, out = [], {"deployments": {}}

    def record(name, ok, message):
        results.append({"name": name, "status": "ok" if ok else "fail", "message": message})

    kube = kube()
    try:
        if "crds" in p["components"]:
            ok, msg = crds_check(p["crds"], kube.list_objects("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
                                 p["base_release"], ns)
            record("crds", ok, msg)
        if "istiod" in p["components"]:
            name = p["istiod_deployment"]
            ok, msg, summary = deployment_check(name, kube.get_object("apps/v1", "Deployment", name, ns))
            out["deployments"][name] = summary
            record("deployment/%s" % name, ok, msg)
            for hook in p["webhooks"]:
                kind = WEBHOOK_KINDS[hook["kind"]]
                found = kube.get_object("admissionregistration.k8s.io/v1", kind, hook["name"]) is not None
                record("webhook/%s" % hook["name"], found, "%s %s %s" % (kind, hook["name"], "exists" if found else "not found"))
        if "gateway" in p["components"]:
            name = p["gateway_deployment"]
            ok, msg, summary = deployment_check(name, kube.get_object("apps/v1", "Deployment", name, ns))
            out["deployments"][name] = summary
            record("deployment/%s" % name, ok, msg)
            labels = p["gateway_pod_labels"] or istio_helm.gateway_pod_labels(name)
            selector = ",".join("%s=%s" % kv for kv in sorted(labels.items()))
            pods = [pod for pod in kube.list_objects("v1", "Pod", namespace=ns, label_selector=selector)
                    if not (pod.get("metadata") or {}).get("deletionTimestamp")]
            nodes = {n["metadata"]["name"]: n for n in kube.list_objects("v1", "Node")}
            out["gateway_pods"] = [{"name": pod["metadata"]["name"], "node": (pod.get("spec") or {}).get("nodeName"),
                                    "phase": (pod.get("status") or {}).get("phase")} for pod in pods]
            ok, msg = placement_check(pods, nodes, p["gateway_node_labels"])
            record("gateway_placement", ok, msg)
            ok, msg, svc = service_check(kube.get_object("v1", "Service", name, ns),
                                         p["gateway_service_type"], p["gateway_service_ports"])
            if svc is not None:
                out["service"] = svc
            record("service/%s" % name, ok, msg)
    except Exception as exc:  # API errors come in many types; report them as a failed verification
        raise ChecksStopped("verification could not read the cluster: %s" % exc, results)
    return results, out
