"""The smallest migration that crosses every phase, on a fresh local cluster: three domains (a flow between
two, the auth domain of mesh_auth), their apps seeded first. Shared by the resilience tests that converge it
cold (SIGKILL chain, API faults)."""
from __future__ import annotations

from tests.lib import cluster as local_cluster
from tests.lib.ansible_run import REPO, run_playbook

PLAYBOOK = "playbooks/istio.yml"
INVENTORY = "inventory/local"
SMALL_SPEC = {"mesh_domains": [{"name": "auth"}, {"name": "scan"}, {"name": "character"}],
              "sidecar_injection_wait_delay": 1}


def seeded(workdir):
    """A local cluster in workdir with the spec's apps deployed (Namespaces, Deployments, Services)."""
    kube = local_cluster.start(inventory=str(REPO / INVENTORY), workdir=str(workdir))
    seed = run_playbook("scripts/demo/seed_apps.yml", inventory=INVENTORY, extra_vars=SMALL_SPEC, env=kube.env())
    if seed.rc != 0:
        kube.stop()
        raise AssertionError(str(seed))
    return kube


def migrate_vars(charts):
    return dict(SMALL_SPEC, istio_chart_repo_url=charts.url)
