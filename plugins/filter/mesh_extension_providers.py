# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""istiod's meshConfig.extensionProviders from the mesh spec's sections, each documented in its YAML file.

The logic is in plugins/module_utils/mesh_auth.py and mesh_telemetry.py.
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth, mesh_telemetry
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import MeshSpecError
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain


def _providers(validate_provider, section, enabled):
    try:
        return validate_provider(plain(section), bool(enabled))
    except MeshSpecError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def mesh_auth_extension_providers(auth, enabled=True):
    return _providers(mesh_auth.validate_provider, auth, enabled)


def mesh_telemetry_extension_providers(telemetry, enabled=True):
    return _providers(mesh_telemetry.validate_provider, telemetry, enabled)


class FilterModule:
    """eco2.mesh extension provider filters (auth offloading, telemetry)."""

    def filters(self):
        return {"mesh_auth_extension_providers": mesh_auth_extension_providers,
                "mesh_telemetry_extension_providers": mesh_telemetry_extension_providers}
