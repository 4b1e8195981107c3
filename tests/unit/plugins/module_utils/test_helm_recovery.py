from __future__ import annotations

import base64
import gzip
import json

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils.helm_recovery import (
    HelmError, HelmStorage, decode_release, describe, history_row, plan_recovery, secrets_driver, up_to_date)


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


# --- HelmStorage: the release records helm keeps in Secrets, read without helm --------------------------------
def record(version, status, config=None, chart=("istiod", "1.24.2"), zipped=True):
    """A release record as helm v3 writes it: JSON, gzipped, base64; the API then base64s the Secret's data."""
    release = {"name": "istiod", "namespace": "istio-system", "version": version, "config": config,
               "info": {"status": status, "description": "Upgrade complete"},
               "chart": {"metadata": {"name": chart[0], "version": chart[1], "appVersion": chart[1]}}}
    raw = json.dumps(release).encode()
    helm_encoded = base64.b64encode(gzip.compress(raw) if zipped else raw)
    return base64.b64encode(helm_encoded).decode()


def secret(version, status, config=None, kind="helm.sh/release.v1", **kw):
    return {"type": kind, "metadata": {"name": "sh.helm.release.v1.istiod.v%d" % version},
            "data": {"release": record(version, status, config, **kw)}}


class FakeKube:
    def __init__(self, items=None, error=None):
        self.items, self.error, self.calls = items or [], error, []

    def list_objects(self, api_version, kind, namespace=None, label_selector=None, missing_ok=True):
        self.calls.append((api_version, kind, namespace, label_selector, missing_ok))
        if self.error:
            raise self.error
        return self.items


@pytest.mark.parametrize("zipped", [True, False])
def test_a_record_decodes_gzipped_or_plain(zipped):
    release = decode_release(record(3, "deployed", {"pilot": {"replicas": 2}}, zipped=zipped))
    assert release["version"] == 3 and release["config"] == {"pilot": {"replicas": 2}}
    assert history_row(release) == {"revision": 3, "status": "deployed", "chart": "istiod-1.24.2",
                                    "app_version": "1.24.2", "description": "Upgrade complete"}


def test_history_and_values_come_from_one_list_of_the_release_secrets():
    kube = FakeKube([secret(2, "deployed", {"b": 2}), secret(1, "superseded", {"a": 1}),
                     secret(9, "deployed", kind="Opaque")])  # a Secret carrying the labels but not helm's type
    storage = HelmStorage(kube)
    assert sorted((r["revision"], r["status"]) for r in storage.history("istiod", "istio-system")) == [
        (1, "superseded"), (2, "deployed")]
    assert storage.values("istiod", "istio-system") == {"b": 2}  # the newest revision's, not the first listed
    assert kube.calls == [("v1", "Secret", "istio-system", "owner=helm,name=istiod", False)]


def test_values_of_a_release_without_user_values_are_empty_and_of_no_release_an_error():
    assert HelmStorage(FakeKube([secret(1, "deployed", None)])).values("istiod", "istio-system") == {}
    with pytest.raises(HelmError, match="release: not found"):
        HelmStorage(FakeKube([])).values("istiod", "istio-system")
    assert HelmStorage(FakeKube([])).history("istiod", "istio-system") == []


def test_a_refused_list_or_a_damaged_record_is_a_helm_error():
    with pytest.raises(HelmError, match="reading the release Secrets failed: forbidden"):
        HelmStorage(FakeKube(error=RuntimeError("forbidden"))).history("istiod", "istio-system")
    damaged = {"type": "helm.sh/release.v1", "data": {"release": "not base64!"}}
    with pytest.raises(HelmError, match="reading the release Secrets failed"):
        HelmStorage(FakeKube([damaged])).history("istiod", "istio-system")


@pytest.mark.parametrize("driver,secrets", [(None, True), ("", True), ("secret", True), ("secrets", True), ("Secrets", False),
                                            ("configmap", False), ("sql", False), ("memory", False)])
def test_only_the_secrets_driver_is_read_without_helm(driver, secrets):
    assert secrets_driver({} if driver is None else {"HELM_DRIVER": driver}) is secrets
