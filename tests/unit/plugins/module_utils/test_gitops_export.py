"""GitOps export: render output -> Argo CD app-of-apps files (pure part)."""
from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import gitops_export as ge
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm, mesh_policies, mesh_routing

from ...role_defaults import role_spec
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils.file_tree import sync_tree

from .test_mesh_spec import inventory_vars

REPO_URL = "https://git.example.com/eco2/gitops.git"
CHARTS = "https://istio-release.storage.googleapis.com/charts"


def releases():
    return [{"release": r, "chart": c, "version": "1.24.1", "namespace": "istio-system", "repository": CHARTS}
            for r, c in (("istio-base", "base"), ("istiod", "istiod"), ("istio-ingressgateway", "gateway"))]


def values():
    return {"istio-base": istio_helm.helm_values(role_spec("base"), "base"),
            "istiod": istio_helm.helm_values(role_spec("istiod"), "istiod"),
            "istio-ingressgateway": istio_helm.helm_values(role_spec("gateway"), "gateway")}


def bundles(variables):
    spec = ms.build_spec(variables)
    namespaces = [{"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}}
                  for ns, _domains in mesh_policies.meshed_namespaces(spec)]
    return {"namespaces": namespaces, "network-policies": mesh_policies.network_policy_objects(spec),
            "routing": mesh_routing.routing_objects(spec)}


def export(variables=None, **settings):
    cfg = {"repo_url": REPO_URL}
    cfg.update(settings)
    return ge.export_files("dev", releases(), values(), bundles(variables or inventory_vars("dev")), cfg)


def load(text):
    return yaml.safe_load(text)


def test_layout_waves_and_determinism():
    first, second = export(), export()
    assert first == second
    assert list(first) == sorted(first)
    apps = {p: load(t) for p, t in first.items() if p.startswith("dev/apps/")}
    waves = {a["metadata"]["name"]: a["metadata"]["annotations"][ge.SYNC_WAVE] for a in apps.values()}
    assert waves == {"dev-mesh-namespaces": "2", "dev-istio-base": "4", "dev-istiod": "5",
                     "dev-istio-ingressgateway": "6", "dev-mesh-network-policies": "7", "dev-mesh-routing": "50"}
    root = load(first["dev/root.yaml"])
    assert root["spec"]["source"] == {"repoURL": REPO_URL, "targetRevision": "HEAD", "path": "dev/apps"}
    assert root["metadata"]["namespace"] == "argocd"
    assert "dev/manifests/routing/scan/virtualservice-scan-vs.yaml" in first
    assert "dev/manifests/network-policies/character/networkpolicy-%s.yaml" % (
        [o for o in bundles(inventory_vars("dev"))["network-policies"]
         if o["metadata"]["namespace"] == "character"][0]["metadata"]["name"]) in first
    assert "dev/manifests/namespaces/_cluster/namespace-chat.yaml" in first


def test_release_application_carries_the_installed_values_and_settles_on_istiod_rewrites():
    files = export(target_revision="main", repo_path="clusters/eco2", project="mesh")
    istiod = load(files["dev/apps/05-istiod.yaml"])
    src = istiod["spec"]["source"]
    assert src == {"repoURL": CHARTS, "chart": "istiod", "targetRevision": "1.24.1",
                   "helm": {"releaseName": "istiod", "valuesObject": values()["istiod"]}}
    assert istiod["spec"]["project"] == "mesh"
    assert istiod["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "istio-system"}
    assert istiod["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true", "ServerSideApply=true",
                                                           "RespectIgnoreDifferences=true"]
    assert istiod["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    ignored = {(i["kind"], i["name"]): i["jqPathExpressions"] for i in istiod["spec"]["ignoreDifferences"]}
    assert ignored == {("MutatingWebhookConfiguration", "istio-sidecar-injector"): [ge.WEBHOOK_CA_BUNDLE],
                       ("ValidatingWebhookConfiguration", "istio-validator-istio-system"):
                           [ge.WEBHOOK_CA_BUNDLE, ge.WEBHOOK_FAILURE_POLICY]}
    assert "/webhooks/<i>/clientConfig/caBundle" in files["dev/apps/05-istiod.yaml"]  # the pointers, named
    gateway = load(files["dev/apps/06-istio-ingressgateway.yaml"])
    assert "ignoreDifferences" not in gateway["spec"]
    routing = load(files["dev/apps/50-mesh-routing.yaml"])
    assert routing["spec"]["source"] == {"repoURL": REPO_URL, "targetRevision": "main",
                                         "path": "clusters/eco2/dev/manifests/routing", "directory": {"recurse": True}}
    namespaces = load(files["dev/apps/02-mesh-namespaces.yaml"])
    assert namespaces["spec"]["syncPolicy"]["automated"]["prune"] is False


def test_every_bundle_object_is_exported_unchanged():
    files = export()
    for bundle, objects in bundles(inventory_vars("dev")).items():
        for obj in objects:
            assert load(files[ge.object_path("dev", bundle, obj)]) == obj


def test_changing_one_domain_changes_only_its_files():
    variables = inventory_vars("dev")
    before = export(variables)
    changed = copy.deepcopy(variables)
    for d in changed["mesh_domains"]:
        if d["name"] == "location":
            d["port"] = 8080
    after = export(changed)
    differ = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert differ and all("/location/" in p for p in differ), differ


def test_bad_input_names_the_variable():
    with pytest.raises(ge.ExportError, match="gitops_export_repo_url: required"):
        ge.export_files("dev", releases(), values(), {}, {})
    with pytest.raises(ge.ExportError, match="inventory_environment: 'Dev_1'"):
        ge.export_files("Dev_1", releases(), values(), {}, {"repo_url": REPO_URL})
    local = releases()
    local[1]["repository"] = "file:///charts/istiod-1.24.1.tgz"
    with pytest.raises(ge.ExportError, match="istio_chart_repo_url"):
        ge.export_files("dev", local, values(), {}, {"repo_url": REPO_URL})
    with pytest.raises(ge.ExportError, match="gitops_export_argocd_namespace"):
        ge.export_files("dev", releases(), values(), {}, {"repo_url": REPO_URL, "argocd_namespace": "Argo CD"})


def test_oci_chart_source_drops_the_scheme():
    oci = releases()
    for r in oci:
        r["repository"] = "oci://registry.example.com/istio"
    files = ge.export_files("dev", oci, values(), {}, {"repo_url": REPO_URL})
    assert load(files["dev/apps/04-istio-base.yaml"])["spec"]["source"]["repoURL"] == "registry.example.com/istio"


def test_sync_tree_writes_only_changes_and_removes_stale_files(tmp_path):
    files = export()
    first = sync_tree(str(tmp_path), files, owned=("dev/apps", "dev/manifests"))
    assert first["written"] == sorted(files) and first["removed"] == []
    (tmp_path / "dev/topology").mkdir()
    (tmp_path / "dev/topology/topology.svg").write_text("kept")
    assert sync_tree(str(tmp_path), files, owned=("dev/apps", "dev/manifests")) == {"written": [], "removed": []}
    fewer = inventory_vars("dev")
    fewer["mesh_domains"] = [d for d in fewer["mesh_domains"] if d["name"] != "image"]
    fewer["mesh_flows"] = fewer.get("mesh_flows") or []
    smaller = export(fewer)
    check = sync_tree(str(tmp_path), smaller, owned=("dev/apps", "dev/manifests"), check=True)
    assert check["removed"] and all("/image/" in p or "image" in p for p in check["removed"])
    assert (tmp_path / "dev/manifests/routing/image/virtualservice-image-vs.yaml").exists()  # check mode
    done = sync_tree(str(tmp_path), smaller, owned=("dev/apps", "dev/manifests"))
    assert done["removed"] == check["removed"]
    assert not (tmp_path / "dev/manifests/routing/image").exists()
    assert (tmp_path / "dev/topology/topology.svg").read_text() == "kept"
    on_disk = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert on_disk == sorted(list(smaller) + ["dev/topology/topology.svg"])


def test_sync_tree_removes_an_owned_file_no_longer_generated_and_keeps_others(tmp_path):
    (tmp_path / "topology.svg").write_text("old picture")
    (tmp_path / "notes.txt").write_text("the user's")
    owned = ("topology.svg", "missing.svg")
    assert sync_tree(str(tmp_path), {"topology.mmd": "graph"}, owned=owned, check=True) == {
        "written": ["topology.mmd"], "removed": ["topology.svg"]}
    assert (tmp_path / "topology.svg").exists()
    assert sync_tree(str(tmp_path), {"topology.mmd": "graph"}, owned=owned)["removed"] == ["topology.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "topology.mmd"]
    both = {"topology.mmd": "graph", "topology.svg": "<svg/>"}
    assert sync_tree(str(tmp_path), both, owned=owned) == {"written": ["topology.svg"], "removed": []}
