"""Issue 16: the migration under API faults, on the real local cluster, every client (Ansible's modules,
kubernetes.core, helm) going through a fault proxy:
- injected 429 and 503 answers (with Retry-After, as priority-and-fairness sends them), on reads and writes,
  all through a cold converge: the run completes, and a clean run after it has nothing left to do;
- an injected 500 on an apply: the run fails naming the object, never reports success;
- Toxiproxy resetting every connection from the middle of a run: the run fails and says why;
- Toxiproxy stalling every connection: the run stops within the API check's bound, naming the address;
- Toxiproxy latency, jitter, slicing and a bandwidth cap: the repair of what the failed runs left completes,
  and again a clean run has nothing left to do.
The tests share one cluster and run in order (each builds on the state the one before leaves)."""
from __future__ import annotations

import re
import time

import pytest

from tests.lib import chart_repo
from tests.lib.ansible_run import run_playbook
from tests.lib.faults import HttpFaults, Toxiproxy
from tests.lib.interrupt import PlaybookProcess
from tests.lib.small_migration import INVENTORY, PLAYBOOK, migrate_vars, seeded

pytestmark = pytest.mark.slow

WRITES = ("PATCH", "POST", "PUT", "DELETE")
POLICY = ("scan", "mesh-allow-dns-egress")
# The API check's own bound (test_resilience_api.py) plus ansible-playbook's start.
STALL_BOUND = 60


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as repo:
        yield repo


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    cluster = seeded(tmp_path_factory.mktemp("faults") / "c")
    yield cluster
    cluster.stop()


def migrate(charts, env):
    return run_playbook(PLAYBOOK, inventory=INVENTORY, extra_vars=migrate_vars(charts), env=env)


def assert_nothing_left_to_do(kube, charts):
    """A clean run after the faulted one: changed=0 and no write, so the faulted run left the whole state."""
    kube.clear_requests()
    clean = migrate(charts, kube.env())
    assert clean.rc == 0 and clean.changed == 0, str(clean)
    assert kube.writes() == []


def transient(method, path, n):
    """Every 5th write and every 20th read answered 429 or 503 (alternately, Retry-After: 1); the attempt after
    an injected answer to the same request (method and path) always goes through."""
    key = (method, path)
    if key in transient.hit:
        transient.hit.discard(key)
        return None
    kind = "writes" if method in WRITES else "reads"
    transient.seen[kind] += 1
    every = 5 if kind == "writes" else 20
    if transient.seen[kind] % every:
        return None
    transient.hit.add(key)
    return 429 if transient.seen[kind] % (2 * every) else 503


def test_a_cold_converge_under_injected_429_and_503_completes(kube, charts):
    transient.seen, transient.hit = {"writes": 0, "reads": 0}, set()
    with HttpFaults(kube, transient) as proxy:
        run = migrate(charts, proxy.env(kube))
    assert run.rc == 0, str(run)
    statuses = {status for status, _, _ in proxy.injected}
    written = [(status, method) for status, method, _ in proxy.injected if method in WRITES]
    assert statuses == {429, 503}, proxy.injected
    assert len(written) >= 10 and {s for s, _ in written} == {429, 503}, proxy.injected
    assert any("networkpolicies" in path for _, method, path in proxy.injected if method == "PATCH"), proxy.injected
    assert_nothing_left_to_do(kube, charts)


def test_an_apply_answered_500_fails_the_run_naming_the_object(kube, charts):
    namespace, name = POLICY
    kube.kubectl("delete", "networkpolicy", "-n", namespace, name)

    def fail_policy_applies(method, path, n):
        applies = method == "PATCH" and "/networkpolicies/" in path and "dryRun" not in path
        return 500 if applies else None

    with HttpFaults(kube, fail_policy_applies) as proxy:
        run = migrate(charts, proxy.env(kube))
    assert run.rc != 0, str(run)
    assert [(s, m) for s, m, _ in proxy.injected] == [(500, "PATCH")]  # answered once: a 500 is not retried
    assert re.search(r"NetworkPolicy %s/\S+: the API server refused the apply: injected by the test's fault proxy"
                     % namespace, run.stdout), str(run)
    assert re.search(r"failed=1\b", run.stdout), str(run)
    assert kube.kubectl("get", "networkpolicy", "-n", namespace, name, check=False).returncode != 0  # not applied


def test_connections_reset_from_the_middle_of_a_run_fail_it(kube, charts):
    with Toxiproxy(kube.url, kube.workdir / "toxiproxy.log") as proxy:
        run = PlaybookProcess(PLAYBOOK, inventory=INVENTORY, extra_vars=migrate_vars(charts), env=proxy.env(kube))
        try:
            run.wait_for(lambda: run.saw("TASK [eco2.mesh.mesh_network_policies"), timeout=600,
                         what="the NetworkPolicy phase")
            proxy.toxic("reset_peer", "downstream", timeout=0)
            rc = run.proc.wait(300)
        finally:
            run.kill_tree()
    out = run.output
    assert rc != 0, out
    assert re.search(r"failed=[1-9]", out), out
    assert re.search(r"Connection reset by peer|ConnectionResetError|connection reset|does not answer", out), out
    assert kube.kubectl("get", "networkpolicy", "-n", POLICY[0], POLICY[1], check=False).returncode != 0


def test_a_stalled_api_server_stops_the_run_within_the_bound_naming_it(kube, charts):
    with Toxiproxy(kube.url, kube.workdir / "toxiproxy.log") as proxy:
        proxy.toxic("timeout", "downstream", timeout=0)  # every byte held, no connection ever closed
        start = time.monotonic()
        run = migrate(charts, proxy.env(kube))
        elapsed = time.monotonic() - start
    assert run.rc != 0, str(run)
    assert "the Kubernetes API server at %s does not answer" % proxy.url in run.stdout, str(run)
    assert elapsed < STALL_BOUND, elapsed


def test_a_drift_repair_through_latency_slicing_and_a_bandwidth_cap_completes(kube, charts):
    namespace, name = POLICY  # still missing after the failed runs above: a real repair, then nothing left
    with Toxiproxy(kube.url, kube.workdir / "toxiproxy.log") as proxy:
        proxy.toxic("latency", "downstream", latency=40, jitter=30)
        proxy.toxic("slicer", "downstream", average_size=512, size_variation=256, delay=200)
        proxy.toxic("bandwidth", "upstream", rate=2048)
        assert len(proxy.toxics()) == 3
        kube.clear_requests()
        run = migrate(charts, proxy.env(kube))
    assert run.rc == 0 and run.changed >= 1, str(run)
    assert [w for w in kube.writes() if w["resource"] == "networkpolicies" and w["name"] == name]
    kube.kubectl("get", "networkpolicy", "-n", namespace, name)
    assert_nothing_left_to_do(kube, charts)
