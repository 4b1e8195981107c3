"""Faults between the clients (Ansible, helm) and the local API server, on loopback only.

- `Toxiproxy`: the real Toxiproxy (built by bootstrap) as a TCP proxy; its toxics add latency, cut bandwidth,
  slice and stall or reset connections. TLS passes through it untouched.
- `HttpFaults`: a small TLS-terminating HTTP proxy that answers chosen requests itself (429, 500, 503, like
  an overloaded or failing API server) and forwards the rest, streaming, with the admin client's certificate.
Both serve a kubeconfig of their own (`env(kube)`), so the cluster's components keep talking to it directly.
"""
from __future__ import annotations

import http.client
import itertools
import json
import ssl
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import yaml

from tests.lib.ansible_run import TOOLS_BIN
from tests.lib.ports import free_port

LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an http_proxy from the environment
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def kubeconfig_via(kube, server: str, path: Path) -> Path:
    """The cluster's admin kubeconfig with another server address (the proxy's)."""
    doc = yaml.safe_load(Path(kube.kubeconfig).read_text())
    for cluster in doc["clusters"]:
        cluster["cluster"]["server"] = server
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path


class _Proxy:
    url = ""

    def env(self, kube) -> dict:
        """The cluster's client environment, pointed at this proxy."""
        path = kubeconfig_via(kube, self.url, Path(kube.tmpdir) / ("kubeconfig-%s" % type(self).__name__.lower()))
        env = kube.env()
        env.update({"KUBECONFIG": str(path), "K8S_AUTH_KUBECONFIG": str(path)})
        return env

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Toxiproxy(_Proxy):
    """toxiproxy-server on loopback with one proxy, `apiserver`, in front of the API server."""

    def __init__(self, upstream_url: str, log: Path):
        up = urlparse(upstream_url)
        self.api = "http://127.0.0.1:%d" % free_port()
        self._log = open(log, "ab")
        self.proc = subprocess.Popen([str(TOOLS_BIN / "toxiproxy-server"), "-host", "127.0.0.1",
                                      "-port", self.api.rsplit(":", 1)[1], "-seed", "16"],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._await_api(log)
            # Port 0: Toxiproxy binds a free port itself and answers with the address (no race with other tests).
            created = self._call("POST", "/proxies", {"name": "apiserver", "listen": "127.0.0.1:0",
                                                      "upstream": up.netloc, "enabled": True})
        except BaseException:
            self.stop()
            raise
        self.url = "https://" + created["listen"]
        self._names = itertools.count()

    def _await_api(self, log: Path) -> None:
        deadline = time.time() + 20
        while True:
            try:
                self._call("GET", "/version")
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("toxiproxy-server did not start (log: %s)" % log)
                time.sleep(0.1)

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with LOOPBACK.open(req, timeout=10) as resp:
            text = resp.read()
        try:
            return json.loads(text)
        except ValueError:  # /version answers plain text
            return text.decode()

    def toxic(self, kind: str, stream: str = "downstream", toxicity: float = 1.0, **attributes) -> str:
        name = "%s-%s-%d" % (kind, stream, next(self._names))
        self._call("POST", "/proxies/apiserver/toxics", {"name": name, "type": kind, "stream": stream,
                                                         "toxicity": toxicity, "attributes": attributes})
        return name

    def toxics(self) -> list:
        return self._call("GET", "/proxies/apiserver/toxics")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class HttpFaults(_Proxy):
    """A TLS-terminating proxy: `rule(method, path, n)` (n counts the requests, from 1) returns None to forward
    the request, or a status to answer with instead (429 and 503 with `Retry-After: 1`, as the API server's
    priority-and-fairness does). Every injected answer is kept in `injected` as (status, method, path)."""

    def __init__(self, kube, rule):
        doc = yaml.safe_load(Path(kube.kubeconfig).read_text())
        user = doc["users"][0]["user"]
        pki = Path(user["client-certificate"]).parent
        self.upstream = urlparse(kube.url)
        self.upstream_tls = ssl.create_default_context(cafile=doc["clusters"][0]["cluster"]["certificate-authority"])
        self.upstream_tls.load_cert_chain(user["client-certificate"], user["client-key"])
        self.rule = rule
        self.injected: list = []
        self.forwarded = 0
        self._count = itertools.count(1)
        self._lock = threading.Lock()
        serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        serving.load_cert_chain(str(pki / "apiserver.crt"), str(pki / "apiserver.key"))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.server.socket = serving.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def decide(self, method: str, path: str):
        with self._lock:
            status = self.rule(method, path, next(self._count))
            if status is None:
                self.forwarded += 1
            else:
                self.injected.append((status, method, path))
            return status

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.upstream.hostname, self.upstream.port, context=self.upstream_tls,
                                           timeout=300)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _handler(proxy: HttpFaults):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream = None

        def log_message(self, *args):
            pass

        def finish(self):
            BaseHTTPRequestHandler.finish(self)
            if self.upstream is not None:
                self.upstream.close()

        def _inject(self, status: int) -> None:
            body = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "injected by the test's fault proxy", "reason": "InternalError"
                               if status == 500 else "TooManyRequests" if status == 429 else "ServiceUnavailable",
                               "code": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status in (429, 503):
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            status = proxy.decide(self.command, self.path)
            if status is not None:
                self._inject(status)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            for attempt in (1, 2):  # a pooled upstream connection the server closed: open a new one once
                if self.upstream is None:
                    self.upstream = proxy.connect()
                try:
                    self.upstream.request(self.command, self.path, body=body, headers=headers)
                    resp = self.upstream.getresponse()
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(key, value)
            length = resp.getheader("Content-Length")
            if self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
                self.end_headers()  # no body, not even an empty chunked one (it would read as the next answer)
                resp.read()
            elif length is not None:
                self.send_header("Content-Length", length)
                self.end_headers()
                self.wfile.write(resp.read())
            else:  # a watch or a chunked list: pass each piece on as it comes
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    while True:
                        chunk = resp.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                except (http.client.IncompleteRead, OSError):  # either side hung up mid-stream (a watch ended)
                    self.close_connection = True
                    return
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward  # noqa: N815 - the http.server API

    return Handler
