"""Real kubernetes.core modules (k8s, k8s_info, helm, helm_info) through ansible-playbook against kubesim."""
from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.kubesim.kubesim_helpers import CHARTS, HERE, kubectl_json
from tests.lib.ansible_run import run_playbook

PLAYBOOKS = HERE / "playbooks"


def _run(sim, name: str, tmp: Path, **extra):
    env = {k: v for k, v in sim.env().items() if k != "PATH"}  # keep ansible_env's PATH (venv + .tools/bin)
    # ansible-core's local RPC socket lives under TMPDIR and AF_UNIX paths are limited to 108 bytes, so give
    # each server a short private TMPDIR (kubernetes.core keeps its per-server discovery cache there too)
    if not hasattr(sim, "short_tmp"):
        sim.short_tmp = tempfile.mkdtemp(prefix="ksa-")
        atexit.register(shutil.rmtree, sim.short_tmp, True)
    env["TMPDIR"] = sim.short_tmp
    env["ANSIBLE_LOCAL_TEMP"] = str(Path(sim.short_tmp) / "ansible-local")
    res = run_playbook(str(PLAYBOOKS / name), extra_vars={"out_dir": str(tmp), **extra}, env=env, timeout=300)
    assert res.rc == 0 and res.failed == 0, str(res)
    return res


@pytest.fixture(scope="module")
def first_run(sim, tmp_path_factory):
    out = tmp_path_factory.mktemp("ansible")
    res = _run(sim, "k8s_apply.yml", out)
    return res, json.loads((out / "k8s_apply.json").read_text()), out


def test_k8s_list_apply_with_wait_creates_ready_app(sim, first_run):
    res, data, _ = first_run
    assert res.changed >= 2 and data["applied_changed"] is True
    assert data["pods"] == ["Running", "Running"] and set(data["pod_nodes"]) == {"k8s-worker-1"}
    dep = kubectl_json(sim, "-n", "ansible-apps", "get", "deploy", "api")
    assert dep["status"]["availableReplicas"] == 2


def test_k8s_server_side_apply_records_the_field_manager(sim, first_run):
    _, data, _ = first_run
    assert data["ssa_changed"] is True and data["ssa_managers"] == ["eco2-mesh"]
    cm = kubectl_json(sim, "-n", "ansible-apps", "get", "cm", "ssa-settings", "--show-managed-fields")
    assert cm["metadata"]["managedFields"][0]["operation"] == "Apply"


def test_k8s_info_with_label_selectors(first_run):
    _, data, _ = first_run
    assert data["ssa_only"] == ["ssa-settings"]


def test_second_run_reports_no_change_and_writes_nothing_new(sim, first_run):
    _, _, out = first_run
    before = {o["metadata"]["name"]: o["metadata"]["resourceVersion"]
              for kind in ("deploy", "svc", "cm") for o in kubectl_json(sim, "-n", "ansible-apps", "get", kind)["items"]}
    sim.clear_requests()
    res = _run(sim, "k8s_apply.yml", out)
    assert res.changed == 0, str(res)
    data = json.loads((out / "k8s_apply.json").read_text())
    assert data["applied_changed"] is False and data["ssa_changed"] is False and data["waited_changed"] is False
    after = {o["metadata"]["name"]: o["metadata"]["resourceVersion"]
             for kind in ("deploy", "svc", "cm") for o in kubectl_json(sim, "-n", "ansible-apps", "get", kind)["items"]}
    assert after == before
    # kubernetes.core re-sends lists (ports, containers) as patches and SSA always PATCHes: none changed state
    assert all(w.get("changed") is False for w in sim.writes())


def test_second_run_of_list_free_objects_sends_zero_writes(fresh_sim, tmp_path):
    sim = fresh_sim
    first = _run(sim, "k8s_idempotent.yml", tmp_path)
    assert first.changed == 1  # one task applying a list of three objects
    assert kubectl_json(sim, "-n", "idem", "get", "secret", "token")["data"]["token"] == "czNjcjN0"
    assert kubectl_json(sim, "get", "namespace", "idem")["metadata"]["labels"]["istio-injection"] == "enabled"
    sim.clear_requests()
    second = _run(sim, "k8s_idempotent.yml", tmp_path)
    assert second.changed == 0, str(second)
    assert sim.writes() == []
    assert {r["verb"] for r in sim.requests() if r["resource"]} <= {"get", "list"}


def test_k8s_absent_deletes_and_is_idempotent(sim, first_run):
    _run(sim, "k8s_absent.yml", first_run[2])
    assert kubectl_json(sim, "-n", "ansible-apps", "get", "deploy")["items"] == []
    assert kubectl_json(sim, "-n", "ansible-apps", "get", "pods")["items"] == []


def test_helm_and_helm_info_modules(sim, tmp_path):
    res = _run(sim, "helm.yml", tmp_path, chart_dir=str(CHARTS / "webapp"))
    data = json.loads((tmp_path / "helm.json").read_text())
    assert data["changed"] is True and data["status"] == "deployed" and data["revision"] == "1"
    assert data["values"]["message"] == "from-ansible"
    assert kubectl_json(sim, "-n", "helm-ansible", "get", "deploy", "ansible-web")["status"]["readyReplicas"] == 2
    again = _run(sim, "helm.yml", tmp_path, chart_dir=str(CHARTS / "webapp"))
    assert json.loads((tmp_path / "helm.json").read_text())["changed"] is False and again.changed == 0
