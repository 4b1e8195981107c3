"""Issue 16: an API server that does not answer (nothing listening, or a listener that never speaks) stops
the migration at its first task, within 30 s of checking, with the server's address named. Real
ansible-playbook; the servers are loopback sockets."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import yaml

from tests.lib.ansible_run import run_playbook

# ansible-playbook's own start (inventory, plays) comes on top of the check's 27 s at most.
STARTUP_ALLOWANCE = 30


def kubeconfig(tmp_path, port):
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:%d" % port,
                                                  "insecure-skip-tls-verify": True}}],
           "users": [{"name": "u", "user": {"token": "not-used"}}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never says a word (a hung API server, a black-holing proxy)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held, stop = [], threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    srv.close()


@pytest.mark.parametrize("server", ["refused", "silent"])
def test_unreachable_api_server_stops_the_run_naming_its_address(tmp_path, server, request):
    port = closed_port() if server == "refused" else request.getfixturevalue("silent_server")
    path = kubeconfig(tmp_path, port)
    start = time.monotonic()
    res = run_playbook("playbooks/istio.yml", inventory="inventory/local",
                       env={"K8S_AUTH_KUBECONFIG": path, "KUBECONFIG": path}, timeout=300)
    elapsed = time.monotonic() - start
    assert res.rc != 0, res
    assert "the Kubernetes API server at https://127.0.0.1:%d does not answer" % port in res.stdout, res
    assert "Wait for the Node" not in res.stdout  # stopped before any phase
    assert elapsed < 30 + STARTUP_ALLOWANCE, elapsed
