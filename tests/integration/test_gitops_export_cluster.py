"""Issue 15 on the real local cluster: the export is accepted by the API server with Argo CD's own
Application CRD installed, and its ignoreDifferences match what the real istiod rewrites.

The Application CRD comes from the Argo CD Go module pinned in tools/argocd/module.txt
(tests/lib/argocd_crds.py); Istio's CRDs and charts from the istio.io/istio module.
"""
from __future__ import annotations

import copy
import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import gitops_export
from tests.lib import argocd_crds, chart_repo, istio_charts
from tests.lib.ansible_run import TOOLS_BIN, run_playbook

pytestmark = pytest.mark.slow

REPO_URL = "https://git.example.com/eco2/gitops.git"
# What exists before the mesh apps sync: Argo CD's namespace, the platform UIs' namespaces, Prometheus'
# namespace (mesh_telemetry's NetworkPolicies land there), and istio-system (created by the istio-base
# app's CreateNamespace=true in wave 4).
PRE_EXISTING = ("argocd", "grafana", "prometheus", "istio-system")


def export_dev(tmp_path: Path) -> Path:
    out = tmp_path / "export"
    env = {"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")}
    done = run_playbook("playbooks/gitops.yml", inventory="inventory/dev", env=env,
                        extra_vars={"mesh_gitops_dir": str(out), "gitops_export_repo_url": REPO_URL})
    assert done.rc == 0, done
    return out / "dev"


def apply(kube, path: Path, *args: str) -> None:
    done = kube.kubectl("apply", "--server-side", "--field-manager=argocd-controller", *args, "-f", str(path),
                        check=False)
    assert done.returncode == 0, "%s refused:\n%s" % (path, done.stderr)


def contains(live, want) -> bool:
    """Every field of `want` is in `live` with the same value (the server may add defaults)."""
    if isinstance(want, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(live, list) and len(live) == len(want) and all(contains(a, b) for a, b in zip(live, want))
    return live == want


def test_export_for_dev_is_accepted_by_the_api_server_with_the_argocd_crd(cluster, tmp_path):
    kube = cluster
    dev = export_dev(tmp_path)
    apply(kube, argocd_crds.application_crd())
    istio = tmp_path / "istio-crds.yaml"
    istio.write_text(istio_charts.crds_yaml(chart_repo.LOCAL_RELEASE))
    apply(kube, istio)
    kube.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd/applications.argoproj.io",
                 "crd/gateways.networking.istio.io", "crd/virtualservices.networking.istio.io")
    for ns in PRE_EXISTING:
        kube.kubectl("create", "namespace", ns)

    # In sync-wave order, as Argo CD would: each Application, then the manifests of a bundle app.
    for app_file in sorted((dev / "apps").glob("*.yaml")):
        apply(kube, app_file)
        app = yaml.safe_load(app_file.read_text())
        path = app["spec"]["source"].get("path")
        if path:
            apply(kube, dev.parent / path, "--recursive")
    apply(kube, dev / "root.yaml")

    live_apps = {a["metadata"]["name"]: a for a in
                 json.loads(kube.kubectl("get", "applications.argoproj.io", "-n", "argocd", "-o", "json").stdout)["items"]}
    files = [dev / "root.yaml"] + sorted((dev / "apps").glob("*.yaml"))
    assert sorted(live_apps) == sorted(yaml.safe_load(f.read_text())["metadata"]["name"] for f in files)
    for f in files:
        want = yaml.safe_load(f.read_text())
        assert contains(live_apps[want["metadata"]["name"]], want), f  # valuesObject, ignoreDifferences kept

    manifests = sorted((dev / "manifests").rglob("*.yaml"))
    assert len(manifests) > 50
    for f in manifests:
        want = yaml.safe_load(f.read_text())
        meta = want["metadata"]
        args = ["get", "%s.%s" % (want["kind"].lower(), want["apiVersion"].split("/")[0]) if "/" in want["apiVersion"]
                else want["kind"].lower(), meta["name"], "-o", "json"]
        if meta.get("namespace"):
            args += ["-n", meta["namespace"]]
        assert contains(json.loads(kube.kubectl(*args).stdout), want), f


# -- ignoreDifferences against the real istiod -------------------------------------------------

def leaves(value, pointer=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, "%s/%s" % (pointer, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, "%s/%d" % (pointer, i))
    else:
        yield pointer, value


def changed_pointers(installed: dict, live: dict) -> set[str]:
    a, b = dict(leaves(installed.get("webhooks"), "/webhooks")), dict(leaves(live.get("webhooks"), "/webhooks"))
    return {p for p in set(a) | set(b) if a.get(p) != b.get(p)}


def pointer_pattern(jq_path: str) -> re.Pattern:
    """The JSON pointers a jqPathExpression of the simple form `.a[]?.b.c` selects."""
    parts = [p for p in jq_path.split(".") if p]
    return re.compile("^" + "".join("/%s/\\d+" % p[:-3] if p.endswith("[]?") else "/%s" % p for p in parts) + "$")


def helm_manifest(kube, release: str) -> list[dict]:
    out = subprocess.run([str(TOOLS_BIN / "helm"), "get", "manifest", release, "-n", "istio-system"], env=kube.env(),
                         capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def as_created(kube, obj: dict) -> dict:
    """The object as the API server stores it when created from the chart (defaults filled in), not persisted."""
    probe = copy.deepcopy(obj)
    probe["metadata"]["name"] += "-probe"
    done = kube.kubectl("create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(probe))
    return json.loads(done.stdout)


def webhooks_settled(kube) -> bool:
    validator = json.loads(kube.kubectl("get", "validatingwebhookconfiguration", "istio-validator-istio-system",
                                        "-o", "json", check=False).stdout or "{}")
    return bool(validator.get("webhooks")) and all(w.get("failurePolicy") == "Fail" and w["clientConfig"].get("caBundle")
                                                   for w in validator["webhooks"])


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as repo:
        yield repo


def test_ignore_differences_are_exactly_what_the_real_istiod_rewrites(cluster_eco2, charts):
    kube = cluster_eco2
    done = run_playbook("playbooks/istio.yml", "--tags", "istio_base,istiod", inventory="inventory/local",
                        extra_vars={"istio_chart_repo_url": charts.url}, env=kube.env())
    assert done.rc == 0, done
    deadline = time.time() + 120
    while not webhooks_settled(kube) and time.time() < deadline:
        time.sleep(2)
    assert webhooks_settled(kube), "istiod never flipped its validating webhook to Fail with its CA"
    time.sleep(3)  # let istiod finish patching the other webhook configurations

    rules, changes = {}, {}
    for release, chart in (("istio-base", "base"), ("istiod", "istiod")):
        for rule in gitops_export.webhook_ignore_differences(chart, "istio-system"):
            rules[(rule["kind"], rule["name"])] = [pointer_pattern(e) for e in rule["jqPathExpressions"]]
        for obj in helm_manifest(kube, release):
            if obj["kind"] not in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
                continue
            live = json.loads(kube.kubectl("get", obj["kind"].lower(), obj["metadata"]["name"], "-o", "json").stdout)
            changes[(obj["kind"], obj["metadata"]["name"])] = changed_pointers(as_created(kube, obj), live)

    rewritten = {key: ptrs for key, ptrs in changes.items() if ptrs}
    assert rewritten, "istiod rewrote no webhook configuration"
    # Every rewrite is ignored, by a rule of that very object ...
    for key, pointers in rewritten.items():
        assert key in rules, "istiod rewrites %s %s but the export does not ignore it: %s" % (key + (sorted(pointers),))
        unmatched = sorted(p for p in pointers if not any(r.match(p) for r in rules[key]))
        assert not unmatched, "%s %s: rewritten but not ignored: %s" % (key + (unmatched,))
    # ... and every rule ignores something istiod really rewrites (none is speculative).
    for key, patterns in rules.items():
        assert key in changes, "the export ignores %s %s, which the charts do not render" % key
        for pattern in patterns:
            assert any(pattern.match(p) for p in changes[key]), "%s %s: %s matches no rewrite" % (key + (pattern.pattern,))
