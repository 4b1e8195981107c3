#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_helm_recover
short_description: Bring a Helm release out of a pending, uninstalling or failed state
version_added: 0.1.0
description:
  - Reads the release history (C(helm history); with helm's default storage driver, Secrets, straight from
    the release records through the Kubernetes API). When the newest revision is C(pending-install),
    C(pending-upgrade) or C(pending-rollback) (a run killed inside helm), or C(uninstalling), every later
    install would fail with "another operation (install/upgrade/rollback) is in progress".
    The module rolls the release back to its newest revision that was deployed, or uninstalls it when no
    revision ever was (a first install that never completed), and reports what it did.
  - With O(include_failed=true) a C(failed) newest revision is handled the same way (an install or upgrade
    that failed is rolled back, or the failed first install removed), like C(helm --atomic).
  - Does nothing, and writes nothing, when the release is absent or its newest revision is deployed.
  - With O(chart), also tells whether the release is already up to date (RV(up_to_date)) - its newest revision
    is deployed from that chart and version with exactly O(values) - so that C(kubernetes.core.helm), which
    would change nothing, need not run. That is the decision C(kubernetes.core.helm) makes without the helm-diff
    plugin; give O(chart) only for a chart from a repository, where a name and version stand for one content
    (a chart directory may change without a new version).
  - Stops (with the helm command it started) when the ansible-playbook that started it is killed.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  name:
    description: Helm release name.
    type: str
    required: true
  namespace:
    description: Namespace of the release.
    type: str
    required: true
  include_failed:
    description: Also roll back (or remove) a release whose newest revision is C(failed).
    type: bool
    default: false
  wait_timeout:
    description: How long the rollback or uninstall waits for the resources (Go duration).
    type: str
    default: 5m
  binary_path:
    description: The helm binary. Defaults to C(helm) on E(PATH).
    type: path
  chart:
    description:
      - The chart the release should run, as C(helm history) shows it, C(<name>-<version>) (for example
        C(istiod-1.24.2)). Without it RV(up_to_date) is false.
    type: str
  values:
    description: The values the release should run with (compared with C(helm get values)).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Reports what it would roll back or uninstall, and does not.
  diff_mode:
    description: Returns no diff; the report says what was rolled back or uninstalled.
    support: none
"""

EXAMPLES = r"""
- name: Recover istiod if a killed run left it pending
  eco2.mesh.mesh_helm_recover:
    name: istiod
    namespace: istio-system
  register: recovered

- name: Roll back a failed upgrade
  eco2.mesh.mesh_helm_recover:
    name: istiod
    namespace: istio-system
    include_failed: true
"""

RETURN = r"""
recovered:
  description: What was found and done (empty when the release needed nothing).
  returned: always
  type: dict
  sample: {"status": "pending-upgrade", "revision": 3, "chart": "istiod-1.24.2", "action": "rollback",
           "to_revision": 2, "to_chart": "istiod-1.24.1"}
up_to_date:
  description:
    - The newest revision is deployed from O(chart) with exactly O(values), and nothing was recovered.
    - Always false without O(chart).
  returned: always
  type: bool
  sample: true
report:
  description: The same as readable lines.
  returned: always
  type: list
  elements: str
  sample: ["release istio-system/istiod was pending-upgrade at revision 3 (istiod-1.24.2): rolled back to revision 2 (istiod-1.24.1)"]
"""

import shutil

from ansible_collections.eco2.mesh.plugins.module_utils import controller_watch
from ansible_collections.eco2.mesh.plugins.module_utils.helm_recovery import (
    HelmCli, HelmError, HelmStorage, describe, plan_recovery, secrets_driver, up_to_date)
from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module, cluster_access, kube_module


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        include_failed=dict(type="bool", default=False),
        wait_timeout=dict(type="str", default="5m"),
        binary_path=dict(type="path"),
        chart=dict(type="str"),
        values=dict(type="dict", default={}),
    )
    module = kube_module(argument_spec)
    controller_watch.watch()
    p = module.params
    binary = p["binary_path"] or shutil.which("helm")
    if not binary:
        module.fail_json(msg="helm not found on PATH; set binary_path (mesh_helm_binary)")
    try:
        kubeconfig, context = cluster_access(p["kubeconfig"], p["context"])  # helm reads what kubernetes.core.helm reads
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    helm = HelmCli(binary, module.run_command, kubeconfig=kubeconfig, context=context)
    # Reads from the release Secrets when helm keeps them there, on the cluster helm talks to (its kubeconfig and
    # context); the recovery itself is helm's to run.
    records = HelmStorage(client_from_module(module, auth={"kubeconfig": kubeconfig, "context": context})) if secrets_driver() else helm
    current = False
    try:
        history = records.history(p["name"], p["namespace"])
        plan = plan_recovery(history, include_failed=p["include_failed"])
        if plan and not module.check_mode:
            helm.apply(p["name"], p["namespace"], plan, p["wait_timeout"])
        if not plan and p["chart"] and history:
            current = up_to_date(history, p["chart"], records.values(p["name"], p["namespace"]), p["values"])
    except HelmError as err:
        module.fail_json(msg="Recovering release %s/%s: %s" % (p["namespace"], p["name"], err))
    report = [describe(p["name"], p["namespace"], plan)] if plan else []
    module.exit_json(changed=bool(plan), recovered=plan or {}, report=report, up_to_date=current)


if __name__ == "__main__":
    main()
