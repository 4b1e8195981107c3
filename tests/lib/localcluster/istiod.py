"""Play the istiod pod: run pilot-discovery on 127.0.0.1 while the istiod chart is installed.

The chart's Deployment is the source of truth: its container args and env become
the local process's (addresses moved to free loopback ports, the kubeconfig ours),
it starts when the Deployment appears and stops when it is deleted. Once it
answers /ready, its pods are annotated as serving, and only then does KWOK mark
them Ready.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from .files import SERVING_ANNOTATION
from .kube import ApiError, Client

NAMESPACE = "istio-system"
DEPLOYMENT = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/istiod"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=app%3Distiod"
ADDRESS_FLAGS = ("--httpAddr", "--httpsAddr", "--grpcAddr", "--secureGRPCAddr", "--monitoringAddr", "--kubeconfig",
                 "--shutdownDuration")
FIELD_VALUES = {"metadata.name": "istiod-local", "metadata.namespace": NAMESPACE, "spec.serviceAccountName": "istiod"}


def _args(container: dict, ports: dict, kubeconfig: str) -> list[str]:
    args, skip = [], False
    for arg in container.get("args") or []:
        if skip:
            skip = False
            continue
        flag = arg.split("=", 1)[0]
        if flag in ADDRESS_FLAGS:
            skip = "=" not in arg
            continue
        args.append(arg)
    return args + [f"--httpAddr=127.0.0.1:{ports['http']}", f"--httpsAddr=127.0.0.1:{ports['webhook']}",
                   f"--grpcAddr=127.0.0.1:{ports['grpc']}", f"--secureGRPCAddr=127.0.0.1:{ports['xds']}",
                   f"--monitoringAddr=127.0.0.1:{ports['monitoring']}", f"--kubeconfig={kubeconfig}",
                   "--shutdownDuration=1s"]


def _env(container: dict) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    for item in container.get("env") or []:
        if item["name"] == "KUBECONFIG":
            continue
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            field = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if field in FIELD_VALUES:
                env[item["name"]] = FIELD_VALUES[field]
    return env


class LocalIstiod:
    def __init__(self, binary: Path, workdir: Path, logdir: Path, piddir: Path, client: Client,
                 kubeconfig: Path, ports: dict, say):
        self.binary, self.workdir, self.logdir, self.piddir = binary, workdir, logdir, piddir
        self.client, self.kubeconfig, self.ports, self.say = client, kubeconfig, ports, say
        self.proc: subprocess.Popen | None = None
        self.serving = False
        self.generation = None
        self._next_start = 0.0

    # -- one pass of the watch loop ---------------------------------------------------------
    def reconcile(self) -> None:
        try:
            deployment = self.client.get(DEPLOYMENT, default={})
        except (ApiError, OSError):
            return
        if not deployment:
            if self.proc:
                self.say("istiod Deployment gone: stopping the local istiod")
                self.stop()
            return
        generation = deployment["metadata"].get("generation")
        if self.proc and self.generation != generation:
            self.say("istiod Deployment changed (generation %s): restarting the local istiod" % generation)
            self.stop()
        if self.proc and self.proc.poll() is not None:
            self.say("local istiod exited with %s; restarting" % self.proc.returncode)
            self._forget()
            self._next_start = time.time() + 2
        if not self.proc and time.time() >= self._next_start:
            self._start(deployment)
        if self.proc and not self.serving:
            self.serving = self._ready()
            if self.serving:
                self.say("local istiod serves (webhook on 127.0.0.1:%d)" % self.ports["webhook"])
        if self.serving:
            self._mark_pods()

    def _start(self, deployment: dict) -> None:
        containers = deployment["spec"]["template"]["spec"]["containers"]
        container = next((c for c in containers if c["name"] == "discovery"), containers[0])
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.logdir / "istiod.log", "a")
        self.proc = subprocess.Popen([str(self.binary), *_args(container, self.ports, str(self.kubeconfig))],
                                     cwd=self.workdir, env=_env(container), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        (self.piddir / "istiod").write_text(str(self.proc.pid))
        self.generation = deployment["metadata"].get("generation")
        self.say("started the local istiod (pid %d)" % self.proc.pid)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ready" % self.ports["http"], timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def _mark_pods(self) -> None:
        try:
            pods = self.client.get(PODS)["items"]
        except (ApiError, OSError):
            return
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp") or (meta.get("annotations") or {}).get(SERVING_ANNOTATION) == "true":
                continue
            try:
                self.client.merge_patch(f"/api/v1/namespaces/{NAMESPACE}/pods/{meta['name']}",
                                        {"metadata": {"annotations": {SERVING_ANNOTATION: "true"}}})
            except (ApiError, OSError):
                pass

    def _forget(self) -> None:
        self.proc = None
        self.serving = False
        (self.piddir / "istiod").unlink(missing_ok=True)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._forget()
