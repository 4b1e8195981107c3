"""Real kubectl 1.33 against kubesim: apply, server-side apply, get/watch, label, rollout, wait, delete."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.kubesim.kubesim_helpers import REPO, api, apply_yaml, kubectl, kubectl_json, wait_until

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: kc, labels: {app: shop, tier: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      nodeSelector: {role: worker}
      containers:
      - name: shop
        image: example/shop:1.0
        ports: [{containerPort: 8080, name: http}]
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: kc, labels: {app: shop}}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module", autouse=True)
def app(sim):
    kubectl(sim, "create", "namespace", "kc")
    apply_yaml(sim, APP)
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/shop", "--timeout=20s")


def test_apply_creates_then_reports_unchanged(sim):
    out = apply_yaml(sim, APP).stdout
    assert "deployment.apps/shop unchanged" in out and "service/shop unchanged" in out
    dep = kubectl_json(sim, "-n", "kc", "get", "deployment", "shop")
    assert "kubectl.kubernetes.io/last-applied-configuration" in dep["metadata"]["annotations"]


def test_deployment_becomes_available_with_replicaset_and_pods(sim):
    dep = kubectl_json(sim, "-n", "kc", "get", "deployment", "shop")
    st = dep["status"]
    assert st["observedGeneration"] == dep["metadata"]["generation"]
    assert st["replicas"] == st["readyReplicas"] == st["availableReplicas"] == st["updatedReplicas"] == 2
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Available"]["status"] == "True" and conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    rs = kubectl_json(sim, "-n", "kc", "get", "rs", "-l", "app=shop")["items"]
    assert len(rs) == 1
    owner = rs[0]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Deployment" and owner["uid"] == dep["metadata"]["uid"] and owner["controller"]
    h = rs[0]["metadata"]["labels"]["pod-template-hash"]
    tmpl = json.loads(json.dumps(rs[0]["spec"]["template"]))
    tmpl["metadata"]["labels"].pop("pod-template-hash")
    assert tmpl == dep["spec"]["template"]
    pods = kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]
    assert len(pods) == 2
    for p in pods:
        assert p["metadata"]["labels"]["pod-template-hash"] == h
        assert p["spec"]["nodeName"] == "k8s-worker-1"
        assert p["status"]["phase"] == "Running" and p["status"]["podIP"] and p["status"]["hostIP"] == "10.0.1.13"
        conds = {c["type"]: c["status"] for c in p["status"]["conditions"]}
        assert conds["Ready"] == conds["ContainersReady"] == conds["PodScheduled"] == conds["Initialized"] == "True"
        assert p["status"]["containerStatuses"][0]["ready"] and p["status"]["containerStatuses"][0]["restartCount"] == 0


def test_get_table_output_and_label_selector(sim):
    out = kubectl(sim, "-n", "kc", "get", "pods", "-l", "app=shop").stdout
    lines = out.strip().splitlines()
    assert lines[0].split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == 3 and all("1/1" in ln and "Running" in ln for ln in lines[1:])
    assert kubectl(sim, "-n", "kc", "get", "pods", "-l", "app=nothing").stderr.strip() == "No resources found in kc namespace."
    wide = kubectl(sim, "-n", "kc", "get", "deploy", "shop", "-o", "wide").stdout
    assert "example/shop:1.0" in wide and "2/2" in wide


def test_service_cluster_ip_and_endpoints_follow_ready_pods(sim):
    svc = kubectl_json(sim, "-n", "kc", "get", "svc", "shop")
    assert svc["spec"]["clusterIP"].startswith("10.9")
    ep = kubectl_json(sim, "-n", "kc", "get", "endpoints", "shop")
    addrs = ep["subsets"][0]["addresses"]
    pods = kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]
    assert sorted(a["ip"] for a in addrs) == sorted(p["status"]["podIP"] for p in pods)
    assert ep["subsets"][0]["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]


def test_label_and_annotate(sim):
    kubectl(sim, "-n", "kc", "label", "deployment", "shop", "release=blue")
    kubectl(sim, "-n", "kc", "annotate", "deployment", "shop", "owner=team-a")
    dep = kubectl_json(sim, "-n", "kc", "get", "deployment", "-l", "release=blue")["items"][0]
    assert dep["metadata"]["annotations"]["owner"] == "team-a"
    kubectl(sim, "-n", "kc", "label", "deployment", "shop", "release-")
    assert kubectl(sim, "-n", "kc", "get", "deploy", "-l", "release=blue", "-o", "name").stdout == ""
    out = kubectl(sim, "-n", "kc", "label", "deployment", "shop", "tier=db", check=False)
    assert out.returncode != 0 and "already has a value" in out.stderr


def test_rollout_restart_makes_new_pods_and_rollout_status_waits(sim):
    before = {p["metadata"]["name"] for p in kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]}
    kubectl(sim, "-n", "kc", "rollout", "restart", "deployment/shop")
    out = kubectl(sim, "-n", "kc", "rollout", "status", "deployment/shop", "--timeout=20s").stdout
    assert 'deployment "shop" successfully rolled out' in out
    after = {p["metadata"]["name"] for p in kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]}
    assert len(after) == 2 and not (before & after)
    rs = kubectl_json(sim, "-n", "kc", "get", "rs", "-l", "app=shop")["items"]
    assert sorted(r["spec"]["replicas"] for r in rs) == [0, 2]
    revs = sorted(int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) for r in rs)
    assert revs == [1, 2]
    hist = kubectl(sim, "-n", "kc", "rollout", "history", "deployment/shop").stdout
    assert "1" in hist and "2" in hist


def test_image_change_rolls_and_undo_goes_back(sim):
    kubectl(sim, "-n", "kc", "set", "image", "deployment/shop", "shop=example/shop:2.0")
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/shop", "--timeout=20s")
    images = {p["spec"]["containers"][0]["image"]
              for p in kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]}
    assert images == {"example/shop:2.0"}
    kubectl(sim, "-n", "kc", "rollout", "undo", "deployment/shop")
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/shop", "--timeout=20s")
    dep = kubectl_json(sim, "-n", "kc", "get", "deployment", "shop")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "example/shop:1.0"


def test_scale(sim):
    kubectl(sim, "-n", "kc", "scale", "deployment/shop", "--replicas=3")
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/shop", "--timeout=20s")
    assert len(kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]) == 3
    kubectl(sim, "-n", "kc", "scale", "deployment/shop", "--replicas=2")
    wait_until(lambda: len(kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]) == 2)


def test_wait_for_condition_available(sim):
    out = kubectl(sim, "-n", "kc", "wait", "--for=condition=Available", "deployment/shop", "--timeout=10s").stdout
    assert "condition met" in out
    out = kubectl(sim, "-n", "kc", "wait", "--for=jsonpath={.status.readyReplicas}=2", "deployment/shop",
                  "--timeout=10s").stdout
    assert "condition met" in out


def test_wait_times_out_on_unavailable_deployment(sim):
    apply_yaml(sim, APP.split("---")[0].replace("name: shop,", "name: stuck,").replace("app: shop", "app: stuck")
               .replace("role: worker", "role: nowhere"))
    out = kubectl(sim, "-n", "kc", "wait", "--for=condition=Available", "deployment/stuck", "--timeout=2s",
                  check=False)
    assert out.returncode != 0 and "timed out" in out.stderr
    kubectl(sim, "-n", "kc", "delete", "deployment", "stuck")


def test_get_watch_streams_changes(sim):
    cmd = [str(REPO / ".tools/bin/kubectl"), "--kubeconfig", sim.kubeconfig, "--cache-dir", sim.cache_dir,
           "-n", "kc", "get", "configmaps", "-l", "watch=me", "-w", "--request-timeout=4s", "-o", "name"]
    proc = subprocess.Popen(cmd, env=sim.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        kubectl(sim, "-n", "kc", "create", "configmap", "watched-cm", "--from-literal=a=b")
        kubectl(sim, "-n", "kc", "label", "configmap", "watched-cm", "watch=me")
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "configmap/watched-cm" in out


def test_get_watch_table_output_with_timeout(sim):
    cmd = [str(REPO / ".tools/bin/kubectl"), "--kubeconfig", sim.kubeconfig, "--cache-dir", sim.cache_dir,
           "-n", "kc", "get", "pods", "-l", "app=shop", "--watch", "--request-timeout=3s"]
    out = subprocess.run(cmd, env=sim.env(), capture_output=True, text=True, timeout=20)
    assert "NAME" in out.stdout and "Running" in out.stdout


def test_server_side_apply_and_field_conflicts(sim):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: kc}\ndata: {owner: alice, shared: x}\n"
    out = kubectl(sim, "apply", "--server-side", "--field-manager=alice", "-f", "-", input=cm).stdout
    assert "serverside-applied" in out
    obj = kubectl_json(sim, "-n", "kc", "get", "cm", "ssa", "--show-managed-fields")
    mf = obj["metadata"]["managedFields"]
    assert mf[0]["manager"] == "alice" and mf[0]["operation"] == "Apply"
    assert "f:owner" in mf[0]["fieldsV1"]["f:data"]
    rv = obj["metadata"]["resourceVersion"]
    kubectl(sim, "apply", "--server-side", "--field-manager=alice", "-f", "-", input=cm)
    again = kubectl_json(sim, "-n", "kc", "get", "cm", "ssa", "--show-managed-fields")
    assert again["metadata"]["resourceVersion"] == rv
    assert again["metadata"]["managedFields"] == mf
    bob = cm.replace("owner: alice, ", "").replace("shared: x", "shared: changed")
    out = kubectl(sim, "apply", "--server-side", "--field-manager=bob", "-f", "-", input=bob, check=False)
    assert out.returncode != 0 and "conflict" in out.stderr.lower() and ".data.shared" in out.stderr
    kubectl(sim, "apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", "-", input=bob)
    obj = kubectl_json(sim, "-n", "kc", "get", "cm", "ssa", "--show-managed-fields")
    assert obj["data"] == {"owner": "alice", "shared": "changed"}
    owners = {e["manager"]: e["fieldsV1"]["f:data"] for e in obj["metadata"]["managedFields"]}
    assert "f:shared" in owners["bob"] and "f:shared" not in owners["alice"]
    # alice drops a field she alone owns: it is pruned
    kubectl(sim, "apply", "--server-side", "--field-manager=alice", "-f", "-",
            input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: kc}\ndata: {}\n")
    assert kubectl_json(sim, "-n", "kc", "get", "cm", "ssa")["data"] == {"shared": "changed"}


def test_server_side_apply_on_a_deployment(sim):
    dep = APP.split("---")[0].replace("name: shop,", "name: ssa-dep,").replace("app: shop", "app: ssa-dep")
    kubectl(sim, "apply", "--server-side", "-f", "-", input=dep)
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/ssa-dep", "--timeout=20s")
    rv = kubectl_json(sim, "-n", "kc", "get", "deploy", "ssa-dep")["metadata"]["resourceVersion"]
    out = kubectl(sim, "apply", "--server-side", "-f", "-", input=dep).stdout
    assert "serverside-applied" in out
    assert kubectl_json(sim, "-n", "kc", "get", "deploy", "ssa-dep")["metadata"]["resourceVersion"] == rv
    # changing the image through apply rolls the deployment
    kubectl(sim, "apply", "--server-side", "-f", "-", input=dep.replace("shop:1.0", "shop:1.1"))
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/ssa-dep", "--timeout=20s")
    pods = kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=ssa-dep")["items"]
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"example/shop:1.1"}


def test_client_side_apply_removes_dropped_fields(sim):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa, namespace: kc}\ndata: {a: '1', b: '2'}\n"
    apply_yaml(sim, cm)
    apply_yaml(sim, cm.replace(", b: '2'", ""))
    assert kubectl_json(sim, "-n", "kc", "get", "cm", "csa")["data"] == {"a": "1"}


def test_crd_kinds_at_every_served_version(sim):
    crd = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: routes.mesh.example.io}
spec:
  group: mesh.example.io
  scope: Namespaced
  names: {plural: routes, singular: route, kind: Route, shortNames: [rt]}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}},
     additionalPrinterColumns: [{name: Host, type: string, jsonPath: .spec.host}]}
  - {name: v1beta1, served: true, storage: false, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  - {name: v1alpha3, served: true, storage: false, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
"""
    apply_yaml(sim, crd)
    crd_obj = kubectl_json(sim, "get", "crd", "routes.mesh.example.io")
    est = {c["type"]: c["status"] for c in crd_obj["status"]["conditions"]}
    assert est["Established"] == "True" and est["NamesAccepted"] == "True"
    for i, version in enumerate(["v1", "v1beta1", "v1alpha3"]):
        apply_yaml(sim, f"apiVersion: mesh.example.io/{version}\nkind: Route\n"
                        f"metadata: {{name: r{i}, namespace: kc}}\nspec: {{host: h{i}.example}}\n")
    out = kubectl(sim, "-n", "kc", "get", "rt").stdout
    assert "HOST" in out and "h0.example" in out and "h2.example" in out
    status, doc = api(sim, "GET", "/apis/mesh.example.io/v1alpha3/namespaces/kc/routes/r0")
    assert status == 200 and doc["apiVersion"] == "mesh.example.io/v1alpha3"
    assert {v["version"] for v in api(sim, "GET", "/apis/mesh.example.io")[1]["versions"]} == {"v1", "v1beta1",
                                                                                               "v1alpha3"}
    kubectl(sim, "delete", "crd", "routes.mesh.example.io")
    assert api(sim, "GET", "/apis/mesh.example.io/v1/namespaces/kc/routes")[0] == 404


def test_delete_and_get_not_found(sim):
    kubectl(sim, "-n", "kc", "create", "configmap", "gone", "--from-literal=a=b")
    out = kubectl(sim, "-n", "kc", "delete", "configmap", "gone").stdout
    assert 'configmap "gone" deleted' in out
    out = kubectl(sim, "-n", "kc", "get", "configmap", "gone", check=False)
    assert out.returncode == 1 and "(NotFound)" in out.stderr
    dup = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: kc}\n"
    kubectl(sim, "create", "-f", "-", input=dup)
    out = kubectl(sim, "create", "-f", "-", input=dup, check=False)
    assert 'Error from server (AlreadyExists)' in out.stderr and 'configmaps "dup" already exists' in out.stderr


def test_get_all_and_output_formats(sim):
    out = kubectl(sim, "-n", "kc", "get", "all").stdout
    assert "deployment.apps/shop" in out and "service/shop" in out and "replicaset.apps/" in out
    name = kubectl(sim, "-n", "kc", "get", "deploy", "shop", "-o", "jsonpath={.metadata.name}").stdout
    assert name == "shop"
    yaml_out = kubectl(sim, "-n", "kc", "get", "deploy", "shop", "-o", "yaml").stdout
    assert "kind: Deployment" in yaml_out


def test_cordon_and_drain_style_node_edits(sim):
    kubectl(sim, "cordon", "k8s-api-scan")
    node = kubectl_json(sim, "get", "node", "k8s-api-scan")
    assert node["spec"]["unschedulable"] is True
    assert "SchedulingDisabled" in kubectl(sim, "get", "node", "k8s-api-scan").stdout
    kubectl(sim, "uncordon", "k8s-api-scan")
    assert not kubectl_json(sim, "get", "node", "k8s-api-scan")["spec"].get("unschedulable")


def test_typed_kubectl_create_commands_send_protobuf(sim):
    sim.clear_requests()
    kubectl(sim, "-n", "kc", "create", "deployment", "typed", "--image=nginx:1.27", "--replicas=2", "--port=80")
    kubectl(sim, "-n", "kc", "create", "role", "reader", "--verb=get,list", "--resource=pods")
    kubectl(sim, "-n", "kc", "create", "rolebinding", "reader", "--role=reader", "--serviceaccount=kc:default")
    kubectl(sim, "-n", "kc", "create", "ingress", "web", "--rule=shop.example.com/*=shop:80")
    token = kubectl(sim, "-n", "kc", "create", "token", "default").stdout.strip()
    assert token
    creates = [r for r in sim.requests() if r["verb"] == "create"]
    assert all(r["status"] == 201 for r in creates), creates
    kubectl(sim, "-n", "kc", "rollout", "status", "deployment/typed", "--timeout=20s")
    dep = kubectl_json(sim, "-n", "kc", "get", "deploy", "typed")
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"
    role = kubectl_json(sim, "-n", "kc", "get", "role", "reader")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    rb = kubectl_json(sim, "-n", "kc", "get", "rolebinding", "reader")
    assert rb["subjects"] == [{"kind": "ServiceAccount", "name": "default", "namespace": "kc"}]
    ing = kubectl_json(sim, "-n", "kc", "get", "ingress", "web")
    path = ing["spec"]["rules"][0]["http"]["paths"][0]
    assert ing["spec"]["rules"][0]["host"] == "shop.example.com"
    assert path["backend"]["service"] == {"name": "shop", "port": {"number": 80}}


def test_describe_service_reads_endpoint_slices(sim):
    slices = kubectl_json(sim, "-n", "kc", "get", "endpointslices", "-l", "kubernetes.io/service-name=shop")["items"]
    assert len(slices) == 1 and slices[0]["addressType"] == "IPv4"
    pods = kubectl_json(sim, "-n", "kc", "get", "pods", "-l", "app=shop")["items"]
    assert sorted(e["addresses"][0] for e in slices[0]["endpoints"]) == sorted(p["status"]["podIP"] for p in pods)
    assert all(e["conditions"]["ready"] for e in slices[0]["endpoints"])
    out = kubectl(sim, "-n", "kc", "describe", "service", "shop").stdout
    ip = pods[0]["status"]["podIP"]
    assert "Endpoints:" in out and f"{ip}:8080" in out


def test_oversized_annotations_are_invalid_like_client_side_apply_of_huge_crds(sim):
    big = "x" * 300_000
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: huge, namespace: kc}}\ndata: {{blob: {big}}}\n"
    out = kubectl(sim, "apply", "-f", "-", input=cm, check=False)
    assert out.returncode != 0 and "metadata.annotations: Too long: must have at most 262144 bytes" in out.stderr
    out = kubectl(sim, "apply", "--server-side", "-f", "-", input=cm)  # no last-applied annotation
    assert "serverside-applied" in out.stdout
