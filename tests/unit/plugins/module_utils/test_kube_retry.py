"""Transient API answers are retried, bounded; a server's verdict (500) is not. Real kubernetes client and
urllib3 against a loopback server that answers what each test scripts."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.util.retry

from ansible_collections.eco2.mesh.plugins.module_utils.kube import API_RETRY, Kube


KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


class _ScriptedServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script = []  # (status, Retry-After or None) for the PATCHes, in order; 200 once exhausted
    patches = []

    def _answer(self, status, doc, retry_after=None):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - the http.server API
        docs = {"/version": {"major": "1", "minor": "31", "gitVersion": "v1.31.13"},
                "/api": {"kind": "APIVersions", "versions": ["v1"]},
                "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
                "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
                     "verbs": ["get", "list", "patch"]}]}}
        self._answer(200, docs.get(self.path.split("?")[0].rstrip("/"), {}))

    def do_PATCH(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, retry_after = self.script[len(self.patches)] if len(self.patches) < len(self.script) else (200, None)
        self.patches.append(status)
        if status == 200:
            self._answer(200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "scan"}})
        else:  # the API server's Status body
            self._answer(status, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status,
                                  "message": "scripted %d" % status}, retry_after=retry_after)

    def log_message(self, *args):
        pass


@pytest.fixture
def sleeps(monkeypatch):
    """The retries' waits, recorded instead of slept."""
    waited = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", waited.append)
    return waited


@pytest.fixture
def kube(tmp_path, sleeps):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ScriptedServer.patches = []
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG % server.server_port)
    yield Kube({"kubeconfig": str(kubeconfig)})
    server.shutdown()
    server.server_close()
    thread.join()


def patch(kube):
    return kube.merge_patch("v1", "Namespace", "scan", {"metadata": {"labels": {"a": "b"}}})


@pytest.mark.parametrize("script", [[(429, "1")], [(503, "1"), (429, None), (503, "2")], [(502, None), (504, None)]])
def test_a_write_answered_with_transient_errors_is_retried_until_it_succeeds(kube, script):
    _ScriptedServer.script = script
    assert patch(kube)["metadata"]["name"] == "scan"
    assert _ScriptedServer.patches == [answer[0] for answer in script] + [200]


def test_the_servers_retry_after_is_honoured_up_to_the_cap(kube, sleeps):
    _ScriptedServer.script = [(429, "2"), (503, "60"), (429, "1")]
    patch(kube)
    assert sleeps == [2, API_RETRY["retry_after_max"], 1]


def test_retries_are_bounded_and_the_last_answer_is_reported(kube, sleeps):
    _ScriptedServer.script = [(503, None)] * 50
    with pytest.raises(RuntimeError, match="Namespace scan: the API server refused the patch: scripted 503"):
        patch(kube)
    assert _ScriptedServer.patches == [503] * (1 + API_RETRY["status"])
    assert sleeps and max(sleeps) <= API_RETRY["backoff_max"]  # exponential backoff, capped


def test_an_internal_error_is_the_servers_verdict_and_is_not_retried(kube, sleeps):
    _ScriptedServer.script = [(500, None)]
    with pytest.raises(RuntimeError, match="scripted 500"):
        patch(kube)
    assert _ScriptedServer.patches == [500]
    assert sleeps == []
