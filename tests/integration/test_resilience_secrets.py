"""Issue 16: no secret in any output at -vvv, in Ansible's log, in rendered or exported files, or in files
a run leaves in its temporary directory. Real runs: the Istio phases on the local cluster with a kubeconfig
that embeds its client key (the cluster also holds a bootstrap join token and a JWT signing key), a render
of every phase, a GitOps export, and the AWS verification on moto with credentials and a session token.
(The node_join join token a master issues is searched in every output of the node_join Molecule scenario:
tests/molecule/test_scenarios.py.)"""
from __future__ import annotations

import base64
import dataclasses
import secrets
from pathlib import Path

import pytest
import yaml

from tests.lib import aws_moto, chart_repo, cluster as local_cluster
from tests.lib.ansible_run import REPO, run_playbook

pytestmark = pytest.mark.slow

INVENTORY = "inventory/local"


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    cluster = local_cluster.start(inventory=str(REPO / INVENTORY), workdir=str(tmp_path_factory.mktemp("sec") / "c"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as repo:
        yield repo


def embedded_kubeconfig(kube, path: Path) -> tuple[str, list[str]]:
    """The cluster's admin kubeconfig with the client certificate and key inline (as kubeadm writes admin.conf);
    returns its path and the secret strings in it."""
    doc = yaml.safe_load(Path(kube.kubeconfig).read_text())
    user = doc["users"][0]["user"]
    key = Path(user.pop("client-key")).read_bytes()
    user["client-key-data"] = base64.b64encode(key).decode()
    user["client-certificate-data"] = base64.b64encode(Path(user.pop("client-certificate")).read_bytes()).decode()
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    body = [line for line in key.decode().splitlines() if line and not line.startswith("-----")]
    return str(path), [user["client-key-data"], body[len(body) // 2]]


def cluster_held_secrets(kube) -> list[str]:
    """A kubeadm bootstrap (join) token and a JWT signing key, stored as the cluster stores them."""
    token_id, token_secret = secrets.token_hex(3), secrets.token_hex(8)
    kube.kubectl("create", "secret", "generic", "bootstrap-token-" + token_id, "-n", "kube-system",
                 "--type", "bootstrap.kubernetes.io/token", "--from-literal=token-id=" + token_id,
                 "--from-literal=token-secret=" + token_secret, "--from-literal=usage-bootstrap-authentication=true")
    jwt_key = "jwt-signing-key-" + secrets.token_hex(16)
    kube.kubectl("create", "namespace", "auth", check=False)
    kube.kubectl("create", "secret", "generic", "auth-jwt-keys", "-n", "auth", "--from-literal=private.pem=" + jwt_key)
    return ["%s.%s" % (token_id, token_secret), token_secret, jwt_key, base64.b64encode(jwt_key.encode()).decode()]


def aws_credentials() -> dict:
    return {"AWS_ACCESS_KEY_ID": "AKIA" + secrets.token_hex(8).upper(),
            "AWS_SECRET_ACCESS_KEY": "aws-secret-" + secrets.token_hex(16),
            "AWS_SESSION_TOKEN": "aws-session-" + secrets.token_hex(24)}


def leaks(needles: list[str], results, roots: list[Path]) -> list[str]:
    """Where any secret shows up: a run's stdout/stderr, or any file under the roots."""
    found = []
    for i, res in enumerate(results):
        for name, text in (("stdout", res.stdout), ("stderr", res.stderr)):
            found += ["run %d %s: %s..." % (i, name, n[:12]) for n in needles if n in text]
    for root in roots:
        for path in (p for p in Path(root).rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            found += ["%s: %s..." % (path, n[:12]) for n in needles if n.encode() in data]
    return found


def test_no_secret_in_any_output_log_or_file(kube, charts, tmp_path):
    (tmp_path / "secret").mkdir(mode=0o700)
    (tmp_path / "logs").mkdir()
    kubeconfig, key_strings = embedded_kubeconfig(kube, tmp_path / "secret/admin.conf")
    held = cluster_held_secrets(kube)
    aws = aws_credentials()
    log = tmp_path / "logs/ansible.log"
    env = dict(kube.env(), KUBECONFIG=kubeconfig, K8S_AUTH_KUBECONFIG=kubeconfig, ANSIBLE_LOG_PATH=str(log), **aws)
    results = []

    istio = run_playbook("playbooks/istio.yml", "--tags", "istio", "-vvv", inventory=INVENTORY,
                         extra_vars={"istio_chart_repo_url": charts.url}, env=env)
    assert istio.rc == 0, istio
    results.append(istio)

    render = tmp_path / "render"
    rendered = run_playbook("playbooks/render.yml", "-vvv", inventory=INVENTORY, extra_vars={"mesh_render_dir": str(render)},
                            env=env)
    assert rendered.rc == 0, rendered
    assert list(render.rglob("*.yaml"))
    results.append(rendered)

    export = tmp_path / "gitops"
    exported = run_playbook("playbooks/gitops.yml", "-vvv", inventory=INVENTORY,
                            extra_vars={"mesh_gitops_dir": str(export),
                                        "gitops_export_repo_url": "https://git.example.com/eco2/gitops.git"}, env=env)
    assert exported.rc == 0, exported
    assert list(export.rglob("*.yaml"))
    results.append(exported)

    (tmp_path / "moto").mkdir()
    server = aws_moto.MotoServer(tmp_path / "moto")
    try:
        seeded = aws_moto.seed_eco2(server, "dev.growbin.app")
        aws_env = dict(aws_moto.aws_env(server.url), ANSIBLE_LOG_PATH=str(log), **aws)
        verified = run_playbook("playbooks/istio.yml", "--tags", "verify_aws", "--skip-tags", "verify", "-vvv",
                                inventory="inventory/dev", env=aws_env,
                                extra_vars={"verify_aws_endpoint_url": server.url,
                                            "mesh_alb_certificate_arn": seeded["certificate_arn"],
                                            "verify_aws_alb_timeout": 3, "verify_aws_alb_interval": 1})
    finally:
        server.stop()
    assert verified.rc == 0, verified
    assert "certificate %s: ISSUED" % seeded["certificate_arn"] in verified.stdout  # the credentials were used
    results.append(verified)

    assert "client-key-data" not in log.read_text() and log.stat().st_size > 0
    needles = key_strings + held + list(aws.values())
    # The search finds a planted secret in a run's output and in a file (it can fail).
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "x.log").write_text("token: %s\n" % held[0])
    found = leaks(needles, [dataclasses.replace(istio, stdout=istio.stdout + aws["AWS_SESSION_TOKEN"])], [planted])
    assert len(found) == 3, found  # the session token; the join token and its secret half
    assert leaks(needles, results, [log.parent, render, export, Path(kube.tmpdir)]) == []
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["ansible.log"]
