# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mesh spec filters: validate the spec, generate the bundles, render and prune helpers.

The logic lives in plugins/module_utils/mesh_*.py; each filter is documented in
the YAML file of the same name next to this one.
"""
from __future__ import annotations

import difflib

import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_policies, mesh_routing
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


def _key(obj):
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace"), meta.get("name"))


def mesh_prune_candidates(live, desired):
    wanted = {_key(o) for o in _plain(desired or [])}
    out = []
    for obj in _plain(live or []):
        if _key(obj) in wanted:
            continue
        meta = obj.get("metadata") or {}
        ref = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": {"name": meta.get("name")}}
        if meta.get("namespace"):
            ref["metadata"]["namespace"] = meta["namespace"]
        out.append(ref)
    out.sort(key=lambda o: (o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]))
    return out


def mesh_changed_objects(definitions, k8s_result):
    definitions = _plain(definitions or [])
    result = _plain(k8s_result or {})
    inner = result.get("result") or {}
    results = inner.get("results") if isinstance(inner, dict) and "results" in inner else None
    if results is None:
        results = [result] if definitions else []
    if len(results) != len(definitions):
        return definitions  # cannot pair them up: apply everything
    return [d for d, r in zip(definitions, results) if r.get("changed")]


def _ref(obj):
    meta = obj.get("metadata") or {}
    if meta.get("namespace"):
        return "%s %s/%s" % (obj.get("kind"), meta["namespace"], meta.get("name"))
    return "%s %s" % (obj.get("kind"), meta.get("name"))


def _strip(obj):
    obj = dict(obj or {})
    obj.pop("status", None)
    meta = dict(obj.get("metadata") or {})
    for key in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
        meta.pop(key, None)
    obj["metadata"] = meta
    return obj


def mesh_object_refs(objects):
    """Sorted 'Kind namespace/name' references of objects."""
    return sorted(_ref(o) for o in _plain(objects or []))


def mesh_apply_report(definitions, k8s_result):
    """Readable lines for what a dry-run apply would change: the object, create/update, and a YAML diff."""
    definitions = _plain(definitions or [])
    result = _plain(k8s_result or {})
    inner = result.get("result") or {}
    results = inner.get("results") if isinstance(inner, dict) and "results" in inner else [result]
    lines = []
    for definition, res in zip(definitions, results):
        if not res.get("changed"):
            continue
        diff = res.get("diff") or {}
        before, after = diff.get("before"), diff.get("after")
        if not before:
            lines.append("create %s" % _ref(definition))
            continue
        lines.append("update %s" % _ref(definition))
        old = yaml.dump(_strip(before), Dumper=_Dumper, sort_keys=True).splitlines()
        new = yaml.dump(_strip(after), Dumper=_Dumper, sort_keys=True).splitlines()
        lines += ["    " + line for line in difflib.unified_diff(old, new, "before", "after", lineterm="", n=1)]
    return lines


class FilterModule:
    """eco2.mesh mesh spec and bundle filters."""

    def filters(self):
        return {
            "mesh_spec": mesh_spec,
            "mesh_network_policies": mesh_network_policies,
            "mesh_isolated_directions": mesh_isolated_directions,
            "mesh_routing": mesh_routing_objects,
            "mesh_manifest": mesh_manifest,
            "mesh_prune_candidates": mesh_prune_candidates,
            "mesh_changed_objects": mesh_changed_objects,
            "mesh_apply_report": mesh_apply_report,
            "mesh_object_refs": mesh_object_refs,
        }
