"""The local cluster (scripts/local-cluster) as a pytest helper: start, kubectl, writes from the audit log, stop."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.lib.localcluster import audit

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "scripts/local-cluster"


class LocalCluster:
    """A running local cluster in workdir; `writes()` are the admin client's writes since `clear_requests()`."""

    def __init__(self, workdir: Path, inventory: str | None = None):
        self.workdir = Path(workdir).resolve()
        args = [sys.executable, str(CLI), "start", str(self.workdir)]
        if inventory:
            args += ["--inventory", str(inventory)]
        started = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
        if started.returncode != 0 or "ready" not in started.stdout:
            raise RuntimeError("local cluster did not start:\n%s\n%s" % (started.stdout, started.stderr[-4000:]))
        self.config = json.loads((self.workdir / "config.json").read_text())
        self.kubeconfig = self.config["kubeconfig"]
        self.url = self.config["server"]
        self.audit_log = Path(self.config["audit_log"])
        self.cache_dir = str(self.workdir / "kube-cache")
        # kubernetes.core keeps its discovery cache in $TMPDIR; ansible-core puts a unix socket
        # there too, whose path must stay under 108 bytes, so use a short directory of our own.
        self.tmpdir = tempfile.mkdtemp(prefix="lc-t-", dir="/tmp")
        self._mark = audit.size(self.audit_log)

    # -- the audit log -------------------------------------------------------------------------
    def clear_requests(self) -> None:
        self._settled(None)  # the previous window's completions land before the new mark
        self._mark = audit.size(self.audit_log)

    def writes(self) -> list[dict]:
        """Writes by the admin client (helm, kubectl, Ansible) since the last clear_requests(); dry runs excluded."""
        return self._settled(self.config["admin_user"])

    def all_writes(self) -> list[dict]:
        return self._settled(None)

    def dry_runs(self) -> list[dict]:
        """Dry-run writes (dryRun=All) by the admin client since the last clear_requests()."""
        return self._settled(self.config["admin_user"], dry_runs=True)

    def _settled(self, user: str | None, dry_runs: bool = False) -> list[dict]:
        # A request is logged before it is served; its completion (code, a create's name) is logged
        # just after the client has its answer: give that line a moment to land.
        deadline = time.time() + 2
        while True:
            found = audit.writes(self.audit_log, self._mark, user, dry_runs=dry_runs)
            if all(w["code"] is not None for w in found) or time.time() > deadline:
                return found
            time.sleep(0.1)

    # -- clients -------------------------------------------------------------------------------
    def env(self) -> dict:
        """Environment for clients (kubectl, helm, ansible) pointed at this cluster."""
        env = dict(os.environ)
        env.update({
            "KUBECONFIG": self.kubeconfig,
            "K8S_AUTH_KUBECONFIG": self.kubeconfig,
            "TMPDIR": self.tmpdir,
            "HELM_CACHE_HOME": str(self.workdir / "helm-cache"),
            "HELM_CONFIG_HOME": str(self.workdir / "helm-config"),
            "HELM_DATA_HOME": str(self.workdir / "helm-data"),
        })
        return env

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        cmd = [str(REPO / ".tools/bin/kubectl"), "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir, *args]
        return subprocess.run(cmd, env=self.env(), text=True, capture_output=True, check=check, input=input)

    def wait_istiod(self, timeout: float = 120) -> None:
        done = subprocess.run([sys.executable, str(CLI), "istiod", str(self.workdir), "--timeout", str(timeout)],
                              cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)

    def wait_webhook_fail(self, timeout: float = 90) -> None:
        """Until istiod has flipped its validating webhook from Ignore to Fail (after its own check)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            hooks = json.loads(self.kubectl("get", "validatingwebhookconfiguration", "istio-validator-istio-system",
                                            "-o", "json").stdout)["webhooks"]
            if {h["failurePolicy"] for h in hooks} == {"Fail"}:
                return
            time.sleep(1)
        raise AssertionError("istiod's validating webhook never reached failurePolicy Fail")

    def log(self, component: str) -> str:
        path = self.workdir / "logs" / f"{component}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        subprocess.run([sys.executable, str(CLI), "stop", str(self.workdir)], cwd=REPO, capture_output=True)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def start(inventory: str | None = None, workdir: str | None = None) -> LocalCluster:
    return LocalCluster(Path(workdir or tempfile.mkdtemp(prefix="cluster-")), inventory)
