"""Start and stop the local Kubernetes API stand-in (kubesim) for a test.

Used by the pytest fixtures in tests/conftest.py, by Molecule scenarios
(through scripts/kubesim-ctl) and by `make demo`.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class KubeSim:
    """A running `python -m kubesim serve` process on 127.0.0.1."""

    def __init__(self, workdir: Path, inventory: str | None = None, extra_args: list[str] | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = str(self.workdir / "kubeconfig")
        self.log_path = self.workdir / "kubesim.log"
        args = [sys.executable, "-m", "kubesim", "serve", "--host", "127.0.0.1", "--port", "0",
                "--kubeconfig-out", self.kubeconfig]
        if inventory:
            args += ["--inventory", str(inventory)]
        args += extra_args or []
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, text=True)
        deadline = time.time() + 30
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if "ready" in line or not line and self.proc.poll() is not None:
                break
        if "ready" not in line:
            self.stop()
            raise RuntimeError(f"kubesim did not start: {self.log_path.read_text()[-2000:]}")
        # Keep reading stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.url = self._server_from_kubeconfig()
        # kubectl and kubernetes.core cache discovery per address; keep them per test.
        self.cache_dir = str(self.workdir / "kube-cache")
        # kubernetes.core keeps its discovery cache in $TMPDIR; ansible-core puts a unix socket
        # there too, whose path must stay under 108 bytes, so use a short directory of our own.
        self.tmpdir = tempfile.mkdtemp(prefix="ks-", dir="/tmp")

    def _server_from_kubeconfig(self) -> str:
        for raw in Path(self.kubeconfig).read_text().splitlines():
            raw = raw.strip()
            if raw.startswith("server:"):
                return raw.split(":", 1)[1].strip()
        raise RuntimeError("kubeconfig has no server")

    # -- control endpoints -------------------------------------------------
    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def requests(self) -> list[dict]:
        return self._call("GET", "/_kubesim/requests")

    def writes(self) -> list[dict]:
        """Logged requests that change state (dry-run requests excluded)."""
        return [r for r in self.requests()
                if r.get("verb") in {"create", "update", "patch", "delete", "deletecollection"}
                and not r.get("dry_run")]

    def clear_requests(self) -> None:
        self._call("DELETE", "/_kubesim/requests")

    def fault(self, **spec) -> None:
        self._call("POST", "/_kubesim/faults", spec)

    def clear_faults(self) -> None:
        self._call("DELETE", "/_kubesim/faults")

    def env(self) -> dict:
        """Environment for clients (kubectl, helm, ansible) pointed at this server."""
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

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def start(inventory: str | None = None, workdir: str | None = None, extra_args=None) -> KubeSim:
    return KubeSim(Path(workdir or tempfile.mkdtemp(prefix="kubesim-")), inventory, extra_args)
