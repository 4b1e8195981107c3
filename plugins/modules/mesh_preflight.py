#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_preflight
short_description: Check a cluster before installing the Istio releases
version_added: 0.1.0
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
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
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
extends_documentation_fragment:
  - eco2.mesh.checks
kubernetes_version:
  description: The API server's version.
  returned: when the kubernetes_version check ran
  type: str
  sample: v1.31.4
checks:
  description: One entry per check with its outcome; a check's name is for example C(placement/istiod).
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
  sample:
    - "[ok] kubernetes_version: Kubernetes 1.31 is supported by Istio 1.24 (1.28-1.31)"
"""


from ansible_collections.eco2.mesh.plugins.module_utils.kube import kube_module
from ansible_collections.eco2.mesh.plugins.module_utils import check_results, istio_helm, istio_preflight


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
        checks=dict(type="list", elements="str", choices=istio_preflight.ALL_CHECKS, default=list(istio_preflight.ALL_CHECKS)),
    )
    check_results.run(kube_module(argument_spec), istio_preflight.run, "Istio preflight failed", lambda r: r["message"])


if __name__ == "__main__":
    main()
