# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: mesh_spec
short_description: The validated mesh spec, read from the mesh inventory variables in scope
version_added: 0.1.0
author: eco2.mesh maintainers (@eco2-team)
description:
  - Collects the mesh spec variables that are defined where the lookup runs (C(mesh_zone), C(mesh_domains),
    C(mesh_platform_routes), C(mesh_flows), C(mesh_alb), C(mesh_alb_certificate_arn), C(mesh_gateway), ... - the
    full list, with every nested key, is the collection's C(docs/spec-reference.md)), then validates and normalises
    them like the P(eco2.mesh.mesh_spec#filter) filter.
  - Saves every role from restating the list of variable names.
  - Fails with every problem, each naming the variable path and its allowed values.
options: {}
"""

EXAMPLES = r"""
- name: Generate the routing bundle from the inventory's mesh spec
  ansible.builtin.set_fact:
    routing_objects: "{{ lookup('eco2.mesh.mesh_spec') | eco2.mesh.mesh_routing }}"
"""

RETURN = r"""
_raw:
  description: The normalised spec (one dict), as returned by the P(eco2.mesh.mesh_spec#filter) filter.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import SPEC_VARIABLES, MeshSpecError, build_spec


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("eco2.mesh.mesh_spec takes no terms; it reads the mesh_* variables in scope")
        variables = variables or {}
        found = {name: self._templar.template(variables[name]) for name in SPEC_VARIABLES if name in variables}
        try:
            return [build_spec(found)]
        except MeshSpecError as exc:
            raise AnsibleLookupError(str(exc)) from exc
