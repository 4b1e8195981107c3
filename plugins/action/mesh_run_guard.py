# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""eco2.mesh.mesh_run_guard, run in the Ansible worker on the controller (plugin_utils.in_worker)."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.modules import mesh_run_guard
from ansible_collections.eco2.mesh.plugins.plugin_utils.in_worker import InWorkerModule


class ActionModule(InWorkerModule):
    module_main = staticmethod(mesh_run_guard.main)
