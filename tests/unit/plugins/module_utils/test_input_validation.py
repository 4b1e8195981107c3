"""The one validation pass (issue 16), fast layer: every case of tests/lib/bad_inputs.py through
module_utils.input_validation alone, against the real inventory/local (read with ansible-inventory)."""
from __future__ import annotations

import collections

import pytest

from ansible_collections.eco2.mesh.plugins.action.mesh_validate import role_files
from ansible_collections.eco2.mesh.plugins.module_utils import input_validation as iv
from tests.lib import bad_inputs
from tests.lib.ansible_run import REPO, inventory_list

ISTIO_PHASES = list(iv.PHASE_TAGS)
GITOPS_PHASES = ["istio_base", "istiod", "istio_gateway", "network_policies", "routing", "injection", "gitops"]


@pytest.fixture(scope="module")
def inventories(tmp_path_factory):
    specs, defaults = role_files(iv.roles_of(iv.PHASES))
    names = iv.variable_names(specs)
    out = {"": bad_inputs.inventory_facts(REPO / "inventory/local", names, inventory_list)}
    for variant in ("no_gateway", "no_masters"):
        path = bad_inputs.inventory_variant(variant, tmp_path_factory.mktemp("inv") / variant, REPO)
        out[variant] = bad_inputs.inventory_facts(path, names, inventory_list)
    return out, specs, defaults


def run(inventories, case_changes, inventory="", playbook="istio"):
    facts, specs, defaults = inventories
    variables, groups, hostvars = facts[inventory]
    hostvars = dict(hostvars)
    if playbook == "gitops":
        variables = dict(variables, mesh_render_dir="/tmp/render",
                         **{k: v.format(tmp="/tmp") for k, v in bad_inputs.GITOPS_VARS.items()})
    variables = bad_inputs.apply(variables, case_changes)
    # Extra variables beat host variables: the node profile cases reach every host, as `-e` does.
    for name in iv.HOST_VARIABLES:
        if name in case_changes:
            hostvars = {h: dict(hv, **{name: variables[name]}) for h, hv in hostvars.items()}
    phases = GITOPS_PHASES if playbook == "gitops" else ISTIO_PHASES
    return iv.validate(phases, variables, specs, defaults, groups, hostvars, render=playbook == "gitops")


def test_the_table_has_100_cases_across_every_family():
    families = collections.Counter(c.family for c in bad_inputs.CASES)
    assert len(bad_inputs.CASES) >= 100
    assert set(families) >= {"spec", "auth", "istio", "inventory", "node_join", "aws", "gitops", "injection"}
    assert len({c.id for c in bad_inputs.CASES}) == len(bad_inputs.CASES)


@pytest.mark.parametrize("playbook", ["istio", "gitops"])
def test_the_shipped_local_inventory_is_valid(inventories, playbook):
    errors, warnings = run(inventories, {}, playbook=playbook)
    assert errors == [] and warnings == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_aws_inventories_are_valid(inventories, env):
    specs, defaults = inventories[1:]
    variables, groups, hostvars = bad_inputs.inventory_facts(REPO / "inventory" / env, iv.variable_names(specs),
                                                             inventory_list)
    assert iv.validate(ISTIO_PHASES, variables, specs, defaults, groups, hostvars) == ([], [])


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=lambda c: "%s-%s" % (c.family, c.id))
def test_each_bad_input_is_refused_naming_its_variable_path(inventories, case):
    errors = run(inventories, case.changes, case.inventory, case.playbook)[0]
    assert any(case.expect in e for e in errors), errors


@pytest.mark.parametrize("batch", bad_inputs.batches(bad_inputs.CASES), ids=lambda b: b[0].id)
def test_every_error_of_a_batch_is_reported_at_once(inventories, batch):
    """The integration layer's batches: one pass finds every case of a batch (no error hides another)."""
    changes = {}
    for case in batch:
        changes.update(case.changes)
    errors = run(inventories, changes, batch[0].inventory, batch[0].playbook)[0]
    missing = [c.id for c in batch if not any(c.expect in e for e in errors)]
    assert missing == [], (missing, errors)


def test_values_are_checked_as_the_role_converts_them(inventories):
    """`-e istio_gateway_autoscaling_min=2` arrives as a string; the role's spec makes it an int."""
    errors = run(inventories, {"istio_gateway_autoscaling_min": "2", "verify_aws_enabled": "true",
                               "verify_aws_alb_interval": "5"})[0]
    assert errors == []
    errors = run(inventories, {"istio_gateway_autoscaling_min": "6"})[0]
    assert [e for e in errors if e.startswith("istio_gateway_autoscaling_min: 6 is greater")], errors


@pytest.mark.parametrize("phase", ["istiod", "istio_gateway"])
def test_a_release_role_alone_needs_only_the_spec_parts_it_reads(inventories, phase):
    """Molecule runs istiod or the gateway without an inventory: no zone, domains or certificate to require."""
    specs, defaults = inventories[1:]
    assert iv.validate([phase], {}, specs, defaults, {}, {}) == ([], [])
    unset = {"mesh_zone": None, "mesh_domains": None, "mesh_alb_certificate_arn": None}  # `mesh_zone:` in YAML
    assert iv.validate([phase], unset, specs, defaults, {}, {}) == ([], [])
    errors = iv.validate([phase], {"mesh_telemetry": {"tracing": "yes"}, "mesh_gateway_selector": {}},
                         specs, defaults, {}, {})[0]
    assert [e for e in errors if e.startswith(("mesh_telemetry", "mesh_gateway_selector"))], errors
    assert not [e for e in errors if e.startswith(("mesh_zone", "mesh_domains", "mesh_alb_certificate_arn"))], errors
    whole = iv.validate([phase, "routing"], {}, specs, defaults, {}, {})[0]
    assert {e.split(":")[0] for e in whole} >= {"mesh_zone", "mesh_domains", "mesh_alb_certificate_arn"}, whole


def test_an_unsupported_istio_version_is_a_warning_with_the_override(inventories):
    errors, warnings = run(inventories, {"istio_version": "1.25.0", "istio_allow_unsupported_version": True})
    assert errors == []
    assert warnings and warnings[0].startswith("istio_version: Istio 1.25.0 is outside the versions")


@pytest.mark.parametrize("run_tags, skip_tags, expected", [
    (["all"], [], ISTIO_PHASES),
    (["istio"], [], ["istio_base", "istiod", "istio_gateway"]),
    (["network_policies", "routing"], [], ["network_policies", "routing"]),
    (["all"], ["node_join", "verify_aws"], [p for p in ISTIO_PHASES if p not in ("node_join", "verify_aws")]),
])
def test_the_phases_follow_the_tags(run_tags, skip_tags, expected):
    assert iv.selected_phases(run_tags, skip_tags) == expected


@pytest.mark.parametrize("value, ok", [
    ("100m", True), ("0.5", True), ("512Mi", True), ("1Gi", True), (2, True), ("1e3", True),
    ("512MB", False), ("100 m", False), ("1gi", False), ("", False), (True, False), ("Mi", False),
])
def test_quantities(value, ok):
    assert (iv.quantity_problem(value) is None) == ok


def test_the_join_pattern_honours_exclusion_and_intersection():
    groups = {"all": ["a", "b", "c"], "gw": ["a", "b"], "old": ["b"]}
    assert iv.pattern_hosts("gw:!old", groups) == (["a"], [])
    assert iv.pattern_hosts("gw:&old", groups) == (["b"], [])
    assert iv.pattern_hosts("gw,c,nope", groups) == (["a", "b", "c"], ["nope"])
