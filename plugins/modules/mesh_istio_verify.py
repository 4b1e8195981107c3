#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_istio_verify
short_description: Verify an installed Istio control plane and ingress gateway
version_added: 0.1.0
description:
  - Read-only checks after the Istio releases are installed, reported as lines a person can read and as data.
  - C(crds) - the Istio CRDs O(crds) exist, are Established and are owned by Helm release O(base_release).
  - C(istiod) - Deployment istiod is available (all replicas available) and the injection and validation webhooks exist.
  - C(gateway) - the gateway Deployment is available, its pods run only on nodes carrying O(gateway_node_labels),
    and its Service has the expected type and ports (with node ports when the type is C(NodePort)).
  - Fails with every failed check in the message.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
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
extends_documentation_fragment:
  - eco2.mesh.checks
report:
  sample:
    - "[ok] deployment/istiod: 1/1 replicas available"
    - "[ok] gateway_placement: 1 pod(s) on nodes with role=ingress-gateway: istio-ingressgateway-5d9c-x2 on k8s-ingress-gateway"
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


from ansible_collections.eco2.mesh.plugins.module_utils.kube import kube_module
from ansible_collections.eco2.mesh.plugins.module_utils import check_results, istio_helm, istio_verify


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
    check_results.run(kube_module(argument_spec), istio_verify.run, "Istio verification failed",
                      lambda r: "%s: %s" % (r["name"], r["message"]))


if __name__ == "__main__":
    main()
