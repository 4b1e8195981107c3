"""Issue 16: a run killed inside `helm install`/`upgrade` (SIGKILL to the whole ansible-playbook process
group, the release left pending-*) is recovered by the next run; a failed install or upgrade is rolled back
and the run says what it rolled back. Real ansible-playbook, helm v3 and the local cluster."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.lib import chart_repo, cluster as local_cluster
from tests.lib.ansible_run import REPO, TOOLS_BIN, run_playbook
from tests.lib.helm_state import HelmState
from tests.lib.interrupt import PlaybookProcess

pytestmark = pytest.mark.slow

PLAYBOOK = "playbooks/istio.yml"
INVENTORY = "inventory/local"
RELEASES = ("istio-base", "istiod", "istio-ingressgateway")


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=chart_repo.DEFAULT_VERSIONS) as repo:
        yield repo


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    cluster = local_cluster.start(inventory=str(REPO / INVENTORY), workdir=str(tmp_path_factory.mktemp("helm") / "c"))
    yield cluster
    cluster.stop()


def istio_vars(charts, **extra):
    return dict({"istio_chart_repo_url": charts.url}, **extra)


def istio(kube, charts, *args, **extra):
    return run_playbook(PLAYBOOK, "--tags", "istio", *args, inventory=INVENTORY, extra_vars=istio_vars(charts, **extra),
                        env=kube.env())


def kill_when_pending(kube, charts, release, status, **extra):
    """Start the istio phases and SIGKILL the whole run the moment `release` is `status` (inside helm)."""
    helm = HelmState(kube.kubeconfig)
    seen = helm.watch_for(release, status)
    run = PlaybookProcess(PLAYBOOK, "--tags", "istio", inventory=INVENTORY, extra_vars=istio_vars(charts, **extra),
                          env=kube.env())
    run.wait_for(seen.is_set, timeout=600, what="%s %s" % (release, status))
    run.kill_group()
    assert run.group_pids() == []
    assert helm.status(release) == status  # really left pending by the kill
    return helm


def helm_list(kube):
    out = subprocess.run([str(TOOLS_BIN / "helm"), "list", "-A", "-a", "-o", "json"], env=kube.env(), text=True,
                         capture_output=True, check=True).stdout
    return {r["name"]: (r["chart"], r["status"]) for r in json.loads(out)}


def test_killed_inside_each_helm_install_and_upgrade_the_next_run_recovers(kube, charts):
    old, new = chart_repo.OLDER_RELEASE, chart_repo.LOCAL_RELEASE
    # Cold install, killed inside each of the three installs in turn: each re-run first recovers the
    # release the previous run left pending-install (never deployed: uninstalled), then goes on.
    for release in RELEASES:
        helm = kill_when_pending(kube, charts, release, "pending-install", istio_version=old)
    recovered = istio(kube, charts, istio_version=old)
    assert recovered.rc == 0, recovered
    assert ("release istio-system/istio-ingressgateway was pending-install at revision 1 (gateway-%s): "
            "uninstalled (no revision was ever deployed)" % old) in recovered.stdout
    assert helm_list(kube) == {r: ("%s-%s" % (c, old), "deployed") for r, c in zip(RELEASES, ("base", "istiod", "gateway"))}

    # Killed inside the upgrade of istiod: rolled back to the deployed revision, then upgraded.
    kill_when_pending(kube, charts, "istiod", "pending-upgrade", istio_version=new)
    upgraded = istio(kube, charts, istio_version=new)
    assert upgraded.rc == 0, upgraded
    assert "release istio-system/istiod was pending-upgrade at revision 2 (istiod-%s): rolled back to revision 1 (istiod-%s)" % (
        new, old) in upgraded.stdout
    assert helm_list(kube) == {r: ("%s-%s" % (c, new), "deployed") for r, c in zip(RELEASES, ("base", "istiod", "gateway"))}
    assert helm.pending() == {}

    kube.clear_requests()
    again = istio(kube, charts, istio_version=new)
    assert again.rc == 0 and again.changed == 0, again
    assert kube.writes() == []


RELEASE_PLAY = """
- name: Install one release through the release engine
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: Install
      ansible.builtin.include_role:
        name: eco2.mesh.istio_release
        tasks_from: install
      vars:
        istio_release:
          name: {name}
          namespace: resilience
          chart: gateway
          source: {{chart_ref: "{chart}"}}
          values: {values}
          wait_timeout: 2m
"""


def install_release(kube, tmp_path, name, values):
    play = tmp_path / ("%s.yml" % name)
    chart = REPO / ".tools/charts" / ("gateway-%s.tgz" % chart_repo.LOCAL_RELEASE)
    play.write_text(RELEASE_PLAY.format(name=name, chart=chart, values=json.dumps(values)))
    return run_playbook(str(play), env=kube.env())


# The API server refuses this Service: the chart renders, helm writes the release, the apply fails.
BAD_VALUES = {"service": {"type": "ClusterIP", "externalTrafficPolicy": "Nowhere"}}
GOOD_VALUES = {"service": {"type": "ClusterIP"}}


def test_failed_upgrade_is_rolled_back_and_reported(kube, tmp_path):
    assert install_release(kube, tmp_path, "gw-upgrade", GOOD_VALUES).rc == 0
    failed = install_release(kube, tmp_path, "gw-upgrade", BAD_VALUES)
    assert failed.rc != 0, failed
    assert "Helm could not install or upgrade resilience/gw-upgrade" in failed.stdout
    assert "Rolled back: release resilience/gw-upgrade was failed at revision 2 (gateway-%s): rolled back to revision 1" % (
        chart_repo.LOCAL_RELEASE) in failed.stdout
    helm = HelmState(kube.kubeconfig)
    assert helm.releases()["gw-upgrade"] == (3, "deployed")  # the rollback is revision 3
    # The next run with good values upgrades normally.
    assert install_release(kube, tmp_path, "gw-upgrade", dict(GOOD_VALUES, replicaCount=1)).rc == 0


def test_failed_first_install_is_removed_and_reported(kube, tmp_path):
    failed = install_release(kube, tmp_path, "gw-first", BAD_VALUES)
    assert failed.rc != 0, failed
    assert "Rolled back: release resilience/gw-first was failed at revision 1 (gateway-%s): uninstalled" % (
        chart_repo.LOCAL_RELEASE) in failed.stdout
    assert "gw-first" not in helm_list(kube)
