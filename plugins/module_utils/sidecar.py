# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sidecar status of workloads: which pods carry istio-proxy, and why not.

Pure functions over plain dicts (Kubernetes objects as returned by the API),
so the module stays thin and the logic is unit tested without a cluster.
"""
from __future__ import annotations

SIDECAR = "istio-proxy"
INJECTED_ANNOTATION = "sidecar.istio.io/status"


def _owner(obj, kind):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return ref.get("name")
    return None


def _condition(obj, ctype):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def pod_report(pod):
    """One pod's readiness as `ready/total`, whether it has the sidecar, and the reason when not 2/2-ready."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    has_sidecar = SIDECAR in containers
    # istiod's injector records what it injected; a hand-written istio-proxy container has no such record.
    injected = INJECTED_ANNOTATION in (meta.get("annotations") or {})
    reason = ""
    scheduled = _condition(pod, "PodScheduled")
    if status.get("phase") == "Pending" and scheduled and scheduled.get("status") == "False":
        reason = "Pending: %s" % (scheduled.get("message") or scheduled.get("reason") or "unschedulable")
    elif status.get("phase") not in (None, "Running", "Succeeded"):
        reason = "phase %s" % status.get("phase")
    elif not has_sidecar:
        reason = "no %s container: the pod was created before injection was enabled, or injection is off for it" % SIDECAR
    elif not injected:
        reason = "%s was not injected by istiod (no %s annotation)" % (SIDECAR, INJECTED_ANNOTATION)
    elif ready < len(containers):
        not_ready = [c.get("name") for c in statuses if not c.get("ready")]
        reason = "containers not ready: %s" % ", ".join(sorted(not_ready) or containers)
    return {
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "node": spec.get("nodeName"),
        "ready": "%d/%d" % (ready, len(containers)),
        "sidecar": has_sidecar,
        "injected": injected,
        "ok": has_sidecar and injected and ready == len(containers) and not reason,
        "reason": reason,
        "replicaset": _owner(pod, "ReplicaSet"),
    }


def deployment_of(replicaset_name, replicasets):
    for rs in replicasets:
        if (rs.get("metadata") or {}).get("name") == replicaset_name:
            return _owner(rs, "Deployment")
    return None


def replicaset_failures(replicasets):
    """Deployment name -> message for ReplicaSets that could not create pods (e.g. the webhook refused)."""
    failures = {}
    for rs in replicasets:
        cond = _condition(rs, "ReplicaFailure")
        if cond and cond.get("status") == "True":
            deploy = _owner(rs, "Deployment") or (rs.get("metadata") or {}).get("name")
            failures[deploy] = cond.get("message") or cond.get("reason") or "ReplicaFailure"
    return failures


def namespace_report(namespace, pods, replicasets, deployments):
    """Pods of one namespace with their sidecar state, and the Deployments that need a restart.

    A Deployment needs a restart when any of its current pods lacks the sidecar; one
    whose pods all carry it is left alone, so a second run restarts nothing.
    """
    pod_rows = []
    needs_restart = set()
    for pod in pods:
        row = pod_report(pod)
        row["deployment"] = deployment_of(row.pop("replicaset"), replicasets)
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue  # terminating after a restart; its replacement is listed
        pod_rows.append(row)
        if not row["sidecar"] and row["deployment"] and not row["reason"].startswith("Pending"):
            needs_restart.add(row["deployment"])
    failures = replicaset_failures(replicasets)
    deploy_rows = []
    for deploy in deployments:
        name = deploy["metadata"]["name"]
        dstatus = deploy.get("status") or {}
        want = (deploy.get("spec") or {}).get("replicas", 1)
        deploy_rows.append({
            "name": name,
            "replicas": want,
            "available": dstatus.get("availableReplicas", 0) or 0,
            "failure": failures.get(name, ""),
        })
    pods_ok = all(r["ok"] for r in pod_rows)
    deploys_ok = all(d["available"] >= d["replicas"] and not d["failure"] for d in deploy_rows)
    return {
        "namespace": namespace,
        "pods": sorted(pod_rows, key=lambda r: r["name"] or ""),
        "deployments": sorted(deploy_rows, key=lambda r: r["name"]),
        "restart": sorted(needs_restart),
        "ready": pods_ok and deploys_ok and bool(pod_rows or not deploy_rows),
    }


def summary_lines(reports):
    """Readable lines: one per namespace with its pods' ready counts, then the reason for each pod not 2/2."""
    lines = []
    for rep in reports:
        total = len(rep["pods"])
        good = sum(1 for p in rep["pods"] if p["ok"])
        pods = ", ".join("%s %s" % (p["name"], p["ready"]) for p in rep["pods"]) or "no pods"
        lines.append("%s: %d/%d pods with a ready sidecar injected by istiod%s (%s)" % (
            rep["namespace"], good, total, "" if rep["ready"] else " NOT READY", pods))
        for pod in rep["pods"]:
            if not pod["ok"]:
                lines.append("  %s %s on %s: %s" % (pod["name"], pod["ready"], pod["node"] or "-", pod["reason"]))
        for dep in rep["deployments"]:
            if dep["failure"]:
                lines.append("  deployment %s cannot create pods: %s" % (dep["name"], dep["failure"]))
    return lines
