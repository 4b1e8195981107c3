"""Pure parts of the preflight and verification checks (module_utils istio_preflight, istio_verify)."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import istio_verify as mv
from ansible_collections.eco2.mesh.plugins.module_utils import istio_preflight as mp


def crd(name, release=None, ns="istio-system", established=True):
    ann = {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": ns} if release else {}
    return {"metadata": {"name": name, "annotations": ann}, "spec": {"group": name.split(".", 1)[1]},
            "status": {"conditions": [{"type": "Established", "status": "True" if established else "False"}]}}


def test_crd_ownership():
    crds = [crd("gateways.networking.istio.io", "istio-base"), crd("virtualservices.networking.istio.io"),
            crd("certificates.cert-manager.io"), crd("sidecars.networking.istio.io", "istio", "default")]
    assert mp.crd_findings(crds, "istio-base", "istio-system") == [
        "sidecars.networking.istio.io (owner: default/istio)", "virtualservices.networking.istio.io (owner: none)"]


def test_pdb_blocks_drain():
    assert mp.pdb_blocks_drain({"pilot": {"autoscaleEnabled": False, "replicaCount": 1}})
    assert not mp.pdb_blocks_drain({"pilot": {"autoscaleEnabled": False, "replicaCount": 2}})
    assert not mp.pdb_blocks_drain({"pilot": {"autoscaleEnabled": False, "replicaCount": 1},
                                    "global": {"defaultPodDisruptionBudget": {"enabled": False}}})
    assert mp.pdb_blocks_drain({})  # chart defaults: autoscale min 1 with the PDB


def test_deployment_check():
    ok, msg, summary = mv.deployment_check("istiod", {"spec": {"replicas": 1}, "status": {
        "availableReplicas": 1, "readyReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}})
    assert ok and summary == {"replicas": 1, "available": 1, "ready": 1}
    ok, msg, dummy = mv.deployment_check("istiod", {"spec": {"replicas": 1}, "status": {}})
    assert not ok and "0/1" in msg
    assert mv.deployment_check("istiod", None)[0] is False


def test_placement_and_service_checks():
    nodes = {"gw": {"metadata": {"labels": {"role": "ingress-gateway"}}}, "m": {"metadata": {"labels": {}}}}

    def pod(name, node):
        return {"metadata": {"name": name}, "spec": {"nodeName": node}}

    assert mv.placement_check([pod("a", "gw")], nodes, {"role": "ingress-gateway"})[0]
    ok, msg = mv.placement_check([pod("a", "gw"), pod("b", "m")], nodes, {"role": "ingress-gateway"})
    assert not ok and "b on m" in msg
    assert not mv.placement_check([], nodes, {"role": "ingress-gateway"})[0]
    svc = {"spec": {"type": "NodePort", "ports": [{"name": "status-port", "port": 15021, "nodePort": 31000},
                                                  {"name": "http2", "port": 80, "nodePort": 30080}]}}
    want = [{"name": "status-port", "port": 15021}, {"name": "http2", "port": 80, "node_port": 30080},
            {"name": "https", "port": 443}]
    ok, msg, dummy = mv.service_check(svc, "NodePort", want)
    assert not ok and "https/443 missing" in msg
    ok, msg, dummy = mv.service_check(svc, "NodePort", want[:2])
    assert ok and "http2 80->30080" in msg


def test_crds_check():
    crds = [crd("gateways.networking.istio.io", "istio-base"),
            crd("sidecars.networking.istio.io", "istio-base", established=False)]
    ok, msg = mv.crds_check(["gateways.networking.istio.io", "sidecars.networking.istio.io", "x.istio.io"], crds,
                            "istio-base", "istio-system")
    assert not ok and "missing: x.istio.io" in msg and "not Established: sidecars" in msg
    assert mv.crds_check(["gateways.networking.istio.io"], crds, "istio-base", "istio-system")[0]
