# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auth offloading filters; the logic is in plugins/module_utils/mesh_auth.py."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import MeshSpecError
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain


def mesh_auth_extension_providers(auth, enabled=True):
    try:
        return mesh_auth.validate_provider(plain(auth), bool(enabled))
    except MeshSpecError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """eco2.mesh auth offloading filters."""

    def filters(self):
        return {"mesh_auth_extension_providers": mesh_auth_extension_providers}
