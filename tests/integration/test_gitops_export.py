"""Issue 15: the GitOps export through the real playbook (contacts nothing) and the topology picture.

playbooks/gitops.yml for inventory/dev (example addresses: nothing is contacted) is compared with
what playbooks/render.yml writes, exported twice for determinism, exported with one
domain changed, and its Graphviz SVG is parsed.
"""
from __future__ import annotations

import filecmp
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from tests.lib.ansible_run import REPO, run_playbook

REPO_URL = "https://git.example.com/eco2/gitops.git"
NO_CLUSTER = None  # set per test: a kubeconfig path that does not exist


def export(tmp_path, out, **extra):
    extra_vars = {"mesh_gitops_dir": str(out), "gitops_export_repo_url": REPO_URL}
    extra_vars.update(extra)
    env = {"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig"), "KUBECONFIG": str(tmp_path / "none")}
    return run_playbook("playbooks/gitops.yml", inventory="inventory/dev", extra_vars=extra_vars, env=env)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def objects_of(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def dev_domains():
    return yaml.safe_load((REPO / "inventory/dev/group_vars/all/mesh.yml").read_text())["mesh_domains"]


def test_export_twice_is_byte_identical_and_a_rerun_writes_nothing(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    run = export(tmp_path, first)
    assert run.rc == 0, run
    assert set(run.recap) == {"localhost"}, run.recap  # no inventory host was contacted
    assert "Topology picture: %s/dev/topology/topology.svg" % first in run.stdout
    assert export(tmp_path, second).rc == 0
    assert tree(first) == tree(second)
    assert not (tmp_path / "kube-cache").exists()
    again = export(tmp_path, first)
    assert again.rc == 0 and again.changed == 0, again
    files = tree(first)
    assert sorted(p for p in files if p.startswith("dev/apps/")) == [
        "dev/apps/02-mesh-namespaces.yaml", "dev/apps/04-istio-base.yaml", "dev/apps/05-istiod.yaml",
        "dev/apps/06-istio-ingressgateway.yaml", "dev/apps/07-mesh-network-policies.yaml",
        "dev/apps/50-mesh-routing.yaml"]


def test_changing_one_domain_changes_only_its_files_and_the_picture(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    assert export(tmp_path, before).rc == 0
    domains = [dict(d, port=8080) if d["name"] == "location" else d for d in dev_domains()]
    assert export(tmp_path, after, mesh_domains=domains).rc == 0
    old, new = tree(before / "dev"), tree(after / "dev")
    differ = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p) and not p.startswith(".render/"))
    assert "topology/topology.mmd" in differ and "topology/topology.svg" in differ
    exported = [p for p in differ if not p.startswith("topology/")]
    assert exported and all("/location/" in p for p in exported), differ
    assert "manifests/routing/location/virtualservice-location-vs.yaml" in exported


def test_every_exported_object_and_value_is_what_render_mode_writes(tmp_path):
    out, render = tmp_path / "export", tmp_path / "render"
    assert export(tmp_path, out).rc == 0
    rendered = run_playbook("playbooks/render.yml", inventory="inventory/dev",
                            extra_vars={"mesh_render_dir": str(render)},
                            env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    assert rendered.rc == 0, rendered
    dev = out / "dev"
    for bundle, manifest in (("namespaces", "60-sidecar-injection.yaml"), ("network-policies", "07-network-policies.yaml"),
                             ("routing", "50-routing.yaml")):
        want = sorted(objects_of(render / "manifests" / manifest), key=repr)
        got = sorted((yaml.safe_load(p.read_text()) for p in (dev / "manifests" / bundle).rglob("*.yaml")), key=repr)
        assert got == want, bundle
    apps = {a["metadata"]["name"]: a for a in (yaml.safe_load(p.read_text()) for p in (dev / "apps").glob("*.yaml"))}
    for release in yaml.safe_load((render / "helm/releases.yaml").read_text()):
        source = apps["dev-%s" % release["release"]]["spec"]["source"]
        assert source["chart"] == release["chart"] and source["targetRevision"] == release["version"]
        assert source["repoURL"] == release["repository"]
        assert source["helm"]["valuesObject"] == yaml.safe_load(
            (render / "helm" / ("%s.values.yaml" % release["release"])).read_text())
        assert apps["dev-%s" % release["release"]]["spec"]["destination"]["namespace"] == release["namespace"]
    assert filecmp.cmp(render / "topology/topology.mmd", dev / "topology/topology.mmd", shallow=False)


def svg_texts(path: Path) -> tuple[list[str], list[str]]:
    """(texts, edge titles) of a Graphviz SVG."""
    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ET.parse(path).getroot()
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    edges = [g.find("svg:title", ns).text for g in root.iter("{http://www.w3.org/2000/svg}g")
             if g.get("class") == "edge"]
    return texts, edges


def test_topology_svg_shows_every_domain_and_flow(tmp_path):
    out = tmp_path / "export"
    assert export(tmp_path, out).rc == 0
    texts, edges = svg_texts(out / "dev/topology/topology.svg")
    spec = yaml.safe_load((REPO / "inventory/dev/group_vars/all/mesh.yml").read_text())
    for d in spec["mesh_domains"]:
        name = d["name"]
        assert "namespace %s (meshed)" % name in texts
        assert "VirtualService %s-vs" % name in texts and "Service %s-api" % name in texts
        assert "/api/v1/%s" % name in texts
        assert "istiod->sidecars_%s" % name in edges
    for flow in spec["mesh_flows"]:
        label = "flow %s → %s %s %s" % (flow["from"], flow["to"], flow["protocol"], flow["port"])
        assert label in texts
        assert "svc_%s_%s_api->svc_%s_%s_api" % (flow["from"], flow["from"], flow["to"], flow["to"]) in edges
    assert "node: k8s-ingress-gateway" in texts and "node: k8s-master" in texts
    assert "Ingress istio-ingress" in texts and "AWS ALB (internet-facing)" in texts
    mermaid = (out / "dev/topology/topology.mmd").read_text()
    assert "svc_scan_scan_api ==>|flow scan → character TCP 8000| svc_character_character_api" in mermaid


def test_missing_repository_url_fails_before_writing(tmp_path):
    out = tmp_path / "export"
    env = {"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")}
    result = run_playbook("playbooks/gitops.yml", inventory="inventory/dev",
                          extra_vars={"mesh_gitops_dir": str(out)}, env=env)
    assert result.rc != 0
    assert "gitops_export_repo_url" in result.stdout
    assert not out.exists()


def test_docs_topology_page_is_up_to_date(tmp_path):
    render = tmp_path / "render"
    done = run_playbook("playbooks/render.yml", "--tags", "topology", inventory="inventory/dev",
                        extra_vars={"mesh_render_dir": str(render)},
                        env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    assert done.rc == 0, done
    assert "Topology picture: %s/topology/topology.svg" % render in done.stdout
    page = (REPO / "docs/topology.md").read_text()
    block = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == (render / "topology/topology.mmd").read_text(), "regenerate docs/topology.md (see the page)"
    assert (REPO / "docs/topology-dev.svg").read_bytes() == (render / "topology/topology.svg").read_bytes()
