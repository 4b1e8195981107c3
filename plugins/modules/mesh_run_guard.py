#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_run_guard
short_description: Stop what a playbook run started when its ansible-playbook is killed
version_added: 0.1.0
description:
  - Ansible's worker processes call C(setsid), so when C(ansible-playbook) is killed (even its whole process
    group), the worker of the running task, its module and the commands the module runs (C(helm install --wait),
    a rollout wait) go on for minutes, writing to the cluster for nobody.
  - This module starts a small detached process that watches the C(ansible-playbook) above it and, once it is
    gone, stops every process the run had started, deepest first (a command before the module reading its
    output, so that helm, cancelled inside an install, can still mark the release failed), each level with
    SIGTERM, then SIGKILL after a grace period; then it exits.
    It exits by itself when the run ends normally.
  - Run it once, as the first task of a play on the controller.
  - Reads and writes nothing else; contacts nothing. Linux only (C(/proc)).
author: eco2.mesh maintainers (@eco2-team)
options:
  interval:
    description: Seconds between two looks at the controller.
    type: float
    default: 0.5
  grace:
    description: Seconds between SIGTERM and SIGKILL for each level of what the run left.
    type: float
    default: 5
attributes:
  check_mode:
    support: full
    description: Starts the guard in check mode too (it changes nothing).
  diff_mode:
    description: Returns no diff; it changes nothing.
    support: none
"""

EXAMPLES = r"""
- name: Stop this run's processes if ansible-playbook is killed
  eco2.mesh.mesh_run_guard:
"""

RETURN = r"""
controller:
  description: PID of the ansible-playbook guarded (null when the module does not run under ansible-playbook).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eco2.mesh.plugins.module_utils.controller_watch import start_guard


def main():
    module = AnsibleModule(argument_spec=dict(interval=dict(type="float", default=0.5),
                                              grace=dict(type="float", default=5.0)),
                           supports_check_mode=True)
    controller = start_guard(module.params["interval"], module.params["grace"])
    module.exit_json(changed=False, controller=controller)


if __name__ == "__main__":
    main()
