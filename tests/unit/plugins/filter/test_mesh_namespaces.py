from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.filter.mesh_namespaces import mesh_namespaces


def test_namespace_defaults_to_name_and_unmeshed_domains_are_left_out():
    domains = [{"name": "auth"}, {"name": "users", "namespace": "auth"}, {"name": "scan"},
               {"name": "legacy", "meshed": False}]
    assert mesh_namespaces(domains) == ["auth", "scan"]
    assert mesh_namespaces(domains, meshed_only=False) == ["auth", "scan", "legacy"]


def test_bad_input_names_the_variable():
    with pytest.raises(AnsibleFilterError, match=r"mesh_domains\[1\]: each domain needs a name"):
        mesh_namespaces([{"name": "a"}, {"namespace": "b"}])
    assert mesh_namespaces(None) == []
