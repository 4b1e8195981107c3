#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_summary
short_description: One-page summary of the Istio migration, read from the cluster
version_added: 0.1.0
description:
  - Reads the cluster and reports where istiod and the ingress gateway run, the Helm releases and
    their chart versions, every route (host and match to destination), the NetworkPolicies per
    namespace and the sidecar status per meshed namespace.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - eco2.mesh.read_only
options:
  istio_namespace:
    description: Namespace of istiod, the gateway and their Helm releases.
    type: str
    default: istio-system
  istiod_selector:
    description: Labels of the istiod pods.
    type: dict
    default: {app: istiod}
  gateway_selector:
    description:
      - Labels of the ingress gateway pods.
      - Unset means the chart's C(istio) label of O(gateway_release) (C(istio=ingressgateway)).
    type: dict
  gateway_release:
    description: Helm release of the ingress gateway; names its pods' labels when O(gateway_selector) is unset.
    type: str
    default: istio-ingressgateway
  namespaces:
    description: Meshed namespaces whose sidecar status is reported.
    type: list
    elements: str
    default: []
  policy_label_selector:
    description: Label selector of the NetworkPolicies to count.
    type: str
    default: app.kubernetes.io/managed-by=eco2.mesh
  findings:
    description: Findings from earlier checks to list at the end (strings).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Summarise the migration
  eco2.mesh.mesh_summary:
    namespaces: [auth, scan]
  register: summary

- name: Print it
  ansible.builtin.debug:
    msg: "{{ summary.report }}"
"""

RETURN = r"""
report:
  description: The summary as lines.
  returned: always
  type: list
  elements: str
istiod_nodes:
  description: Nodes running istiod pods, with the pod phase.
  returned: always
  type: list
  elements: str
gateway_nodes:
  description: Nodes running gateway pods, with the pod phase.
  returned: always
  type: list
  elements: str
releases:
  description: Deployed Helm releases in O(istio_namespace) (name, chart, version, revision).
  returned: always
  type: list
  elements: dict
routes:
  description: HTTP routes of every VirtualService (virtualservice, hosts, match, destination).
  returned: always
  type: list
  elements: dict
ext_authz:
  description: What goes through ext_authz - one row per operation of a CUSTOM AuthorizationPolicy (policy, provider,
    hosts, paths, number of public paths excepted).
  returned: always
  type: list
  elements: dict
mtls:
  description: The mesh-wide mTLS mode in force (the PeerAuthentication without selector in O(istio_namespace)) and
    every namespace or port exception, in one line.
  returned: always
  type: str
  sample: "mTLS: mesh-wide PERMISSIVE (istio-system/default); exceptions: none"
policies:
  description: NetworkPolicy count per namespace.
  returned: always
  type: dict
reach:
  description:
    - Per listed namespace, what its pods may reach (out) and be reached by (in) under every NetworkPolicy in force
      (ours and others) - C(open), or C(only) followed by the allowed peers and ports.
  returned: always
  type: list
  elements: str
sidecars:
  description: Per-namespace sidecar lines (see M(eco2.mesh.mesh_sidecar_status)).
  returned: always
  type: list
  elements: str
sidecars_ready:
  description: Whether every pod of every listed namespace runs with a ready sidecar.
  returned: always
  type: bool
"""

from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module, kube_module
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_reachability, mesh_spec, sidecar, summary


def main():
    argument_spec = dict(
        istio_namespace=dict(type="str", default="istio-system"),
        istiod_selector=dict(type="dict", default={"app": "istiod"}),
        gateway_selector=dict(type="dict"),
        gateway_release=dict(type="str", default=mesh_spec.DEFAULT_GATEWAY_RELEASE),
        namespaces=dict(type="list", elements="str", default=[]),
        policy_label_selector=dict(type="str", default="app.kubernetes.io/managed-by=eco2.mesh"),
        findings=dict(type="list", elements="str", default=[]),
    )
    module = kube_module(argument_spec)
    params = module.params
    params["gateway_selector"] = params["gateway_selector"] or mesh_spec.default_gateway_selector(params["gateway_release"])
    kube = client_from_module(module)
    istio_ns = params["istio_namespace"]
    istio_pods = kube.list_objects("v1", "Pod", namespace=istio_ns)
    pods = {ns: kube.list_objects("v1", "Pod", namespace=ns) for ns in params["namespaces"]}
    reports = [
        sidecar.namespace_report(ns, pods[ns], kube.list_objects("apps/v1", "ReplicaSet", namespace=ns),
                                 kube.list_objects("apps/v1", "Deployment", namespace=ns))
        for ns in params["namespaces"]
    ]
    all_policies = kube.list_objects("networking.k8s.io/v1", "NetworkPolicy")
    data = {
        "istiod_nodes": summary.pod_placement(istio_pods, params["istiod_selector"]),
        "gateway_nodes": summary.pod_placement(istio_pods, params["gateway_selector"]),
        "releases": summary.helm_releases(kube.list_objects("v1", "Secret", namespace=istio_ns,
                                                            label_selector="owner=helm")),
        "routes": summary.routes(kube.list_objects("networking.istio.io/v1", "VirtualService")),
        "ext_authz": summary.ext_authz(kube.list_objects("security.istio.io/v1", "AuthorizationPolicy")),
        "mtls": summary.mtls(kube.list_objects("security.istio.io/v1", "PeerAuthentication"), istio_ns),
        "policies": summary.policy_counts(kube.list_objects("networking.k8s.io/v1", "NetworkPolicy",
                                                            label_selector=params["policy_label_selector"])),
        "sidecars": sidecar.summary_lines(reports),
        "reach": mesh_reachability.open_lines(pods, all_policies),
        "findings": params["findings"],
    }
    module.exit_json(changed=False, report=summary.summary_lines(data),
                     sidecars_ready=all(r["ready"] for r in reports), **data)


if __name__ == "__main__":
    main()
