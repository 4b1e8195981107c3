# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mesh spec filters: validate the spec, generate the bundles, render helpers.

The logic lives in plugins/module_utils/mesh_*.py; each filter is documented in
the YAML file of the same name next to this one.
"""
from __future__ import annotations

import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import k8s_objects, mesh_policies, mesh_routing
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_mtls, mesh_telemetry
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain as _plain


def _spec(value):
    value = _plain(value)
    if not isinstance(value, dict):
        raise AnsibleFilterError("expected the mesh variables (a dict keyed mesh_zone, mesh_domains, ...) or a mesh spec")
    if "gateway" in value and "domains" in value and "alb" in value:
        return value  # already normalised by mesh_spec
    try:
        return ms.build_spec(value)
    except ms.MeshSpecError as exc:
        raise AnsibleFilterError(str(exc))


def mesh_spec(variables):
    return _spec(variables)


def mesh_network_policies(spec, isolated=None):
    return mesh_policies.network_policy_objects(_spec(spec), _plain(isolated) if isolated else None)


def mesh_isolated_directions(policies):
    return mesh_policies.isolated_directions(_plain(policies or []))


def mesh_routing_objects(spec):
    return mesh_routing.routing_objects(_spec(spec))


def mesh_mtls_telemetry(spec, monitors=True):
    spec = _spec(spec)
    return mesh_mtls.peer_authentications(spec) + mesh_telemetry.telemetry_objects(spec, bool(monitors))


def mesh_mtls_telemetry_summary(spec):
    spec = _spec(spec)
    return [mesh_mtls.summary_line(spec), mesh_telemetry.summary_line(spec)]


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def mesh_manifest(objects, header=None):
    docs = []
    if header:
        docs.append("".join("# %s\n" % line for line in str(header).splitlines()))
    for obj in _plain(objects or []):
        docs.append("---\n" + yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False))
    return "".join(docs)


def mesh_object_refs(objects):
    """Sorted 'Kind namespace/name' references of objects."""
    return sorted(k8s_objects.ref(o) for o in _plain(objects or []))


class FilterModule:
    """eco2.mesh mesh spec and bundle filters."""

    def filters(self):
        return {
            "mesh_spec": mesh_spec,
            "mesh_network_policies": mesh_network_policies,
            "mesh_isolated_directions": mesh_isolated_directions,
            "mesh_routing": mesh_routing_objects,
            "mesh_mtls_telemetry": mesh_mtls_telemetry,
            "mesh_mtls_telemetry_summary": mesh_mtls_telemetry_summary,
            "mesh_manifest": mesh_manifest,
            "mesh_object_refs": mesh_object_refs,
        }
