#!/usr/bin/env python3
"""`make demo`: rehearse the whole migration on the local cluster.

1. start the local cluster (real kube-apiserver, etcd, controllers, scheduler; KWOK nodes for
   every host of inventory/local with their labels and taints; istiod played by a local process);
2. serve Istio's own charts from a loopback Helm repository;
3. seed the "before" cluster: one namespace, Deployment and Service per domain API;
4. run playbooks/istio.yml against it, which ends with the migration summary;
5. stop everything it started, by PID.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.lib.ansible_run import ansible_env  # noqa: E402
from tests.lib.chart_repo import LOCAL_RELEASE  # noqa: E402
from tests.lib.localcluster.supervisor import KUBE_VERSION  # noqa: E402

STATE = REPO / ".cache/demo"
INVENTORY = "inventory/local"


def step(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def run(cmd: list[str], env: dict | None = None) -> int:
    return subprocess.call(cmd, cwd=REPO, env=env)


def main() -> int:
    python = str(REPO / ".venv/bin/python")
    cluster_state, charts_state = STATE / "cluster", STATE / "charts"
    step("Starting the local cluster (Kubernetes %s) with a KWOK node for every host of inventory/local"
         % KUBE_VERSION)
    if run([python, "scripts/local-cluster", "start", str(cluster_state), "--inventory", INVENTORY]) != 0:
        return 1
    try:
        step("Serving Istio's charts (base, istiod, gateway %s) on a loopback Helm repository" % LOCAL_RELEASE)
        if run([python, "tests/lib/chart_repo.py", "start", str(charts_state), "--versions", LOCAL_RELEASE]) != 0:
            return 1
        kubeconfig = str(cluster_state / "kubeconfig")
        chart_url = (charts_state / "url").read_text().strip()
        env = ansible_env({"K8S_AUTH_KUBECONFIG": kubeconfig, "KUBECONFIG": kubeconfig,
                           "TMPDIR": str(STATE), "ANSIBLE_FORCE_COLOR": "1" if sys.stdout.isatty() else "0"})
        env.pop("ANSIBLE_NOCOLOR", None)
        extra = ["-e", f"mesh_kubeconfig={kubeconfig}", "-e", f"istio_chart_repo_url={chart_url}"]
        playbook = str(REPO / ".venv/bin/ansible-playbook")

        step("Seeding the cluster as it was before the migration: one API per domain, no mesh")
        if run([playbook, "scripts/demo/seed_apps.yml", "-i", INVENTORY, *extra], env) != 0:
            return 1
        step("Running the migration: ansible-playbook playbooks/istio.yml -i inventory/local")
        rc = run([playbook, "playbooks/istio.yml", "-i", INVENTORY, *extra], env)
        step("Demo " + ("succeeded" if rc == 0 else "FAILED") + f" (component logs: {cluster_state / 'logs'})")
        return rc
    finally:
        run([python, "tests/lib/chart_repo.py", "stop", str(charts_state)])
        run([python, "scripts/local-cluster", "stop", str(cluster_state)])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
