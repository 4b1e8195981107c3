"""Issue 16, real layer: every case of tests/lib/bad_inputs.py through the real `ansible-playbook` on the local
cluster, batched (cases that do not collide share a run). Each run must fail in the validation pass, before
any write by the admin user in the API server's audit log, and name every case's variable path."""
from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.action.mesh_validate import role_files
from ansible_collections.eco2.mesh.plugins.module_utils import input_validation as iv
from tests.lib import bad_inputs
from tests.lib import cluster as local_cluster
from tests.lib.ansible_run import REPO, inventory_list, run_playbook

pytestmark = pytest.mark.slow

BATCHES = bad_inputs.batches(bad_inputs.CASES)
# Should a case ever pass the validation, the run must not reach anything outside this machine.
SAFETY = {"verify_aws_endpoint_url": "http://127.0.0.1:9", "istio_chart_repo_url": "http://127.0.0.1:9/charts"}


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    cluster = local_cluster.start(inventory=str(REPO / "inventory/local"),
                                  workdir=str(tmp_path_factory.mktemp("bad-inputs") / "cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def inventories(tmp_path_factory):
    names = iv.variable_names(role_files(iv.roles_of(iv.PHASES))[0])
    local = REPO / "inventory/local"
    out = {"": (str(local), bad_inputs.inventory_facts(local, names, inventory_list)[0])}
    for variant in ("no_gateway", "no_masters"):
        path = bad_inputs.inventory_variant(variant, tmp_path_factory.mktemp("inv") / variant, REPO)
        out[variant] = (str(path), bad_inputs.inventory_facts(path, names, inventory_list)[0])
    return out


def test_the_audit_log_sees_a_write(kube):
    """The control: the check below would see a write by the admin user."""
    kube.clear_requests()
    kube.kubectl("create", "namespace", "bad-inputs-control")
    assert [w["verb"] for w in kube.writes()] == ["create"]


@pytest.mark.parametrize("batch", BATCHES, ids=lambda b: "%s-%s-%d" % (b[0].playbook, b[0].inventory or "local", len(b)))
def test_a_batch_of_bad_inputs_is_refused_before_any_write(kube, inventories, batch, tmp_path):
    inventory, base = inventories[batch[0].inventory]
    if batch[0].playbook == "gitops":
        base = dict(base, **{k: v.format(tmp=tmp_path) for k, v in bad_inputs.GITOPS_VARS.items()})
    changes = {}
    for case in batch:
        changes.update(case.changes)
    variables = bad_inputs.apply(base, changes)
    names = {n for case in batch for n in bad_inputs.top_names(case)}
    if batch[0].playbook == "gitops":
        names |= set(bad_inputs.GITOPS_VARS)
    extra = {n: variables[n] for n in names if n in variables}
    extra.update({k: v for k, v in SAFETY.items() if k not in extra})

    kube.clear_requests()
    result = run_playbook("playbooks/%s.yml" % batch[0].playbook, inventory=inventory, extra_vars=extra, env=kube.env())
    assert result.rc != 0, result
    assert "Invalid input (" in result.stdout, result
    assert kube.writes() == []
    missing = [c.id for c in batch if c.expect not in result.stdout]
    assert missing == [], (missing, str(result))
    if batch[0].playbook == "gitops":
        assert not (tmp_path / "export").exists()
