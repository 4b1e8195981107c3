# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Telemetry filters; the logic is in plugins/module_utils/mesh_telemetry.py."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_telemetry
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import MeshSpecError
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain


def mesh_telemetry_extension_providers(telemetry, enabled=True):
    try:
        return mesh_telemetry.validate_provider(plain(telemetry), bool(enabled))
    except MeshSpecError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """eco2.mesh telemetry filters."""

    def filters(self):
        return {"mesh_telemetry_extension_providers": mesh_telemetry_extension_providers}
