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


def test_relabel_lists_only_namespaces_whose_labels_differ():
    from ansible_collections.eco2.mesh.plugins.filter.mesh_namespaces import mesh_injection_relabel
    nss = [{"metadata": {"name": "auth", "labels": {"istio-injection": "enabled"}}},
           {"metadata": {"name": "scan"}},
           {"metadata": {"name": "chat", "labels": {"istio-injection": "enabled", "istio.io/rev": "canary"}}}]
    want = {"istio-injection": "enabled", "istio.io/rev": None}
    assert mesh_injection_relabel(nss, ["auth", "scan", "chat", "missing"], want) == ["scan", "chat"]
    assert mesh_injection_relabel(nss, ["auth"], {"istio-injection": None, "istio.io/rev": None}) == ["auth"]
