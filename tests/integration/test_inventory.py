"""Inventories and the terraform_outputs inventory plugin, through the real ansible-inventory."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.lib.ansible_run import REPO, VENV_BIN, ansible_env, inventory_list

FIXTURES = Path("/work/shared/fixtures/eco2")
LOCAL_FIXTURES = REPO / "tests/integration/fixtures/eco2"


def _fixture(name):
    path = FIXTURES / name
    return path if path.exists() else LOCAL_FIXTURES / name


def _plugin_source(tmp_path, **options):
    src = tmp_path / "eco2.terraform_outputs.yml"
    lines = ["plugin: eco2.mesh.terraform_outputs"] + [f"{k}: {json.dumps(v)}" for k, v in options.items()]
    src.write_text("\n".join(lines) + "\n")
    return str(src)


def _normalised(listing):
    """Groups with sorted hosts/children plus hostvars: what --list says, order-insensitive."""
    out = {}
    for name, group in listing.items():
        if name == "_meta":
            out["hostvars"] = group.get("hostvars", {})
            continue
        out[name] = {"hosts": sorted(group.get("hosts", [])), "children": sorted(group.get("children", []))}
    return out


def test_shipped_template_equals_fixture():
    assert (REPO / "templates/hosts.tpl").read_text() == _fixture("hosts.tpl").read_text()


def test_plugin_equals_rendered_file(tmp_path):
    rendered = inventory_list(str(_fixture("hosts.rendered.ini")))
    plugin = inventory_list(_plugin_source(tmp_path, outputs_file=str(_fixture("terraform-output.json"))))
    assert _normalised(plugin) == _normalised(rendered)
    assert plugin == rendered  # same order, same types (phase=5 is an int in both)
    assert plugin["_meta"]["hostvars"]["k8s-ingress-gateway"]["private_ip"] == "10.0.1.38"
    assert "ingress_gateway" in plugin["k8s_cluster"]["children"]


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_plugin_equals_inventory_hosts_file(tmp_path, env):
    """inventory/<env>/hosts is hosts.tpl rendered for the sample outputs (copied away from its group_vars)."""
    hosts = tmp_path / "hosts"
    shutil.copy(REPO / "inventory" / env / "hosts", hosts)
    dev_hosts = inventory_list(str(hosts))
    plugin = inventory_list(_plugin_source(tmp_path, outputs_file=str(_fixture("terraform-output.json"))))
    assert _normalised(plugin) == _normalised(dev_hosts)


def test_plugin_runs_terraform_when_given_a_project(tmp_path):
    """project_path runs `terraform -chdir=... output -json` (a stand-in terraform here)."""
    fake = tmp_path / "bin/terraform"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n# stand-in: prints saved outputs\ncase \"$*\" in *'output -json'*) "
                    f"cat '{_fixture('terraform-output.json')}';; *) exit 2;; esac\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "tf").mkdir()
    src = _plugin_source(tmp_path, project_path="tf", terraform_binary=str(fake))
    assert _normalised(inventory_list(src)) == _normalised(inventory_list(str(_fixture("hosts.rendered.ini"))))


def test_plugin_follows_a_custom_template(tmp_path):
    tpl = tmp_path / "mine.tpl"
    tpl.write_text("[all:vars]\nansible_user=ubuntu\n\n[gw]\ngw-1 ansible_host=${ingress_gateway_public_ip} cost=$${x}\n"
                   "[k8s_cluster:children]\ngw\n")
    listing = inventory_list(_plugin_source(tmp_path, outputs_file=str(_fixture("terraform-output.json")),
                                            template=str(tpl)))
    assert listing["gw"]["hosts"] == ["gw-1"]
    assert listing["_meta"]["hostvars"]["gw-1"]["ansible_host"] == "203.0.113.29"
    assert listing["_meta"]["hostvars"]["gw-1"]["cost"] == "${x}"


def test_plugin_names_a_missing_output(tmp_path):
    tpl = tmp_path / "bad.tpl"
    tpl.write_text("[gw]\ngw-1 ansible_host=${no_such_output}\n")
    src = _plugin_source(tmp_path, outputs_file=str(_fixture("terraform-output.json")), template=str(tpl))
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", src, "--list"], cwd=REPO,
                          env=ansible_env({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}), text=True, capture_output=True)
    assert proc.returncode != 0
    assert "no Terraform output or template_vars entry named 'no_such_output'" in proc.stdout + proc.stderr


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_graph_shows_gateway_under_k8s_cluster(env):
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", f"inventory/{env}", "--graph", "k8s_cluster"],
                          cwd=REPO, env=ansible_env(), text=True, capture_output=True, check=True)
    lines = proc.stdout.splitlines()
    i = lines.index("  |--@ingress_gateway:") if "  |--@ingress_gateway:" in lines else \
        next(n for n, line in enumerate(lines) if line.strip().endswith("@ingress_gateway:"))
    assert "k8s-ingress-gateway" in lines[i + 1]
    assert lines[0] == "@k8s_cluster:"


def test_shared_group_vars_are_relative_links():
    for env in ("dev", "prod", "local"):
        gv = REPO / "inventory" / env / "group_vars"
        for shared in (REPO / "inventory/shared/group_vars").glob("*.yml"):
            link = gv / shared.name
            assert link.is_symlink(), link
            assert not os.path.isabs(os.readlink(link)), link
            assert link.resolve() == shared.resolve()
        assert (gv / "all" / f"{env}.yml").is_file()


def test_every_host_has_profile_and_instance_data():
    hostvars = inventory_list(str(REPO / "inventory/dev"))["_meta"]["hostvars"]
    assert len(hostvars) == 24
    for host, hv in hostvars.items():
        assert isinstance(hv["node_profile_labels"], dict) and hv["node_profile_labels"], host
        assert isinstance(hv["node_profile_taints"], list), host
        assert hv["instance_type"].startswith("t3."), host
        assert hv["private_ip"].startswith("10.0."), host


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_real_terraform_without_state_is_reported(tmp_path):
    """With the real terraform binary: a directory without state has no outputs -> a clear error."""
    (tmp_path / "tf").mkdir()
    src = _plugin_source(tmp_path, project_path="tf")
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", src, "--list"], cwd=REPO,
                          env=ansible_env({"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}),
                          text=True, capture_output=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert "no Terraform output or template_vars entry named" in out or "output -json" in out, out
