# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible.errors import AnsibleFilterError


def mesh_namespaces(domains, meshed_only=True):
    """Namespaces of the mesh spec's domains (`mesh_domains`), in order, without duplicates."""
    if domains is None:
        return []
    if not isinstance(domains, list):
        raise AnsibleFilterError("mesh_domains must be a list of domains, got %s" % type(domains).__name__)
    out = []
    for index, domain in enumerate(domains):
        if not isinstance(domain, dict) or not domain.get("name"):
            raise AnsibleFilterError("mesh_domains[%d]: each domain needs a name" % index)
        if meshed_only and domain.get("meshed", True) is False:
            continue
        namespace = domain.get("namespace") or domain["name"]
        if namespace not in out:
            out.append(namespace)
    return out


class FilterModule:
    def filters(self):
        return {"mesh_namespaces": mesh_namespaces}
