"""Helpers for kubesim's conformance suite: run real kubectl/helm, raw API calls, polling."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

from tests.lib import kubesim_proc

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INVENTORY = HERE / "inventory"
CHARTS = HERE / "charts"
HELM = REPO / ".tools/bin/helm"


def kubectl(sim: kubesim_proc.KubeSim, *args: str, check: bool = True, input: str | None = None,
            timeout: int = 60) -> subprocess.CompletedProcess:
    cmd = [str(REPO / ".tools/bin/kubectl"), "--kubeconfig", sim.kubeconfig, "--cache-dir", sim.cache_dir, *args]
    proc = subprocess.run(cmd, env=sim.env(), text=True, capture_output=True, input=input, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def kubectl_json(sim: kubesim_proc.KubeSim, *args: str) -> Any:
    return json.loads(kubectl(sim, *args, "-o", "json").stdout)


def helm(sim: kubesim_proc.KubeSim, *args: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [str(HELM), "--kubeconfig", sim.kubeconfig, *args]
    proc = subprocess.run(cmd, env=sim.env(), text=True, capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def api(sim: kubesim_proc.KubeSim, method: str, path: str, body: Any = None,
        content_type: str = "application/json", headers: dict | None = None, raw: bytes | None = None
        ) -> tuple[int, Any]:
    """A raw HTTP call; returns (status, decoded JSON body)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(sim.url + path, data=data, method=method,
                                 headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            try:
                return resp.status, json.loads(text) if text else None
            except ValueError:
                return resp.status, text.decode(errors="replace")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")


def wait_until(fn: Callable[[], Any], timeout: float = 10, interval: float = 0.1) -> Any:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value {last!r})")


def apply_yaml(sim: kubesim_proc.KubeSim, text: str, *extra: str) -> subprocess.CompletedProcess:
    return kubectl(sim, "apply", "-f", "-", *extra, input=text)
