from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils.helm_recovery import describe, plan_recovery, up_to_date


def rev(n, status, chart="istiod-1.24.2"):
    return {"revision": n, "status": status, "chart": chart, "app_version": "1.24.2", "description": ""}


@pytest.mark.parametrize("history", [
    [],
    [rev(1, "deployed")],
    [rev(1, "superseded"), rev(2, "deployed")],
    [rev(1, "deployed"), rev(2, "failed")],  # failed is left to the rescue (include_failed)
])
def test_nothing_to_do(history):
    assert plan_recovery(history) is None


def test_pending_install_never_deployed_is_uninstalled():
    plan = plan_recovery([rev(1, "pending-install")])
    assert plan == {"status": "pending-install", "revision": 1, "chart": "istiod-1.24.2", "action": "uninstall"}
    assert describe("istiod", "istio-system", plan) == (
        "release istio-system/istiod was pending-install at revision 1 (istiod-1.24.2): uninstalled (no revision was ever deployed)")


def test_pending_upgrade_rolls_back_to_the_newest_deployed_revision():
    history = [rev(3, "pending-upgrade", "istiod-1.24.2"), rev(1, "superseded", "istiod-1.24.0"),
               rev(2, "deployed", "istiod-1.24.0")]  # helm's order is not relied on
    plan = plan_recovery(history)
    assert plan["action"] == "rollback" and plan["to_revision"] == 2 and plan["revision"] == 3
    assert describe("istiod", "istio-system", plan).endswith(
        "was pending-upgrade at revision 3 (istiod-1.24.2): rolled back to revision 2 (istiod-1.24.0)")


def test_pending_rollback_skips_failed_revisions():
    plan = plan_recovery([rev(1, "superseded"), rev(2, "failed"), rev(3, "pending-rollback")])
    assert (plan["action"], plan["to_revision"]) == ("rollback", 1)


def test_failed_only_with_include_failed():
    history = [rev(1, "deployed"), rev(2, "failed")]
    assert plan_recovery(history, include_failed=True)["to_revision"] == 1
    assert plan_recovery([rev(1, "failed")], include_failed=True)["action"] == "uninstall"


def test_uninstalling_is_finished():
    assert plan_recovery([rev(1, "superseded"), rev(2, "uninstalling")])["action"] == "uninstall"


VALUES = {"pilot": {"nodeSelector": {"role": "control-plane"}}, "meshConfig": {"accessLogFile": "/dev/stdout"}}


def test_up_to_date_when_the_newest_revision_is_deployed_from_that_chart_with_those_values():
    history = [rev(2, "deployed"), rev(1, "superseded", "istiod-1.24.0")]
    assert up_to_date(history, "istiod-1.24.2", dict(VALUES), VALUES)


@pytest.mark.parametrize("history, chart, deployed, why", [
    ([], "istiod-1.24.2", VALUES, "not installed"),
    ([rev(1, "deployed")], None, VALUES, "no chart to compare with"),
    ([rev(1, "deployed")], "istiod-1.24.3", VALUES, "another chart version"),
    ([rev(1, "deployed", "base-1.24.2")], "istiod-1.24.2", VALUES, "another chart"),
    ([rev(1, "deployed")], "istiod-1.24.2", {"pilot": {"nodeSelector": {"role": "infra"}}, "meshConfig": {"accessLogFile": "/dev/stdout"}},
     "a value differs"),
    ([rev(1, "deployed")], "istiod-1.24.2", {}, "values missing"),
    ([rev(1, "deployed"), rev(2, "failed")], "istiod-1.24.2", VALUES, "the newest revision failed"),
    ([rev(1, "superseded"), rev(2, "pending-upgrade")], "istiod-1.24.2", VALUES, "an upgrade is pending"),
])
def test_not_up_to_date(history, chart, deployed, why):
    assert not up_to_date(history, chart, deployed, VALUES), why


def test_no_values_is_the_empty_mapping():
    assert up_to_date([rev(1, "deployed")], "istiod-1.24.2", None, {})
