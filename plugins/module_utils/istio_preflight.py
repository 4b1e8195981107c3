# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Istio preflight checks (mesh_preflight): what they test and what they say.

`run(params, kube)` returns (results, out): one {name, status, message} per check, plus data
(Kubernetes version, placement). `kube` is called only when a check needs the cluster.
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.check_results import ChecksStopped
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm, k8s_objects, istio_placement, istio_versions, mesh_spec


ALL_CHECKS = ["kubernetes_version", "placement", "crds", "gateway_selector", "pdb"]


def crd_findings(crds, base_release, namespace):
    """Istio CRDs that Helm release base_release in namespace does not own."""
    problems = []
    for crd in crds:
        meta = crd.get("metadata") or {}
        group = (crd.get("spec") or {}).get("group") or meta.get("name", "").split(".", 1)[-1]
        if not str(group).endswith("istio.io"):
            continue
        ann = meta.get("annotations") or {}
        owner = ann.get("meta.helm.sh/release-name")
        owner_ns = ann.get("meta.helm.sh/release-namespace")
        if owner != base_release or owner_ns != namespace:
            problems.append("%s (owner: %s)" % (meta.get("name"), "%s/%s" % (owner_ns, owner) if owner else "none"))
    return sorted(problems)


def pdb_blocks_drain(values):
    pilot = (values or {}).get("pilot") or {}
    pdb = ((values or {}).get("global") or {}).get("defaultPodDisruptionBudget") or {}
    if pdb.get("enabled") is False:
        return False
    if pilot.get("autoscaleEnabled", True):
        return int(pilot.get("autoscaleMin", 1)) <= 1
    return int(pilot.get("replicaCount", 1)) <= 1


def run(p, kube):
    """The checks of p["checks"] for the releases in p; `kube()` gives a Kube when the cluster is needed."""
    checks = p["checks"]
    results = []
    out = {}

    def record(name, status, message):
        results.append({"name": name, "status": status, "message": message})

    try:
        istio_versions.parse_version(p["istio_version"])
    except ValueError as exc:
        raise ChecksStopped("istio_version: %s" % exc, results)

    releases = []
    if p["istiod"] is not None:
        releases.append(("istiod", p["istiod"]))
    if p["gateway"] is not None:
        releases.append(("gateway", p["gateway"]))

    # Pure checks first: they need no cluster.
    if "gateway_selector" in checks and p["gateway"] is not None:
        gw = p["gateway"]
        gw["selector"] = gw["selector"] or mesh_spec.default_gateway_selector(gw["release"])
        labels = istio_helm.gateway_pod_labels(gw["release"], (gw["values"] or {}).get("labels"))
        shown = ", ".join("%s=%s" % kv for kv in sorted(labels.items()))
        wanted = ", ".join("%s=%s" % kv for kv in sorted((gw["selector"] or {}).items()))
        if k8s_objects.labels_match(gw["selector"], labels):
            record("gateway_selector", "ok", "gateway pods (%s) match the Gateway selector %s" % (shown, wanted))
        else:
            record("gateway_selector", "fail",
                   "release %s gives gateway pods the labels %s, which the routing Gateway selector %s does not match; "
                   "set the gateway labels (values.labels) or mesh_gateway_selector" % (gw["release"], shown, wanted))

    if "pdb" in checks and p["istiod"] is not None:
        if pdb_blocks_drain(p["istiod"]["values"]):
            msg = ("istiod runs a single replica with a PodDisruptionBudget (minAvailable 1): `kubectl drain` of its node "
                   "will block until istiod is scaled up or the PDB is disabled")
            record("pdb", "warn", msg)
        else:
            record("pdb", "ok", "istiod's PodDisruptionBudget does not block draining its node")

    needs_cluster = any(c in checks for c in ("kubernetes_version", "placement", "crds"))
    if needs_cluster:
        kube = kube()
        try:
            if "kubernetes_version" in checks:
                major, minor, git_version = kube.version()
                out["kubernetes_version"] = git_version
                ok, msg = istio_versions.check_kubernetes_version(p["istio_version"], major, minor)
                record("kubernetes_version", "ok" if ok else "fail", msg)
            if "placement" in checks and releases:
                nodes = kube.list_objects("v1", "Node")
                out["placement"] = {}
                for chart, rel in releases:
                    placement = istio_placement.placement_from_values(chart, rel["values"])
                    res = istio_placement.check_placement(rel["release"], placement, nodes)
                    out["placement"][rel["release"]] = {"candidates": res["candidates"], "nodes": res["nodes"]}
                    record("placement/%s" % rel["release"], "ok" if res["ok"] else "fail", res["message"])
            if "crds" in checks:
                crds = kube.list_objects("apiextensions.k8s.io/v1", "CustomResourceDefinition")
                foreign = crd_findings(crds, p["base_release"], p["namespace"])
                if foreign:
                    record("crds", "fail",
                           "Istio CRDs exist that Helm release %s/%s does not own, so its install would fail: %s. "
                           "Adopt them (annotate meta.helm.sh/release-name=%s, meta.helm.sh/release-namespace=%s, "
                           "label app.kubernetes.io/managed-by=Helm) or delete them"
                           % (p["namespace"], p["base_release"], ", ".join(foreign), p["base_release"], p["namespace"]))
                else:
                    record("crds", "ok", "no Istio CRD owned by anything but %s/%s" % (p["namespace"], p["base_release"]))
        except Exception as exc:  # API errors come in many types; report them as a failed preflight
            raise ChecksStopped("preflight could not read the cluster: %s" % exc, results)
    return results, out
