"""make bench: the generated specs (N domains, one flow each), their inventory and the seeded apps."""
from __future__ import annotations

import pytest
import yaml

from benchmarks import spec


def test_generated_spec_has_n_domains_and_one_flow_each():
    base = spec.eco2_spec()
    generated = spec.generated_spec(base, 50)
    names = [d["name"] for d in generated["mesh_domains"]]
    assert len(names) == len(set(names)) == 50
    assert [f["from"] for f in generated["mesh_flows"]] == names
    assert {f["to"] for f in generated["mesh_flows"]} == set(names)
    assert all(f["from"] != f["to"] and f["port"] == 8000 for f in generated["mesh_flows"])
    # Everything else (gateway, platform routes, peers, ALB) is the Eco² spec's.
    assert generated["mesh_gateway"] == base["mesh_gateway"]
    assert generated["mesh_platform_routes"] == base["mesh_platform_routes"]
    assert base["mesh_domains"][0]["name"] == "auth"  # the base is not modified


def test_domain_names_are_dns_labels_in_order():
    assert spec.domain_names(3) == ["dom001", "dom002", "dom003"]
    assert spec.domain_names(1000)[-1] == "dom1000"


def test_a_single_domain_cannot_have_a_flow():
    with pytest.raises(ValueError, match="at least 2 domains"):
        spec.generated_spec(spec.eco2_spec(), 1)


def test_eco2_size_uses_inventory_local_itself(tmp_path):
    inventory, mesh = spec.inventory_for(spec.eco2_size(), tmp_path)
    assert inventory == spec.ECO2_INVENTORY
    assert [d["name"] for d in mesh["mesh_domains"]] == ["auth", "my", "scan", "character", "location", "image",
                                                         "chat"]
    assert not list(tmp_path.iterdir())


def test_generated_inventory_is_a_copy_of_local_with_the_generated_spec(tmp_path):
    inventory, mesh = spec.inventory_for(12, tmp_path)
    assert inventory.parent == tmp_path
    written = yaml.safe_load((inventory / spec.MESH_VARS).read_text())
    assert written == mesh and len(written["mesh_domains"]) == 12
    assert not (inventory / spec.MESH_VARS).is_symlink()
    hosts = (inventory / "hosts").read_text()
    assert hosts.startswith((spec.ECO2_INVENTORY / "hosts").read_text())
    assert (inventory / "group_vars/all/local.yml").is_file()


@pytest.mark.parametrize("size, workers", [(12, 1), (50, 1), (51, 2), (500, 10)])
def test_generated_inventory_adds_a_worker_node_per_50_domains(tmp_path, size, workers):
    from tests.lib.localcluster import nodes

    inventory = spec.inventory_for(size, tmp_path)[0]
    local = {host[0] for host in nodes.load_host_vars(str(spec.ECO2_INVENTORY))}
    added = {name: hv for name, hv in nodes.load_host_vars(str(inventory)) if name not in local}
    assert len(added) == workers
    assert all(hv["instance_type"] == "t3.2xlarge" for hv in added.values())
    # They are workers: the workers' node profile (labels, taint) applies to them.
    assert all(hv["node_profile_labels"]["role"] == "worker" and hv["node_profile_taints"][0]["value"] == "worker-bench"
               for hv in added.values())
    assert len({hv["private_ip"] for hv in added.values()}) == workers


def test_seed_pins_domains_that_have_a_node_and_tolerates_elsewhere():
    mesh = {"mesh_domains": [{"name": "scan"}, {"name": "dom001", "port": 9000}],
            "mesh_platform_routes": [{"name": "argocd", "namespace": "argocd", "service": "argocd-server",
                                      "port": 80}]}
    objects = spec.seed_objects(mesh, {"scan"})
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert kinds == [("Namespace", "scan"), ("Deployment", "scan-api"), ("Service", "scan-api"),
                     ("Namespace", "dom001"), ("Deployment", "dom001-api"), ("Service", "dom001-api"),
                     ("Namespace", "argocd"), ("Deployment", "argocd-server"), ("Service", "argocd-server")]
    pinned = objects[1]["spec"]["template"]["spec"]
    assert pinned["nodeSelector"] == {"domain": "scan"}
    free = objects[4]["spec"]["template"]["spec"]
    assert "nodeSelector" not in free and free["tolerations"] == [{"operator": "Exists"}]
    assert objects[5]["spec"]["ports"][0]["port"] == 9000


def test_node_domains_of_inventory_local():
    assert {"auth", "my", "scan", "character", "location", "image", "chat"} <= spec.node_domains(spec.ECO2_INVENTORY)
