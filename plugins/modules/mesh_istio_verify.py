#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_istio_verify
short_description: Verify an installed Istio control plane and ingress gateway
version_added: 0.1.0
author:
  - eco2.mesh maintainers (@eco2-team)
description:
  - Read-only checks after the Istio releases are installed, reported as lines a person can read and as data.
  - C(crds) - the Istio CRDs O(crds) exist, are Established and are owned by Helm release O(base_release).
  - C(istiod) - Deployment istiod is available (all replicas available) and the injection and validation webhooks exist.
  - C(gateway) - the gateway Deployment is available, its pods run only on nodes carrying O(gateway_node_labels),
    and its Service has the expected type and ports (with node ports when the type is C(NodePort)).
  - Fails with every failed check in the message.
extends_documentation_fragment:
  - eco2.mesh.kube
options:
  namespace:
    description:
      - Namespace of the Istio releases.
    type: str
    default: istio-system
  components:
    description:
      - What to verify.
    type: list
    elements: str
    choices: [crds, istiod, gateway]
    default: [istiod, gateway]
  base_release:
    description:
      - Helm release that must own the CRDs (checked with the C(crds) component).
    type: str
    default: istio-base
  crds:
    description:
      - Names of the CRDs the C(crds) component expects.
    type: list
    elements: str
    default: []
  istiod_deployment:
    description:
      - Name of the istiod Deployment.
    type: str
    default: istiod
  webhooks:
    description:
      - Webhook configurations istiod must have (checked with the C(istiod) component).
    type: list
    elements: dict
    default:
      - kind: mutating
        name: istio-sidecar-injector
      - kind: validating
        name: istio-validator-istio-system
    suboptions:
      kind:
        description:
          - C(mutating) for a MutatingWebhookConfiguration, C(validating) for a ValidatingWebhookConfiguration.
        type: str
        required: true
        choices: [mutating, validating]
      name:
        description:
          - Object name.
        type: str
        required: true
  gateway_deployment:
    description:
      - Name of the gateway Deployment and Service (the gateway release name).
    type: str
    default: istio-ingressgateway
  gateway_pod_labels:
    description:
      - Labels selecting the gateway pods. Defaults to the labels the chart derives from O(gateway_deployment)
        (C(app=<name>), C(istio=<name without istio->)).
    type: dict
  gateway_node_labels:
    description:
      - Labels every node running a gateway pod must carry.
    type: dict
    default:
      role: ingress-gateway
  gateway_service_type:
    description:
      - Expected type of the gateway Service.
    type: str
    default: NodePort
  gateway_service_ports:
    description:
      - Ports the gateway Service must expose.
    type: list
    elements: dict
    default:
      - name: status-port
        port: 15021
      - name: http2
        port: 80
      - name: https
        port: 443
    suboptions:
      name:
        description:
          - Port name.
        type: str
        required: true
      port:
        description:
          - Service port.
        type: int
        required: true
      node_port:
        description:
          - Expected fixed node port; any assigned node port is accepted when omitted.
        type: int
notes:
  - Supports check mode; the module is read-only in every mode.
seealso:
  - module: eco2.mesh.mesh_preflight
"""

EXAMPLES = r"""
- name: Verify istiod and the ingress gateway
  eco2.mesh.mesh_istio_verify:
  register: istio_verify

- name: Show the report
  ansible.builtin.debug:
    msg: "{{ istio_verify.report }}"

- name: Verify only the gateway, with a fixed node port for http2
  eco2.mesh.mesh_istio_verify:
    components: [gateway]
    gateway_service_ports:
      - name: status-port
        port: 15021
      - name: http2
        port: 80
        node_port: 30080
      - name: https
        port: 443
"""

RETURN = r"""
report:
  description: Human-readable lines, one per check.
  returned: always
  type: list
  elements: str
  sample:
    - "[ok] deployment/istiod: 1/1 replicas available"
    - "[ok] gateway_placement: 1 pod(s) on nodes with role=ingress-gateway: istio-ingressgateway-5d9c-x2 on k8s-ingress-gateway"
checks:
  description: One entry per check (C(name), C(status) C(ok) or C(fail), C(message)).
  returned: always
  type: list
  elements: dict
failed_checks:
  description: Names of the failed checks.
  returned: always
  type: list
  elements: str
deployments:
  description: Replica counts per Deployment checked.
  returned: always
  type: dict
  sample:
    istiod: {replicas: 1, available: 1, ready: 1}
gateway_pods:
  description: Gateway pods and the node each runs on.
  returned: when the gateway component is checked
  type: list
  elements: dict
  sample:
    - {name: istio-ingressgateway-5d9c-x2, node: k8s-ingress-gateway, phase: Running}
service:
  description: Type and ports of the gateway Service.
  returned: when the gateway component is checked and the Service exists
  type: dict
  sample:
    type: NodePort
    ports: [{name: http2, port: 80, nodePort: 31380}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eco2.mesh.plugins.module_utils.kube import KUBE_ARG_SPEC, client_from_module
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm

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
        if istio_helm.selector_matches(node_labels, labels):
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


def main():
    argument_spec = dict(
        namespace=dict(type="str", default="istio-system"),
        components=dict(type="list", elements="str", choices=["crds", "istiod", "gateway"], default=["istiod", "gateway"]),
        base_release=dict(type="str", default=istio_helm.DEFAULT_RELEASES["base"]),
        crds=dict(type="list", elements="str", default=[]),
        istiod_deployment=dict(type="str", default="istiod"),
        webhooks=dict(type="list", elements="dict", options=dict(
            kind=dict(type="str", required=True, choices=["mutating", "validating"]),
            name=dict(type="str", required=True),
        ), default=[{"kind": "mutating", "name": "istio-sidecar-injector"},
                    {"kind": "validating", "name": "istio-validator-istio-system"}]),
        gateway_deployment=dict(type="str", default=istio_helm.DEFAULT_RELEASES["gateway"]),
        gateway_pod_labels=dict(type="dict"),
        gateway_node_labels=dict(type="dict", default={"role": "ingress-gateway"}),
        gateway_service_type=dict(type="str", default="NodePort"),
        gateway_service_ports=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            port=dict(type="int", required=True),
            node_port=dict(type="int"),
        ), default=[{"name": "status-port", "port": 15021}, {"name": "http2", "port": 80},
                    {"name": "https", "port": 443}]),
    )
    argument_spec.update(KUBE_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    ns = p["namespace"]
    results, out = [], {"deployments": {}}

    def record(name, ok, message):
        results.append({"name": name, "status": "ok" if ok else "fail", "message": message})

    kube = client_from_module(module)
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
        module.fail_json(msg="verification could not read the cluster: %s" % exc, checks=results)

    report = ["[%s] %s: %s" % (r["status"], r["name"], r["message"]) for r in results]
    failed = [r["name"] for r in results if r["status"] == "fail"]
    out.update(changed=False, checks=results, report=report, failed_checks=failed)
    if failed:
        module.fail_json(msg="Istio verification failed: " + " | ".join(
            "%s: %s" % (r["name"], r["message"]) for r in results if r["status"] == "fail"), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
