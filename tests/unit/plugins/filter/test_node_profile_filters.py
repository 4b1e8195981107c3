"""The node profile filters reproduce every kubelet flag string of the fixture from the real inventories."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.manager import VariableManager

from ansible_collections.eco2.mesh.plugins.filter.node_profile import FilterModule

REPO = Path(__file__).resolve().parents[4]
FIXTURES = Path("/work/shared/fixtures/eco2")
PROFILES_JSON = REPO / "tests/unit/plugins/filter/kubelet-profiles.json"
FILTERS = FilterModule().filters()

# kubelet-profiles.json also has a node the sample inventory does not (k8s-api-users, a later domain):
# it is added to api_nodes with the host variables hosts.tpl would give it.
EXTRA_HOSTS = {"k8s-api-users": ("api_nodes", {"domain": "users", "phase": 1, "instance_type": "t3.micro"})}


def _profiles_json():
    src = FIXTURES / "kubelet-profiles.json"
    return json.loads((src if src.exists() else PROFILES_JSON).read_text())


def _inventory_profiles(env):
    loader = DataLoader()
    inv = InventoryManager(loader=loader, sources=[str(REPO / "inventory" / env)])
    for name, (group, hostvars) in EXTRA_HOSTS.items():
        inv.add_host(name, group=group)
        for key, value in hostvars.items():
            inv.get_host(name).set_variable(key, value)
    vm = VariableManager(loader=loader, inventory=inv)
    result = {}
    for host in inv.get_hosts("k8s_cluster"):
        hv = vm.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=hv)
        result[host.name] = {"labels": templar.template(hv["node_profile_labels"]),
                             "taints": templar.template(hv["node_profile_taints"])}
    return result


@pytest.fixture(scope="module", params=["dev", "prod", "local"])
def env_profiles(request):
    return _inventory_profiles(request.param)


def test_every_fixture_profile_reproduced(env_profiles):
    expected = _profiles_json()
    assert set(expected) <= set(env_profiles), set(expected) - set(env_profiles)
    for host, flags in expected.items():
        assert FILTERS["kubelet_flags"](env_profiles[host], host=host) == flags, host


def test_every_inventory_host_has_a_valid_profile(env_profiles):
    for host, prof in env_profiles.items():
        assert FILTERS["node_profile_validate"](prof, host=host)["labels"], host


def test_parse_then_render_is_identity():
    for host, flags in _profiles_json().items():
        parsed = FILTERS["parse_kubelet_flags"](flags, host=host)
        assert FILTERS["kubelet_flags"](parsed, host=host) == flags


def test_filter_errors_are_ansible_errors_naming_host_and_field():
    bad = {"labels": {"role": "gateway"}, "taints": [{"key": "role", "value": "gateway", "effect": "NoScheduel"}]}
    with pytest.raises(AnsibleFilterError, match=r"k8s-ingress-gateway: taints\[0\].effect"):
        FILTERS["kubelet_flags"](bad, host="k8s-ingress-gateway")
    with pytest.raises(AnsibleFilterError, match="k8s-x: --node-labels: invalid label key '-bad'"):
        FILTERS["parse_kubelet_flags"]("--node-labels=-bad=1", host="k8s-x")


def test_dropin_and_drift_filters():
    prof = {"labels": {"role": "ingress-gateway"}, "taints": []}
    assert "KUBELET_EXTRA_ARGS=--node-labels=role=ingress-gateway" in FILTERS["node_profile_dropin"](prof)
    node = {"metadata": {"labels": {"role": "x"}}, "spec": {}}
    drift = FILTERS["node_profile_drift"](node, prof, host="h", owned_prefixes=[], provider_id=None)
    assert drift["patch"] == [{"op": "replace", "path": "/metadata/labels/role", "value": "ingress-gateway"}]
