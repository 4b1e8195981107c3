"""Issue 16: a run killed inside `helm install`/`upgrade` (SIGKILL to the whole ansible-playbook process
group, the release left pending-*) is recovered by the next run; a failed install or upgrade is rolled back
and the run says what it rolled back. Real ansible-playbook, helm v3 and the local cluster."""
from __future__ import annotations

import json
import subprocess

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils.helm_recovery import HelmStorage
from ansible_collections.eco2.mesh.plugins.module_utils.kube import Kube
from tests.lib import chart_repo, cluster as local_cluster
from tests.lib.ansible_run import REPO, TOOLS_BIN, run_playbook
from tests.lib.helm_state import HelmState
from tests.lib.interrupt import PlaybookProcess, cmdline, outliving, start_time

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
    run.kill_tree()
    assert run.tree_pids() == []
    assert helm.status(release) == status  # really left pending by the kill
    return helm


def helm_list(kube):
    out = subprocess.run([str(TOOLS_BIN / "helm"), "list", "-A", "-a", "-o", "json"], env=kube.env(), text=True,
                         capture_output=True, check=True).stdout
    return {r["name"]: (r["chart"], r["status"]) for r in json.loads(out)}


def test_killed_inside_a_helm_upgrade_the_next_run_rolls_back_then_upgrades(kube, charts):
    # (Killed inside each cold install: test_resilience_interrupt.py.)
    old, new = chart_repo.OLDER_RELEASE, chart_repo.LOCAL_RELEASE
    assert istio(kube, charts, istio_version=old).rc == 0
    helm = kill_when_pending(kube, charts, "istiod", "pending-upgrade", istio_version=new)

    upgraded = istio(kube, charts, istio_version=new)
    assert upgraded.rc == 0, upgraded
    assert ("release istio-system/istiod was pending-upgrade at revision 2 (istiod-%s): rolled back to revision 1 "
            "(istiod-%s)" % (new, old)) in upgraded.stdout
    assert helm_list(kube) == {r: ("%s-%s" % (c, new), "deployed") for r, c in zip(RELEASES, ("base", "istiod", "gateway"))}
    assert helm.pending() == {}


RELEASE_PLAY = """
- name: Install one release through the release engine
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: Guard
      eco2.mesh.mesh_run_guard:

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


def release_play(tmp_path, name, values):
    play = tmp_path / ("%s.yml" % name)
    chart = REPO / ".tools/charts" / ("gateway-%s.tgz" % chart_repo.LOCAL_RELEASE)
    play.write_text(RELEASE_PLAY.format(name=name, chart=chart, values=json.dumps(values)))
    return str(play)


def install_release(kube, tmp_path, name, values):
    return run_playbook(release_play(tmp_path, name, values), env=kube.env())


# The API server refuses this Service: the chart renders, helm writes the release, the apply fails.
BAD_VALUES = {"service": {"type": "ClusterIP", "externalTrafficPolicy": "Nowhere"}}
# Every node of inventory/local is tainted: the pods go to the gateway node, as istio_gateway places them.
GOOD_VALUES = {"service": {"type": "ClusterIP"}, "nodeSelector": {"role": "ingress-gateway"},
               "tolerations": [{"key": "role", "operator": "Equal", "value": "ingress-gateway", "effect": "NoSchedule"}]}


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


# Pods that never schedule: `helm install --wait` waits its whole timeout (2m).
NEVER_READY = {"service": {"type": "ClusterIP"}, "nodeSelector": {"eco2.io/nowhere": "true"}}


def test_killing_ansible_playbook_alone_stops_helm_and_the_next_run_recovers(kube, tmp_path):
    helm = HelmState(kube.kubeconfig)
    seen = helm.watch_for("gw-orphan", "pending-install")
    run = PlaybookProcess(release_play(tmp_path, "gw-orphan", NEVER_READY), env=kube.env())
    run.wait_for(seen.is_set, timeout=300, what="gw-orphan pending-install")
    run.wait_for(lambda: any(cmdline(p).startswith(str(TOOLS_BIN / "helm")) for p in run.tree_pids()), timeout=60,
                 what="helm running")
    started = {p: start_time(p) for p in run.tree_pids() if p != run.proc.pid}  # worker, module, helm
    run.kill_controller()  # ansible-playbook alone
    assert outliving(started) == {}
    # helm was stopped inside the install (SIGTERM: helm marks the release failed itself).
    assert helm.status("gw-orphan") == "failed"

    again = install_release(kube, tmp_path, "gw-orphan", GOOD_VALUES)
    assert again.rc == 0, again
    assert "release resilience/gw-orphan was failed at revision 1 (gateway-%s): uninstalled" % (
        chart_repo.LOCAL_RELEASE) in again.stdout
    assert helm.releases()["gw-orphan"] == (1, "deployed")


def test_the_release_records_read_without_helm_are_what_helm_shows(kube, tmp_path):
    """mesh_helm_recover reads history and values from the release Secrets: the same rows and values as
    `helm history` and `helm get values`, for a release of its own (installed, failed, rolled back, upgraded)
    and every other release on the cluster."""
    assert install_release(kube, tmp_path, "gw-records", GOOD_VALUES).rc == 0
    assert install_release(kube, tmp_path, "gw-records", BAD_VALUES).rc != 0  # failed, then rolled back
    assert install_release(kube, tmp_path, "gw-records", dict(GOOD_VALUES, replicaCount=1)).rc == 0
    storage = HelmStorage(Kube({"kubeconfig": kube.kubeconfig}))
    listed = json.loads(subprocess.run([str(TOOLS_BIN / "helm"), "list", "-A", "-a", "-o", "json"], env=kube.env(),
                                       text=True, capture_output=True, check=True).stdout)
    assert "gw-records" in {r["name"] for r in listed}
    for rel in listed:
        name, namespace = rel["name"], rel["namespace"]
        helm = [str(TOOLS_BIN / "helm"), "--namespace", namespace, "--output", "json"]
        history = json.loads(subprocess.run(helm + ["history", name, "--max", "256"], env=kube.env(), text=True,
                                            capture_output=True, check=True).stdout)
        values = json.loads(subprocess.run(helm + ["get", "values", name], env=kube.env(), text=True,
                                           capture_output=True, check=True).stdout) or {}
        fields = ("revision", "status", "chart", "app_version", "description")
        assert sorted(storage.history(name, namespace), key=lambda r: r["revision"]) == [
            {k: row[k] for k in fields} for row in sorted(history, key=lambda r: r["revision"])], name
        assert storage.values(name, namespace) == values, name
    assert [r["status"] for r in sorted(storage.history("gw-records", "resilience"), key=lambda r: r["revision"])] == [
        "superseded", "failed", "superseded", "deployed"]  # installed, failed, rolled back, upgraded
    assert storage.values("gw-records", "resilience") == dict(GOOD_VALUES, replicaCount=1)
