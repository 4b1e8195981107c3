#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_bundle
short_description: Reconcile one bundle of Kubernetes objects (dry run, apply what changed, prune)
version_added: 0.2.0
description:
  - Brings the objects of one bundle on the cluster to O(objects) with one API client.
  - Every object gets the ownership labels C(app.kubernetes.io/managed-by=eco2.mesh) and
    C(mesh.eco2.io/bundle=<bundle>), and the annotation C(mesh.eco2.io/applied) with the digest of the object.
    Each object is first applied as a server-side dry run, so the API server (and admission webhooks such as
    istiod's) checks all of them before the first write; only the objects whose dry run differs from the live
    object are then applied (server-side apply, field manager C(eco2.mesh), conflicts forced). A run with
    nothing to change writes nothing.
  - A live object that carries the same digest, every field of O(objects) at the same value, and no field
    manager but this module's applies (status writes aside) is the object as this module last applied it,
    unchanged since; it is not dry-run again (a re-run of an unchanged bundle sends one list per kind).
    Anything else, such as an object someone edited, goes through the dry run.
  - With O(prune), objects carrying the bundle's labels that are not in O(objects) are deleted.
    O(objects=[]) with O(prune) removes the whole bundle.
  - With O(verify), the bundle is listed again after the writes; the module fails when an object is missing
    or an object not in O(objects) is still there.
  - Supports check mode (dry runs only) and diff mode (YAML of each created, updated or deleted object).
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  bundle:
    description: Name of the bundle, the value of the C(mesh.eco2.io/bundle) label (a DNS label).
    type: str
    required: true
  objects:
    description: The complete desired content of the bundle (manifests as dicts).
    type: list
    elements: dict
    required: true
  kinds:
    description:
      - Kinds the bundle may hold besides those of O(objects), as C(api_version) and C(kind); listed for pruning.
      - The known bundles (C(network-policies), C(routing)) bring their kinds; kinds the API server does not serve
        are skipped.
    type: list
    elements: dict
    default: []
    suboptions:
      api_version:
        description: API version of the kind, for example V(networking.istio.io/v1).
        type: str
        required: true
      kind:
        description: The kind, for example V(VirtualService).
        type: str
        required: true
  prune:
    description: Delete objects of the bundle that are not in O(objects).
    type: bool
    default: true
  verify:
    description: List the bundle after the writes and fail unless it holds exactly O(objects).
    type: bool
    default: true
attributes:
  check_mode:
    description: Only dry runs; reports what would be created, updated and deleted.
    support: full
  diff_mode:
    description: The YAML of each object before and after.
    support: full
"""

EXAMPLES = r"""
- name: Apply the NetworkPolicy bundle
  eco2.mesh.mesh_bundle:
    bundle: network-policies
    objects: "{{ mesh_spec | eco2.mesh.mesh_network_policies }}"
  register: applied

- name: Remove the routing bundle
  eco2.mesh.mesh_bundle:
    bundle: routing
    objects: []
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) created, updated and deleted.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "update", "object": "VirtualService chat/chat-vs"}]
report:
  description: One line per change (C(create|update|delete Kind namespace/name)), updates followed by a YAML diff.
  returned: always
  type: list
  elements: str
objects:
  description: The objects of the bundle as C(Kind namespace/name).
  returned: always
  type: list
  elements: str
missing:
  description: Objects of O(objects) not found after the apply (the module fails when there is one).
  returned: when O(verify) and not in check mode
  type: list
  elements: str
extra:
  description: Objects of the bundle not in O(objects) still found after the apply (the module fails when there is one).
  returned: when O(verify) and not in check mode
  type: list
  elements: str
"""

from ansible_collections.eco2.mesh.plugins.module_utils import bundle_engine, patterns
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils.kube import BundleClient, client_from_module, kube_module


def main():
    argument_spec = dict(
        bundle=dict(type="str", required=True),
        objects=dict(type="list", elements="dict", required=True),
        kinds=dict(type="list", elements="dict", default=[], options=dict(
            api_version=dict(type="str", required=True),
            kind=dict(type="str", required=True),
        )),
        prune=dict(type="bool", default=True),
        verify=dict(type="bool", default=True),
    )
    module = kube_module(argument_spec)
    p = module.params
    if not patterns.DNS1123_LABEL.match(p["bundle"]) or len(p["bundle"]) > 63:
        module.fail_json(msg="bundle: %r is not a DNS label (lower-case letters, digits, '-')" % p["bundle"])
    kinds = [(k["api_version"], k["kind"]) for k in p["kinds"]]
    client = client_from_module(module, BundleClient, field_manager=ms.FIELD_MANAGER, error=bundle_engine.BundleError)
    try:
        result = bundle_engine.reconcile(client, p["bundle"], p["objects"], kinds, prune=p["prune"],
                                         check_mode=module.check_mode, verify=p["verify"])
    except bundle_engine.BundleError as exc:
        module.fail_json(msg="bundle %s: %s" % (p["bundle"], exc))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    if result.get("missing") or result.get("extra"):
        module.fail_json(msg="bundle %s out of sync after the apply; missing: %s; not in the bundle: %s"
                         % (p["bundle"], ", ".join(result["missing"]) or "none", ", ".join(result["extra"]) or "none"),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
