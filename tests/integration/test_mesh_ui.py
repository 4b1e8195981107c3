"""Issue 13 (UI part): the Kiali and Jaeger releases through the real playbook, helm v3 and the local cluster.

The real kiali-server and jaeger charts cannot be downloaded here: the stand-ins in fixtures/charts carry the
targeted names and versions (kiali-server 1.89.0, jaeger 3.4.1) and a values.schema.json admitting exactly
the key paths the roles set, so a wrong key fails `helm install`. Their template renders the values into a
ConfigMap `<release>-values` this test reads back. One cluster and one chart repository for the module;
the tests run in file order (render, check, install, idempotence, refusals, uninstall).
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from tests.lib import chart_repo, ui_charts
from tests.lib import cluster as local_cluster
from tests.lib.ansible_run import TOOLS_BIN, run_playbook

pytestmark = pytest.mark.slow

PLAYBOOK = "playbooks/istio.yml"
RENDER = "playbooks/render.yml"
INVENTORY = "inventory/local"
NAMESPACE = "istio-system"
KIALI_HOST = "kiali.local.growbin.app"  # <ui>.<mesh_zone of inventory/local>
EXPECTED_KIALI = ui_charts.EXPECTED_VALUES["kiali-server"]
EXPECTED_JAEGER = ui_charts.EXPECTED_VALUES["jaeger"]


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    work = tmp_path_factory.mktemp("ui-charts")
    with chart_repo.ChartRepo(work, packages=ui_charts.package(work / "packages")) as repo:
        yield repo


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    """One empty local cluster for the module: the stand-in charts hold no pods, so no nodes are needed."""
    cluster = local_cluster.start(workdir=str(tmp_path_factory.mktemp("ui-cluster")))
    yield cluster
    cluster.stop()


def mesh_ui(kube, charts, *args, playbook=PLAYBOOK, **extra):
    extra_vars = {"mesh_ui_enabled": True, "kiali_chart_repo_url": charts.url, "jaeger_chart_repo_url": charts.url}
    extra_vars.update(extra)
    # The summary (tags verify, always) reads the whole mesh; it is not what these tests are about.
    return run_playbook(playbook, "--tags", "mesh_ui", "--skip-tags", "verify", *args, inventory=INVENTORY,
                        extra_vars=extra_vars, env=kube.env())


def helm_releases(kube):
    out = subprocess.run([str(TOOLS_BIN / "helm"), "list", "-A", "-o", "json"], env=kube.env(), text=True,
                         capture_output=True, check=True).stdout
    return {r["name"]: (r["chart"], r["status"], r["namespace"], r["revision"]) for r in json.loads(out)}


def rendered_values(kube, release):
    """The values the chart rendered into its ConfigMap, or None when it is gone."""
    got = kube.kubectl("get", "configmap", release + "-values", "-n", NAMESPACE, "-o", "json", check=False)
    return json.loads(json.loads(got.stdout)["data"]["values.json"]) if got.returncode == 0 else None


def test_render_writes_the_values_and_contacts_nothing(kube, charts, tmp_path):
    kube.clear_requests()
    out = tmp_path / "render"
    result = mesh_ui(kube, charts, playbook=RENDER, mesh_render_dir=str(out), jaeger_chart_dir=str(ui_charts.CHARTS))
    assert result.rc == 0, result
    assert yaml.safe_load((out / "helm/kiali.values.yaml").read_text()) == EXPECTED_KIALI
    assert yaml.safe_load((out / "helm/jaeger.values.yaml").read_text()) == EXPECTED_JAEGER
    releases = yaml.safe_load((out / "helm/releases.yaml").read_text())
    assert releases == [
        {"release": "jaeger", "chart": "jaeger", "version": "3.4.1", "namespace": NAMESPACE,
         "repository": "file://" + str(ui_charts.CHARTS / "jaeger")},
        {"release": "kiali", "chart": "kiali-server", "version": "1.89.0", "namespace": NAMESPACE,
         "repository": charts.url},
    ]
    assert kube.writes() == []


def test_check_mode_shows_the_values_and_writes_nothing(kube, charts):
    kube.clear_requests()
    result = mesh_ui(kube, charts, "--check", "--diff")
    assert result.rc == 0, result
    assert "MEMORY_MAX_TRACES" in result.stdout and "prometheus-operated.prometheus" in result.stdout
    assert kube.writes() == []
    assert helm_releases(kube) == {}


def test_install_from_the_loopback_repository_then_a_second_run_writes_nothing(kube, charts):
    first = mesh_ui(kube, charts)
    assert first.rc == 0, first
    assert first.changed >= 2, first
    assert helm_releases(kube) == {"jaeger": ("jaeger-3.4.1", "deployed", NAMESPACE, "1"),
                                   "kiali": ("kiali-server-1.89.0", "deployed", NAMESPACE, "1")}
    assert rendered_values(kube, "kiali") == EXPECTED_KIALI
    assert rendered_values(kube, "jaeger") == EXPECTED_JAEGER

    kube.clear_requests()
    second = mesh_ui(kube, charts)
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert kube.writes() == []
    assert {name: r[3] for name, r in helm_releases(kube).items()} == {"jaeger": "1", "kiali": "1"}


def test_a_change_shows_in_the_diff_and_check_mode_keeps_the_release(kube, charts):
    kube.clear_requests()
    result = mesh_ui(kube, charts, "--check", "--diff", jaeger_max_traces=20000)
    assert result.rc == 0, result
    assert re.search(r'^-\s+"value": "15000"', result.stdout, re.M), result
    assert re.search(r'^\+\s+"value": "20000"', result.stdout, re.M), result
    assert kube.writes() == []
    assert rendered_values(kube, "jaeger") == EXPECTED_JAEGER


def test_a_key_the_chart_does_not_read_fails_the_install(kube, charts):
    # Kiali 1.89 reads external_services.tracing.in_cluster_url; internal_url is an older name.
    wrong = {"external_services": {"tracing": {"internal_url": "http://jaeger-query:16686"}}}
    result = mesh_ui(kube, charts, "--tags", "kiali", kiali_extra_values=wrong)
    assert result.rc != 0, result
    assert "Additional property internal_url is not allowed" in result.stdout, result
    assert rendered_values(kube, "kiali") == EXPECTED_KIALI


def test_anonymous_kiali_on_a_public_host_stops_before_any_write(kube, charts):
    kube.clear_requests()
    result = mesh_ui(kube, charts, kiali_auth_strategy="anonymous", mesh_ui_routes=[{"ui": "kiali"}])
    assert result.rc != 0, result
    assert "kiali_auth_strategy=anonymous is refused" in result.stdout, result
    assert KIALI_HOST in result.stdout
    assert kube.writes() == []


def test_a_bad_chart_source_stops_before_any_write(kube, charts):
    kube.clear_requests()
    result = mesh_ui(kube, charts, jaeger_chart_repo_url="ftp://127.0.0.1/charts")
    assert result.rc != 0, result
    assert "jaeger_chart_repo_url must start with https://, http:// or oci://" in result.stdout, result
    assert "ftp://127.0.0.1/charts" in result.stdout
    assert kube.writes() == []


def test_state_absent_uninstalls_both(kube, charts):
    result = mesh_ui(kube, charts, kiali_state="absent", jaeger_state="absent")
    assert result.rc == 0, result
    assert helm_releases(kube) == {}
    assert rendered_values(kube, "kiali") is None and rendered_values(kube, "jaeger") is None
