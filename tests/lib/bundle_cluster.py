"""A local cluster ready for the routing and NetworkPolicy bundles, and a playbook run of their phases."""
from __future__ import annotations

from tests.lib import chart_repo, istio_charts
from tests.lib.ansible_run import REPO, run_playbook

FIXTURES = REPO / "tests/integration/fixtures"
PLAYBOOK = "playbooks/istio.yml"
RENDER_PLAYBOOK = "playbooks/render.yml"
BOTH = "network_policies,routing"


def prepare(kube):
    """Istio's real CRDs (so the API server checks Istio's schemas) and the eco2 namespaces/Services."""
    kube.kubectl("apply", "--server-side", "-f", "-", input=istio_charts.crds_yaml(chart_repo.LOCAL_RELEASE))
    kube.kubectl("wait", "--for=condition=Established", "--timeout=30s",
                 "crd/gateways.networking.istio.io", "crd/virtualservices.networking.istio.io")
    kube.kubectl("apply", "-f", str(FIXTURES / "eco2-workloads.yaml"))


def play(kube, tags=BOTH, extra_vars=None, *args):
    return run_playbook(PLAYBOOK, "--tags", tags, *args, inventory="inventory/local", extra_vars=extra_vars,
                        env=kube.env())


def assert_noop(kube, run):
    """`run()` (a playbook run) succeeds, reports changed=0 and makes no API write (audit log). Returns its result."""
    kube.clear_requests()
    result = run()
    assert result.rc == 0, result
    assert result.changed == 0, result
    assert kube.writes() == []
    return result
