#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_info
short_description: Read the objects of one kind (one list request), or some of them by name
version_added: 0.1.0
description:
  - Lists the objects of one kind, in one namespace or in all, with a single request; or, given O(names),
    reads those objects (one request each). Returns them as C(kubernetes.core.k8s_info) does, in RV(resources),
    without C(metadata.managedFields) unless O(managed_fields) is true.
  - A kind the API server does not serve (its CRD absent) gives no objects, not an error.
  - Runs inside the Ansible worker when the task runs on the controller (no Python process per task), which
    is why the roles read with it rather than with C(kubernetes.core.k8s_info).
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - eco2.mesh.read_only
options:
  api_version:
    description: API group and version of the kind, for example V(networking.k8s.io/v1).
    type: str
    required: true
  kind:
    description: The kind, for example V(NetworkPolicy).
    type: str
    required: true
  namespace:
    description: Only this namespace (namespaced kinds). Default, every namespace.
    type: str
  names:
    description:
      - Only the objects with these names (all when empty); a name not found is left out.
      - For a namespaced kind, with O(namespace).
    type: list
    elements: str
    default: []
  outside_bundle:
    description:
      - Only the objects that are not part of this eco2.mesh bundle (label C(mesh.eco2.io/bundle) not equal to it),
        for example V(network-policies) to see what others apply. The list request carries the label selector, so
        the API server leaves the bundle's objects out.
    type: str
  managed_fields:
    description:
      - Keep C(metadata.managedFields), the fields each writer set.
      - Left out by default, as C(kubectl get) leaves them out, because they are often larger than the rest of
        the object and every later task that takes the result as an argument would copy them again.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read every NetworkPolicy of the cluster
  eco2.mesh.mesh_info:
    api_version: networking.k8s.io/v1
    kind: NetworkPolicy
  register: policies

- name: Look for the Prometheus Operator CRDs
  eco2.mesh.mesh_info:
    api_version: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    names: [podmonitors.monitoring.coreos.com, servicemonitors.monitoring.coreos.com]
  register: crds
"""

RETURN = r"""
resources:
  description: The objects found, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module, kube_module
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import BUNDLE_LABEL

try:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:
    ResourceNotFoundError = LookupError  # kube_module reports the missing library


def served(kube, api_version, kind):
    """"namespaced", "cluster", or None when the API server does not serve the kind."""
    try:
        return "namespaced" if kube.resource(api_version, kind).namespaced else "cluster"
    except ResourceNotFoundError:
        return None


def main():
    argument_spec = dict(
        api_version=dict(type="str", required=True),
        kind=dict(type="str", required=True),
        namespace=dict(type="str"),
        names=dict(type="list", elements="str", default=[]),
        managed_fields=dict(type="bool", default=False),
        outside_bundle=dict(type="str"),
    )
    module = kube_module(argument_spec)
    p = module.params
    kube = client_from_module(module)
    try:
        if p["names"] and not p["namespace"] and served(kube, p["api_version"], p["kind"]) == "namespaced":
            module.fail_json(msg="names: %s is namespaced; set namespace to read objects by name" % p["kind"])
        if p["names"]:  # a GET each, as k8s_info does for a name (needs only `get`); absent ones are left out
            found = (kube.get_object(p["api_version"], p["kind"], name, namespace=p["namespace"]) for name in p["names"])
            items = [dict(i, apiVersion=p["api_version"], kind=p["kind"]) for i in found if i]
        else:
            items = kube.list_objects(p["api_version"], p["kind"], namespace=p["namespace"], label_selector=(
                "%s!=%s" % (BUNDLE_LABEL, p["outside_bundle"]) if p["outside_bundle"] else None))
    except Exception as exc:  # the client raises many types; each is the API server's answer
        module.fail_json(msg="Cannot read %s %s: %s" % (p["api_version"], p["kind"], exc))
    if p["outside_bundle"] and p["names"]:  # a list request carried the label selector
        items = [i for i in items if ((i["metadata"].get("labels") or {}).get(BUNDLE_LABEL) != p["outside_bundle"])]
    if not p["managed_fields"]:
        for item in items:
            item.get("metadata", {}).pop("managedFields", None)
    items.sort(key=lambda i: ((i["metadata"].get("namespace") or ""), i["metadata"].get("name") or ""))
    module.exit_json(changed=False, resources=items)


if __name__ == "__main__":
    main()
