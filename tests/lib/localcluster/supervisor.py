"""The local cluster's supervisor: starts every component, routes the API server's egress, plays istiod.

Run detached by `scripts/local-cluster start DIR`; it writes DIR/status ("starting", "ready",
"failed: ...", "stopped") and DIR/config.json, and on SIGTERM stops every process it started.
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
from pathlib import Path

from .. import ports as loopback_ports
from . import files, nodes, pki
from .egress import EgressProxy
from .istiod import LocalIstiod
from .kube import ApiError, Client

REPO = Path(__file__).resolve().parents[3]
BIN = REPO / ".tools/bin"
KUBE_VERSION = "v1.31.13"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"
WEBHOOK_PORTS = (443, 15017)
KUBELET_PORT = 10250


class Supervisor:
    def __init__(self, state: Path, inventory: str | None):
        self.state = state.resolve()
        self.inventory = inventory
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.stopping = threading.Event()
        for sub in ("logs", "pids"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        self.pki = self.state / "pki"
        self.log = open(self.state / "logs/supervisor.log", "a", buffering=1)
        self.ports: dict[str, int] = {}
        self.server = ""
        # A unix socket path must stay under 108 bytes; the state dir may be deep in pytest's tmp.
        self.sockdir = tempfile.mkdtemp(prefix="lc-", dir="/tmp")
        self.istiod: LocalIstiod | None = None

    def take_ports(self) -> None:
        names = ("etcd", "etcd_peer", "apiserver", "kwok", "http", "webhook", "grpc", "xds", "monitoring")
        self.ports = dict(zip(names, loopback_ports.free_ports(len(names))))
        self.server = "https://127.0.0.1:%d" % self.ports["apiserver"]

    def say(self, text: str) -> None:
        self.log.write("%s %s\n" % (time.strftime("%H:%M:%S"), text))

    def status(self, text: str) -> None:
        (self.state / "status").write_text(text + "\n")
        self.say("status: " + text)

    # -- processes ---------------------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], cwd: Path | None = None) -> subprocess.Popen:
        log = open(self.state / "logs" / f"{name}.log", "a")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd or self.state,
                                stdin=subprocess.DEVNULL)
        log.close()
        (self.state / "pids" / name).write_text(str(proc.pid))
        self.procs.append((name, proc))
        self.say("started %s (pid %d)" % (name, proc.pid))
        return proc

    def wait_for(self, what: str, check, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.stopping.is_set():
                raise RuntimeError("stopped while waiting for " + what)
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError("%s exited with %s while waiting for %s (see logs/%s.log)"
                                       % (name, proc.returncode, what, name))
            try:
                if check():
                    return
            except (ApiError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError("timed out waiting for " + what)

    # -- components ---------------------------------------------------------------------------
    def write_config(self) -> None:
        pki.generate(self.pki, SERVICE_IP)
        for user in pki.CLIENTS:
            files.kubeconfig(self.state / ("kubeconfig" if user == pki.ADMIN else f"{pki.client_file_stem(user)}.kubeconfig"),
                             self.server, self.pki, user)
        files.audit_policy(self.state / "audit-policy.yaml",
                           reads_of=pki.ADMIN if os.environ.get(files.AUDIT_READS_ENV) == "1" else None)
        files.egress_selector(self.state / "egress-selector.yaml", os.path.join(self.sockdir, "egress.sock"))
        files.kwok_stages(self.state / "kwok-stages.yaml")
        config = {"server": self.server, "ports": self.ports, "socket_dir": self.sockdir,
                  "kubeconfig": str(self.state / "kubeconfig"), "audit_log": str(self.state / "audit.log"),
                  "admin_user": pki.ADMIN, "kube_version": KUBE_VERSION, "supervisor_pid": os.getpid()}
        (self.state / "config.json").write_text(json.dumps(config, indent=2))
        (self.state / "url").write_text(self.server + "\n")

    def route(self, host: str, port: int):
        if port in WEBHOOK_PORTS and self.istiod and self.istiod.proc:
            return self.ports["webhook"]
        if port == KUBELET_PORT:
            return self.ports["kwok"]
        return None

    def start_etcd(self) -> None:
        p = self.ports
        self.spawn("etcd", ["etcd", "--name", "local", "--data-dir", str(self.state / "etcd-data"),
                            "--listen-client-urls", "http://127.0.0.1:%d" % p["etcd"],
                            "--advertise-client-urls", "http://127.0.0.1:%d" % p["etcd"],
                            "--listen-peer-urls", "http://127.0.0.1:%d" % p["etcd_peer"],
                            "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % p["etcd_peer"],
                            "--initial-cluster", "local=http://127.0.0.1:%d" % p["etcd_peer"],
                            "--log-level", "warn", "--quota-backend-bytes", str(2 * 1024 ** 3)])
        import urllib.request

        def healthy():
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % p["etcd"], timeout=2) as r:
                return b"true" in r.read()
        self.wait_for("etcd", healthy, 30)

    def start_apiserver(self) -> None:
        k = self.pki
        self.spawn("kube-apiserver", [
            str(BIN / "kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:%d" % self.ports["etcd"],
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            "--secure-port=%d" % self.ports["apiserver"],
            "--tls-cert-file=%s" % (k / "apiserver.crt"), "--tls-private-key-file=%s" % (k / "apiserver.key"),
            "--client-ca-file=%s" % (k / "ca.crt"),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=%s" % (k / "sa.pub"),
            "--service-account-signing-key-file=%s" % (k / "sa.key"),
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--audit-policy-file=%s" % (self.state / "audit-policy.yaml"),
            "--audit-log-path=%s" % (self.state / "audit.log"),
            # 0 would be the log writer's default of 100 MB, past which the log is renamed and readers holding
            # an offset find nothing (500 benchmark domains write more); 1 TB is never reached.
            "--audit-log-maxsize=1000000", "--audit-log-mode=blocking",
            "--egress-selector-config-file=%s" % (self.state / "egress-selector.yaml"),
            "--enable-aggregator-routing=true",
            # kubeadm join authenticates with a bootstrap token (the node_join Molecule scenario).
            "--enable-bootstrap-token-auth=true",
            # The Service `kubernetes` would point at 127.0.0.1, which Endpoints refuse.
            "--endpoint-reconciler-type=none",
            "--profiling=false", "--v=1",
        ])
        self.client = Client(self.server, self.pki, pki.client_file_stem("local-cluster:supervisor"))
        self.wait_for("kube-apiserver /readyz", lambda: self.client.request("GET", "/readyz") == "ok", 120)

    def create_nodes(self) -> list[str]:
        names = []
        if not self.inventory:
            return names
        for node, status in nodes.node_objects(self.inventory, KUBE_VERSION):
            name = node["metadata"]["name"]
            try:
                self.client.request("POST", "/api/v1/nodes", node)
            except ApiError as err:
                if err.status != 409:
                    raise
            self.client.merge_patch(f"/api/v1/nodes/{name}/status", {"status": status})
            names.append(name)
        self.say("created %d nodes from %s" % (len(names), self.inventory))
        return names

    def start_controllers(self) -> None:
        k, s = self.pki, self.state
        self.spawn("kube-controller-manager", [
            str(BIN / "kube-controller-manager"),
            "--kubeconfig=%s" % (s / "system-kube-controller-manager.kubeconfig"),
            "--authentication-kubeconfig=%s" % (s / "system-kube-controller-manager.kubeconfig"),
            "--authorization-kubeconfig=%s" % (s / "system-kube-controller-manager.kubeconfig"),
            "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
            "--service-account-private-key-file=%s" % (k / "sa.key"), "--root-ca-file=%s" % (k / "ca.crt"),
            "--use-service-account-credentials=true",
            "--cluster-signing-cert-file=%s" % (k / "ca.crt"), "--cluster-signing-key-file=%s" % (k / "ca.key"),
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            # KWOK renews leases; a generous grace keeps a busy 2-core machine from flapping nodes NotReady
            # (which would drop istiod's endpoints and fail every webhook call).
            "--node-monitor-grace-period=5m", "--v=1",
        ])
        self.spawn("kube-scheduler", [
            str(BIN / "kube-scheduler"),
            "--kubeconfig=%s" % (s / "system-kube-scheduler.kubeconfig"),
            "--authentication-kubeconfig=%s" % (s / "system-kube-scheduler.kubeconfig"),
            "--authorization-kubeconfig=%s" % (s / "system-kube-scheduler.kubeconfig"),
            "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false", "--v=1",
        ])
        self.spawn("kwok", [
            str(BIN / "kwok"), "--kubeconfig=%s" % (s / "local-cluster-kwok.kubeconfig"),
            "--config=%s" % (s / "kwok-stages.yaml"),
            "--manage-all-nodes=true", "--cidr=10.0.0.1/16", "--node-ip=10.0.0.1",
            "--node-lease-duration-seconds=40",
            "--server-address=127.0.0.1:%d" % self.ports["kwok"],
        ])

    def cluster_ready(self, node_names: list[str]) -> bool:
        items = self.client.get("/api/v1/nodes")["items"]
        ready = {n["metadata"]["name"] for n in items
                 if any(c["type"] == "Ready" and c["status"] == "True" for c in (n.get("status") or {}).get("conditions") or [])}
        if not set(node_names) <= ready:
            return False
        self.client.get("/api/v1/namespaces/default/serviceaccounts/default")
        return True

    # -- lifecycle ----------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        (self.state / "pids/supervisor").write_text(str(os.getpid()))
        try:
            self.status("starting")
            self.take_ports()
            self.write_config()
            self.proxy = EgressProxy(os.path.join(self.sockdir, "egress.sock"), self.route,
                                     str(self.state / "logs/egress.log"))
            self.proxy.start()
            self.start_etcd()
            self.start_apiserver()
            node_names = self.create_nodes()
            self.start_controllers()
            self.wait_for("nodes Ready and the default service account", lambda: self.cluster_ready(node_names), 120)
            self.istiod = LocalIstiod(BIN / "pilot-discovery", self.state / "istiod", self.state / "logs",
                                      self.state / "pids", Client(self.server, self.pki, "local-cluster-istiod"),
                                      self.state / "local-cluster-istiod.kubeconfig",
                                      {k: self.ports[k] for k in ("http", "webhook", "grpc", "xds", "monitoring")},
                                      self.say)
            self.status("ready")
            while not self.stopping.wait(0.5):
                for name, proc in self.procs:
                    if proc.poll() is not None:
                        raise RuntimeError("%s exited with %s (see logs/%s.log)" % (name, proc.returncode, name))
                self.istiod.reconcile()
            self.shutdown()
            self.status("stopped")
            return 0
        except Exception as err:  # noqa: BLE001 - any failure is reported in the status file
            self.status("failed: %s" % err)
            self.shutdown()
            return 1

    def shutdown(self) -> None:
        if self.istiod:
            self.istiod.stop()
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            (self.state / "pids" / name).unlink(missing_ok=True)
            self.say("stopped %s" % name)
        self.procs = []
        if hasattr(self, "proxy"):
            self.proxy.stop()
        shutil.rmtree(self.sockdir, ignore_errors=True)
        (self.state / "pids/supervisor").unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    state = Path(argv[0])
    inventory = argv[1] if len(argv) > 1 and argv[1] else None
    return Supervisor(state, inventory).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
