# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the mesh UI roles (kiali, jaeger); logic in module_utils/mesh_ui.py, each documented in its YAML file."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_ui
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain


def _wrap(func, *args):
    try:
        return func(*args)
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError("eco2.mesh: %s" % exc) from exc


def mesh_ui_values(spec, chart):
    """`spec | eco2.mesh.mesh_ui_values('kiali-server')` -> the values dict helm is given."""
    return _wrap(mesh_ui.ui_values, plain(spec or {}), chart)


def mesh_ui_public_route_hosts(spec, ui, namespace):
    """Public hosts of the mesh spec's platform routes to one UI's Service."""
    return _wrap(mesh_ui.public_route_hosts, plain(spec or {}), ui, namespace)


class FilterModule:
    def filters(self):
        return {"mesh_ui_values": mesh_ui_values, "mesh_ui_public_route_hosts": mesh_ui_public_route_hosts}
