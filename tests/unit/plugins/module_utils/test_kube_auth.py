from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.eco2.mesh.plugins.module_utils.kube import KUBE_ARG_SPEC, Kube


def test_modules_take_kubernetes_core_connection_options():
    assert KUBE_ARG_SPEC == AUTH_ARG_SPEC
    assert {"kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert", "impersonate_user"} <= set(KUBE_ARG_SPEC)


class _FakeApiServer(BaseHTTPRequestHandler):
    """Just enough of an API server on loopback for client creation and discovery; records each request's headers."""
    seen = []
    answers = {
        "/version": {"major": "1", "minor": "31", "gitVersion": "v1.31.13", "gitCommit": "0", "gitTreeState": "clean",
                     "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.26", "compiler": "gc", "platform": "linux/amd64"},
        "/api": {"kind": "APIVersions", "versions": ["v1"]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": []},
    }

    def do_GET(self):  # noqa: N802 - the http.server API
        self.seen.append((self.server.server_port, self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = json.dumps(self.answers.get(self.path.split("?")[0].rstrip("/"), {})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api_servers():
    servers = [ThreadingHTTPServer(("127.0.0.1", port), _FakeApiServer) for port in (0, 0)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    _FakeApiServer.seen.clear()
    yield [s.server_port for s in servers]
    for server, thread in zip(servers, threads):
        server.shutdown()
        server.server_close()
        thread.join()


def test_client_sends_token_and_impersonation_without_a_kubeconfig(api_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    kube = Kube({"host": "http://127.0.0.1:%d" % api_servers[0], "api_key": "t0ken", "validate_certs": False,
                 "impersonate_user": "eco2-viewer", "unrelated": "ignored"})
    assert kube.version()[:2] == (1, 31)
    port, path, headers = _FakeApiServer.seen[-1]
    assert (port, path.rstrip("/")) == (api_servers[0], "/version")
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["impersonate-user"] == "eco2-viewer"


def test_client_from_kubeconfig_and_context(api_servers, tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("""
apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "http://127.0.0.1:%d"}}
- {name: b, cluster: {server: "http://127.0.0.1:%d"}}
users:
- {name: u, user: {token: abc}}
contexts:
- {name: ca, context: {cluster: a, user: u}}
- {name: cb, context: {cluster: b, user: u}}
current-context: ca
""" % tuple(api_servers))
    for params, port in (({"kubeconfig": str(kubeconfig)}, api_servers[0]),
                         ({"kubeconfig": str(kubeconfig), "context": "cb"}, api_servers[1])):
        Kube(params).version()
        assert (_FakeApiServer.seen[-1][0], _FakeApiServer.seen[-1][1].rstrip("/")) == (port, "/version")
        assert _FakeApiServer.seen[-1][2]["authorization"] == "Bearer abc"
