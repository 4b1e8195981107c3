#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_injection
short_description: Turn Istio sidecar injection on or off for namespaces, restart what lacks the sidecar, wait for 2/2
version_added: 0.2.0
description:
  - Reads the Namespaces, Pods, ReplicaSets and Deployments once (one list per kind for every namespace).
  - Fails before any write when a namespace of O(namespaces) does not exist.
  - Patches the labels of only the namespaces whose labels differ from O(labels).
  - With O(state=present) and O(restart=true), restarts (like C(kubectl rollout restart)) only the Deployments
    whose current pods lack the C(istio-proxy) container, then, with O(wait=true), waits until every pod of every
    namespace runs with a ready sidecar injected by istiod, and reports per pod why not when the time is up.
  - A second run with nothing to change writes nothing.
  - The wait stops early when the ansible-playbook that started the module is gone.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  namespaces:
    description: Namespaces to mesh (or unmesh).
    type: list
    elements: str
    required: true
  labels:
    description:
      - "The injection labels each namespace ends with; a null value removes the label, for example
        C({istio-injection: enabled, istio.io/rev: null})."
    type: dict
    required: true
  state:
    description: V(present) also restarts and waits; V(absent) only relabels (pods keep their sidecar until restarted).
    type: str
    choices: [present, absent]
    default: present
  restart:
    description: Restart the Deployments whose pods lack the sidecar.
    type: bool
    default: true
  wait:
    description: Wait until every pod runs with a ready sidecar (never in check mode).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
  wait_delay:
    description: Seconds between two looks while waiting.
    type: int
    default: 3
attributes:
  check_mode:
    description: Reads only; reports the namespaces it would relabel and the Deployments it would restart.
    support: full
  diff_mode:
    description: The labels of each relabelled namespace before and after.
    support: full
"""

EXAMPLES = r"""
- name: Mesh the domain namespaces
  eco2.mesh.mesh_injection:
    namespaces: [auth, scan, character]
    labels: {istio-injection: enabled, istio.io/rev: null}
  register: injection

- name: Show the sidecar status
  ansible.builtin.debug:
    msg: "{{ injection.report }}"
"""

RETURN = r"""
relabelled:
  description: Namespaces whose labels were (in check mode, would be) patched.
  returned: always
  type: list
  elements: str
restarted:
  description: Deployments that were (in check mode, would be) restarted.
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "scan", "deployment": "scan-api"}]
ready:
  description: Whether every pod of every namespace runs with a ready sidecar (false when not waited for).
  returned: always
  type: bool
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
namespaces:
  description:
    - Per namespace, its pods and Deployments as M(eco2.mesh.mesh_sidecar_status) reports them, after the wait;
      empty with O(state=absent).
    - The same as readable lines in RV(report).
  returned: always
  type: list
  elements: dict
report:
  description: One line per namespace, then one line per pod that is not ready, with its reason.
  returned: always
  type: list
  elements: str
"""

import time

from ansible_collections.eco2.mesh.plugins.module_utils import controller_watch, injection
from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module, kube_module
from ansible_collections.eco2.mesh.plugins.module_utils.sidecar import summary_lines


def execute(module, kube):
    p = module.params
    targets = p["namespaces"]
    cluster_namespaces = kube.list_objects("v1", "Namespace")
    missing = injection.missing_namespaces(cluster_namespaces, targets)
    if missing:
        module.fail_json(msg="namespaces: %s do not exist on the cluster. Deploy the domain (APIs are sync wave 40)"
                         " or remove it from the list." % ", ".join(missing))
    plan = injection.relabel_plan(cluster_namespaces, targets, p["labels"])
    if not module.check_mode:
        for item in plan:
            kube.merge_patch("v1", "Namespace", item["name"], injection.label_patch(p["labels"]))
    result = dict(relabelled=[i["name"] for i in plan], restarted=[], ready=False, waited=0.0, namespaces=[], report=[])
    if module._diff:
        result["diff"] = [{"before_header": "Namespace %s labels" % i["name"], "after_header": "Namespace %s labels" % i["name"],
                           "before": i["before"], "after": i["after"]} for i in plan]
    if p["state"] == "present":
        reports = injection.read_reports(kube, targets)
        if p["restart"]:
            result["restarted"] = injection.restart_list(reports)
            if not module.check_mode and result["restarted"]:
                patch = injection.restart_patch(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
                for item in result["restarted"]:
                    kube.merge_patch("apps/v1", "Deployment", item["deployment"], patch, namespace=item["namespace"])
        if p["wait"] and not module.check_mode:
            controller_watch.watch()  # ends this process (and its wait) once the ansible-playbook that started it is gone
            reports, result["waited"] = injection.wait_ready(kube, targets, p["wait_timeout"], p["wait_delay"], reports)
        result.update(ready=all(r["ready"] for r in reports), namespaces=reports, report=summary_lines(reports))
    result["changed"] = bool(result["relabelled"] or result["restarted"])
    return result


def main():
    argument_spec = dict(
        namespaces=dict(type="list", elements="str", required=True),
        labels=dict(type="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        restart=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        wait_delay=dict(type="int", default=3),
    )
    module = kube_module(argument_spec)
    kube = client_from_module(module)
    try:
        module.exit_json(**execute(module, kube))
    except RuntimeError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
