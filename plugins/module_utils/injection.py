# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sidecar injection as data: which namespaces to relabel and which Deployments to restart.

Pure functions over plain dicts; the module `mesh_injection` reads the cluster once (one list per
kind, every namespace at once), asks these functions what to write, and writes only that.
"""
from __future__ import annotations

import time

from ansible_collections.eco2.mesh.plugins.module_utils.sidecar import namespace_report

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def _meta(obj):
    return obj.get("metadata") or {}


def missing_namespaces(namespaces, targets):
    """Targets that are not among the cluster's namespaces, in the order given."""
    present = {_meta(ns).get("name") for ns in namespaces or []}
    return [name for name in targets if name not in present]


def relabel_plan(namespaces, targets, want):
    """Per target namespace whose labels differ from `want` (None: the label must be absent): before and after.

    Only these are written: a patch that changes nothing is still a write.
    """
    labels_of = {_meta(ns).get("name"): dict(_meta(ns).get("labels") or {}) for ns in namespaces or []}
    plan = []
    for name in targets:
        before = labels_of.get(name)
        if before is None:
            continue
        after = dict(before)
        for key, value in want.items():
            if value is None:
                after.pop(key, None)
            else:
                after[key] = value
        if after != before:
            plan.append({"name": name, "before": before, "after": after})
    return plan


def label_patch(want):
    """JSON merge patch that sets the wanted labels (a null value removes one)."""
    return {"metadata": {"labels": dict(want)}}


def restart_patch(timestamp):
    """The patch `kubectl rollout restart` makes: a new pod-template annotation, hence a new ReplicaSet."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: timestamp}}}}}


def _by_namespace(objects):
    out = {}
    for obj in objects or []:
        out.setdefault(_meta(obj).get("namespace"), []).append(obj)
    return out


def namespace_reports(targets, pods, replicasets, deployments):
    """`sidecar.namespace_report` for each target, from cluster-wide lists of the three kinds."""
    pods, replicasets, deployments = _by_namespace(pods), _by_namespace(replicasets), _by_namespace(deployments)
    return [namespace_report(ns, pods.get(ns, []), replicasets.get(ns, []), deployments.get(ns, [])) for ns in targets]


def read_reports(kube, targets):
    """Sidecar reports of the targets from one cluster-wide list per kind (not three calls per namespace)."""
    return namespace_reports(targets, kube.list_objects("v1", "Pod"), kube.list_objects("apps/v1", "ReplicaSet"),
                             kube.list_objects("apps/v1", "Deployment"))


def wait_ready(kube, targets, timeout, delay, reports=None):
    """Look again every `delay` s until every target is ready or the next look would pass `timeout`: (reports, waited s)."""
    start = time.monotonic()
    reports = read_reports(kube, targets) if reports is None else reports
    while not all(r["ready"] for r in reports) and time.monotonic() - start + delay <= timeout:
        time.sleep(delay)
        reports = read_reports(kube, targets)
    return reports, round(time.monotonic() - start, 1)


def restart_list(reports):
    """Deployments whose pods lack the sidecar, as {namespace, deployment}."""
    return [{"namespace": r["namespace"], "deployment": d} for r in reports for d in r["restart"]]
