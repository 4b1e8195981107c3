#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_preflight
short_description: Check a cluster before installing the Istio releases
version_added: 0.1.0
author:
  - eco2.mesh maintainers (@eco2-team)
description:
  - Read-only checks run before any Istio Helm release is installed, so a migration fails before it touches the cluster.
  - C(kubernetes_version) - the API server's Kubernetes version is in the range the Istio minor release supports.
  - C(placement) - for istiod and the ingress gateway, at least one Ready node satisfies the nodeSelector and required
    node affinity of the Helm values and tolerates every NoSchedule/NoExecute taint of that node. The failure names the
    missing label or the untolerated taint of every node considered.
  - C(crds) - no Istio CRD (group C(*.istio.io)) exists that is not owned by the C(base) release (Helm ownership
    annotations C(meta.helm.sh/release-name) and C(meta.helm.sh/release-namespace)); Helm would refuse to install over it.
  - C(gateway_selector) - the pod labels the gateway chart derives from the release name (C(app=<release>),
    C(istio=<release without istio->)) or from O(gateway.values) C(labels) match the selector the routing Gateway uses.
  - C(pdb) - warns when istiod runs one replica with its PodDisruptionBudget (C(minAvailable=1)), which blocks draining
    its node.
  - Never writes to the cluster.
extends_documentation_fragment:
  - eco2.mesh.kube
options:
  istio_version:
    description:
      - The Istio version about to be installed, for example C(1.24.1).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the Istio releases.
    type: str
    default: istio-system
  base_release:
    description:
      - Name of the Helm release that owns the Istio CRDs.
    type: str
    default: istio-base
  istiod:
    description:
      - The istiod release to check. Omit to skip its placement and PDB checks.
    type: dict
    suboptions:
      release:
        description:
          - Release name.
        type: str
        default: istiod
      values:
        description:
          - The Helm values the release will be installed with (placement is read from C(pilot.nodeSelector),
            C(pilot.tolerations) and C(pilot.affinity)).
        type: dict
        default: {}
  gateway:
    description:
      - The ingress gateway release to check. Omit to skip its placement and selector checks.
    type: dict
    suboptions:
      release:
        description:
          - Release name; also the Deployment and Service name, and the source of the pod labels.
        type: str
        default: istio-ingressgateway
      values:
        description:
          - The Helm values the release will be installed with (C(nodeSelector), C(tolerations), C(affinity), C(labels)).
        type: dict
        default: {}
      selector:
        description:
          - The selector of the routing Gateway (C(mesh_gateway_selector)) the gateway pods must match.
          - Unset means the chart's C(istio) label of the release (C(istio=ingressgateway) for C(istio-ingressgateway)).
        type: dict
  checks:
    description:
      - Which checks to run.
    type: list
    elements: str
    choices: [kubernetes_version, placement, crds, gateway_selector, pdb]
    default: [kubernetes_version, placement, crds, gateway_selector, pdb]
notes:
  - Supports check mode; the module is read-only in every mode.
  - The supported Kubernetes range per Istio minor follows istio.io "Supported Releases"
    (for example Istio 1.24 supports Kubernetes 1.28 to 1.31).
seealso:
  - module: eco2.mesh.mesh_istio_verify
"""

EXAMPLES = r"""
- name: Check the cluster before installing Istio 1.24.1
  eco2.mesh.mesh_preflight:
    istio_version: 1.24.1
    istiod:
      values: "{{ istiod_spec | eco2.mesh.istio_helm_values('istiod') }}"
    gateway:
      release: istio-ingressgateway
      values: "{{ gateway_spec | eco2.mesh.istio_helm_values('gateway') }}"
      selector:
        istio: ingressgateway

- name: Only check that the gateway node exists and is usable
  eco2.mesh.mesh_preflight:
    istio_version: 1.24.1
    checks: [placement]
    gateway:
      values:
        nodeSelector:
          role: ingress-gateway
        tolerations:
          - key: role
            operator: Equal
            value: ingress-gateway
            effect: NoSchedule
"""

RETURN = r"""
kubernetes_version:
  description: The API server's version.
  returned: when the kubernetes_version check ran
  type: str
  sample: v1.31.4
checks:
  description: One entry per check with its outcome.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Check name, for example C(placement/istiod).
      type: str
    status:
      description: C(ok), C(warn) or C(fail).
      type: str
    message:
      description: What was found.
      type: str
  sample:
    - name: placement/istio-ingressgateway
      status: ok
      message: "istio-ingressgateway can be scheduled (nodeSelector role=ingress-gateway) on: k8s-ingress-gateway"
placement:
  description: Per release, the nodes considered and why each cannot host it (empty list when it can).
  returned: when the placement check ran
  type: dict
  sample:
    istiod:
      candidates: [k8s-master]
      nodes:
        k8s-master: []
        k8s-api-auth: ["missing label role=control-plane", "untolerated taint domain=auth:NoSchedule"]
report:
  description: Human-readable lines, one per check.
  returned: always
  type: list
  elements: str
  sample:
    - "[ok] kubernetes_version: Kubernetes 1.31 is supported by Istio 1.24 (1.28-1.31)"
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eco2.mesh.plugins.module_utils.kube import KUBE_ARG_SPEC, client_from_module
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm, istio_placement, istio_versions, mesh_spec

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


def main():
    argument_spec = dict(
        istio_version=dict(type="str", required=True),
        namespace=dict(type="str", default="istio-system"),
        base_release=dict(type="str", default=istio_helm.DEFAULT_RELEASES["base"]),
        istiod=dict(type="dict", options=dict(
            release=dict(type="str", default="istiod"),
            values=dict(type="dict", default={}),
        )),
        gateway=dict(type="dict", options=dict(
            release=dict(type="str", default=istio_helm.DEFAULT_RELEASES["gateway"]),
            values=dict(type="dict", default={}),
            selector=dict(type="dict"),
        )),
        checks=dict(type="list", elements="str", choices=ALL_CHECKS, default=list(ALL_CHECKS)),
    )
    argument_spec.update(KUBE_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    checks = p["checks"]
    results = []
    out = {}

    def record(name, status, message):
        results.append({"name": name, "status": status, "message": message})

    try:
        istio_versions.parse_version(p["istio_version"])
    except ValueError as exc:
        module.fail_json(msg="istio_version: %s" % exc)

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
        if istio_helm.selector_matches(gw["selector"], labels):
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
            module.warn(msg)
        else:
            record("pdb", "ok", "istiod's PodDisruptionBudget does not block draining its node")

    needs_cluster = any(c in checks for c in ("kubernetes_version", "placement", "crds"))
    if needs_cluster:
        kube = client_from_module(module)
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
            module.fail_json(msg="preflight could not read the cluster: %s" % exc, checks=results,
                             report=["[%s] %s: %s" % (r["status"], r["name"], r["message"]) for r in results],
                             failed_checks=[r["name"] for r in results if r["status"] == "fail"])

    report = ["[%s] %s: %s" % (r["status"], r["name"], r["message"]) for r in results]
    failed = [r["name"] for r in results if r["status"] == "fail"]
    out.update(changed=False, checks=results, report=report, failed_checks=failed)
    if failed:
        module.fail_json(msg="Istio preflight failed: " + " | ".join(r["message"] for r in results if r["status"] == "fail"),
                         **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
