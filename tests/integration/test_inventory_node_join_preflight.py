"""node_join preflight on the sample inventories: bad input fails before anything is written or contacted."""
from __future__ import annotations

from tests.lib.ansible_run import run_playbook


# The sample addresses must never be contacted: any SSH attempt fails at once, without a packet sent.
NO_SSH = {"ANSIBLE_SSH_EXECUTABLE": "/bin/false"}


def test_master_missing_from_masters_fails_first():
    res = run_playbook("playbooks/istio.yml", "--tags", "node_join", inventory="inventory/dev",
                       extra_vars={"node_join_master_host": "k8s-api-auth"}, env=NO_SSH)
    assert res.rc != 0, res
    assert "k8s-ingress-gateway: node_join_master_host=k8s-api-auth is not a host of group 'masters'" in res.stdout, res
    assert "UNREACHABLE" not in res.stdout, res  # no host contacted


def test_a_host_the_pattern_check_cannot_see_is_checked_on_itself():
    # A wildcard pattern selects its hosts only when the play runs: the first play cannot list them, so the role's
    # own check (mesh_validate this_host) is what refuses the bad provider ID, still before any host is contacted.
    res = run_playbook("playbooks/istio.yml", "--tags", "node_join", inventory="inventory/dev",
                       extra_vars={"mesh_join_hosts": "k8s-ingress-*", "node_provider_id": "i-0123456789abcdef0"},
                       env=NO_SSH)
    assert res.rc != 0, res
    assert ("k8s-ingress-gateway: node_provider_id (or aws_availability_zone + aws_instance_id): "
            "'i-0123456789abcdef0' is not aws:///<availability-zone>/<instance-id>") in res.stdout, res
    assert "UNREACHABLE" not in res.stdout, res


def test_render_mode_needs_a_target_group_with_hosts(tmp_path):
    out = tmp_path / "render"
    res = run_playbook("playbooks/render.yml", "--tags", "node_join", inventory="inventory/dev",
                       extra_vars={"mesh_render_dir": str(out), "mesh_join_hosts": "k8s-ingress-gateway"})
    assert res.rc != 0, res
    assert "node_join_target_group=k8s-ingress-gateway has no hosts in this inventory" in res.stdout, res
    assert not (out / "nodes").exists()


def test_render_mode_bad_effect_writes_nothing(tmp_path):
    out = tmp_path / "render"
    res = run_playbook("playbooks/render.yml", "--tags", "node_join", inventory="inventory/dev",
                       extra_vars={"mesh_render_dir": str(out),
                                   "node_profile_taints": [{"key": "role", "value": "ingress-gateway",
                                                            "effect": "NoScheduel"}]})
    assert res.rc != 0, res
    assert "k8s-ingress-gateway: node_profile_taints[0].effect: invalid taint effect 'NoScheduel'" in res.stdout, res
    assert not (out / "nodes").exists()


def test_render_mode_writes_every_target_host(tmp_path):
    out = tmp_path / "render"
    res = run_playbook("playbooks/render.yml", "--tags", "node_join", inventory="inventory/dev",
                       extra_vars={"mesh_render_dir": str(out), "mesh_join_hosts": "k8s_cluster"})
    assert res.rc == 0, res
    assert len(list((out / "nodes").glob("*.kubelet.conf"))) == 24
    gw = (out / "nodes/k8s-ingress-gateway.kubelet.conf").read_text()
    assert "--register-with-taints=role=ingress-gateway:NoSchedule" in gw
