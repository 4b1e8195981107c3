#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_sidecar_status
short_description: Report which pods carry a ready Istio sidecar, and why the others do not
version_added: 0.1.0
description:
  - Reads the Pods, ReplicaSets and Deployments of the given namespaces and reports, per pod, its
    ready containers (for example V(2/2)), whether it has the C(istio-proxy) container and, when it is not
    ready with a sidecar, why (Pending with the scheduler's reason, the injection webhook refused the
    pod, containers not ready, created before injection was enabled).
  - Lists the Deployments whose pods lack the sidecar, which a restart would fix.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - eco2.mesh.read_only
options:
  namespaces:
    description: Namespaces to inspect.
    type: list
    elements: str
    required: true
  fail_when_not_ready:
    description: Fail (with the report) unless every pod in every namespace runs with a ready sidecar.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to keep looking until every pod runs with a ready sidecar; V(0) looks once.
      - The wait runs inside the module, which stops when the ansible-playbook that started it is killed.
    type: int
    default: 0
  wait_delay:
    description: Seconds between two looks while waiting.
    type: int
    default: 3
"""

EXAMPLES = r"""
- name: Sidecar status of the domain namespaces
  eco2.mesh.mesh_sidecar_status:
    namespaces: [auth, scan, character]
  register: sidecars

- name: Show it
  ansible.builtin.debug:
    msg: "{{ sidecars.report }}"
"""

RETURN = r"""
ready:
  description: Whether every pod of every namespace runs 2/2 with the sidecar and every Deployment is available.
  returned: always
  type: bool
restart:
  description: Deployments whose pods lack the sidecar.
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "scan", "deployment": "scan-api"}]
namespaces:
  description: Per namespace, its pods (name, node, ready, sidecar, ok, reason, deployment) and deployments.
  returned: always
  type: list
  elements: dict
report:
  description: The same as readable lines.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.eco2.mesh.plugins.module_utils import controller_watch
from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module, kube_module
from ansible_collections.eco2.mesh.plugins.module_utils.injection import restart_list, wait_ready
from ansible_collections.eco2.mesh.plugins.module_utils.sidecar import summary_lines


def main():
    argument_spec = dict(
        namespaces=dict(type="list", elements="str", required=True),
        fail_when_not_ready=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=0),
        wait_delay=dict(type="int", default=3),
    )
    module = kube_module(argument_spec)
    if module.params["wait_timeout"] > 0:
        # Before anything slow: once ansible-playbook is gone its orphaned worker would pass for the controller.
        controller_watch.watch()
    kube = client_from_module(module)
    reports = wait_ready(kube, module.params["namespaces"], module.params["wait_timeout"], module.params["wait_delay"])[0]
    restart = restart_list(reports)
    ready = all(r["ready"] for r in reports)
    result = dict(changed=False, ready=ready, restart=restart, namespaces=reports, report=summary_lines(reports))
    if module.params["fail_when_not_ready"] and not ready:
        module.fail_json(msg="Not every pod runs with a ready sidecar:\n" + "\n".join(result["report"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
