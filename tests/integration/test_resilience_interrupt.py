"""Issue 16: SIGKILL the whole migration at many points of a cold converge (inside each Helm install, mid
bundle apply, mid namespace labelling, mid restarts, ...), re-run: the cluster ends with exactly the objects
of an uninterrupted run, no Helm release pending, and a further run is changed=0 with no write.
Killing ansible-playbook alone leaves no module process behind.

Ten kill points. They are chained on one cluster (each re-run is killed at the next point) to keep one cold
converge's cost; a second cluster converges uninterrupted for the reference listing. The spec is
tests/lib/small_migration.py's."""
from __future__ import annotations

import time

import pytest

from tests.lib import chart_repo
from tests.lib.ansible_run import run_playbook
from tests.lib.helm_state import HelmState
from tests.lib.interrupt import AuditTail, PlaybookProcess, cmdline, outliving, start_time
from tests.lib.object_listing import differences, listing
from tests.lib.small_migration import INVENTORY, PLAYBOOK, migrate_vars, seeded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as repo:
        yield repo


def migrate(kube, charts):
    return run_playbook(PLAYBOOK, inventory=INVENTORY, extra_vars=migrate_vars(charts), env=kube.env())


@pytest.fixture(scope="module")
def reference(tmp_path_factory, charts):
    kube = seeded(tmp_path_factory.mktemp("reference") / "c")
    try:
        done = migrate(kube, charts)
        assert done.rc == 0, done
        yield listing(kube)
    finally:
        kube.stop()


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    cluster = seeded(tmp_path_factory.mktemp("interrupted") / "c")
    yield cluster
    cluster.stop()


def helm_pending(name, status):
    def arm(kube, run):
        return HelmState(kube.kubeconfig).watch_for(name, status).is_set
    return arm


def writes_of(resource, count):
    def arm(kube, run):
        tail = AuditTail(kube)
        return lambda: tail.count(resource) >= count
    arm.writes = (resource, count)
    return arm


def task_started(name):
    def arm(kube, run):
        return lambda: run.saw("TASK [%s" % name)
    return arm


# In the order a cold converge reaches them; each re-run is killed at the next one.
KILL_POINTS = [
    ("inside helm install istio-base", helm_pending("istio-base", "pending-install")),
    ("inside helm install istiod", helm_pending("istiod", "pending-install")),
    ("inside helm install istio-ingressgateway", helm_pending("istio-ingressgateway", "pending-install")),
    ("mid NetworkPolicy bundle apply", writes_of("networkpolicies", 2)),
    ("mid routing bundle apply", writes_of("virtualservices", 1)),
    ("mid namespace labelling", writes_of("namespaces", 1)),
    ("mid injection restarts", writes_of("deployments", 1)),
    ("inside the injection task (restarts left, then the wait for sidecars)",
     task_started("eco2.mesh.sidecar_injection : Label the namespaces, restart")),
    ("mid mTLS/telemetry bundle apply", writes_of("peerauthentications", 1)),
    ("during the summary", task_started("Read the result from the cluster")),
]


def already_written(arm, run_writes):
    """A kill lands some milliseconds after its point: one module may have gone on into the next point's writes
    (labelling, then restarting, in one mesh_injection call). Then the next point is passed already."""
    resource, count = getattr(arm, "writes", (None, 0))
    return resource is not None and run_writes.count(resource) >= count


def test_killed_at_each_point_the_next_run_converges_to_the_uninterrupted_objects(kube, charts, reference):
    helm = HelmState(kube.kubeconfig)
    left_pending, passed_by_earlier_kill, skip = {}, [], None
    for index, (point, arm) in enumerate(KILL_POINTS):
        if point == skip:
            passed_by_earlier_kill.append(point)
            continue
        run_writes = AuditTail(kube)
        run = PlaybookProcess(PLAYBOOK, inventory=INVENTORY, extra_vars=migrate_vars(charts), env=kube.env())
        reached = arm(kube, run)
        run.wait_for(reached, timeout=600, what=point)
        run.kill_tree()
        assert run.tree_pids() == [], point
        left_pending.update(helm.pending())
        following = KILL_POINTS[index + 1:index + 2]
        skip = following[0][0] if following and already_written(following[0][1], run_writes) else None
    # At most one point is passed by the kill before it; the others each killed a run of their own.
    assert len(passed_by_earlier_kill) <= 1, passed_by_earlier_kill
    # Each kill inside helm really left its release pending (then the next run recovered it).
    assert left_pending == {r: "pending-install" for r in ("istio-base", "istiod", "istio-ingressgateway")}

    final = migrate(kube, charts)
    assert final.rc == 0, final
    assert helm.pending() == {}
    assert differences(reference, listing(kube)) == []

    kube.clear_requests()
    again = migrate(kube, charts)
    assert again.rc == 0 and again.changed == 0, again
    assert kube.writes() == []


SLOW_WAIT_PLAY = """
- name: Wait for sidecars that never come
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Wait until every pod runs with a ready sidecar
      eco2.mesh.mesh_sidecar_status:
        namespaces: [scan]
        wait_timeout: 300
        wait_delay: 1
"""


def _waiting(run, in_worker):
    """The wait is under way: in its module process, or (in the worker) in the worker that runs the task."""
    if in_worker:
        return run.saw("TASK [Wait until every pod runs with a ready sidecar]") and len(run.tree_pids()) > 1
    return any("AnsiballZ_mesh_sidecar_status" in cmdline(p) for p in run.tree_pids())


@pytest.mark.parametrize("in_worker", [False, True], ids=["module-process", "in-worker"])
def test_killing_ansible_playbook_alone_leaves_no_module_running(kube, tmp_path, in_worker):
    # scan's pods run without a sidecar (injection is not on for this check): the wait would last 300 s.
    play = tmp_path / "wait.yml"
    play.write_text(SLOW_WAIT_PLAY)
    kube.kubectl("label", "namespace", "scan", "istio-injection-", "istio.io/rev-")
    kube.kubectl("rollout", "restart", "deployment", "-n", "scan")
    try:
        run = PlaybookProcess(str(play), extra_vars={"mesh_module_in_worker": in_worker}, env=kube.env())
        run.wait_for(lambda: _waiting(run, in_worker), timeout=120, what="the waiting module")
        time.sleep(5)  # past the module's start-up (its watch starts right after the arguments are parsed)
        assert _waiting(run, in_worker) and not run.saw("ok: [localhost]")  # still waiting
        # Which way it runs: a module process only when not in the worker.
        assert any("AnsiballZ_mesh_sidecar_status" in cmdline(p) for p in run.tree_pids()) is not in_worker
        started = {p: start_time(p) for p in run.tree_pids() if p != run.proc.pid}  # worker (module, its shell)
        run.kill_controller()
        assert outliving(started) == {}
    finally:
        kube.kubectl("label", "namespace", "scan", "istio-injection=enabled", "--overwrite")
