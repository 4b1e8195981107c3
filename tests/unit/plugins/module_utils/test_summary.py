from __future__ import annotations

import base64
import gzip
import json

from ansible_collections.eco2.mesh.plugins.module_utils import summary


def helm_secret(name, revision, status, version):
    body = gzip.compress(json.dumps({"chart": {"metadata": {"name": name.replace("istio-", ""), "version": version}}}).encode())
    return {"metadata": {"name": "sh.helm.release.v1.%s.v%d" % (name, revision), "namespace": "istio-system",
                         "labels": {"owner": "helm", "name": name, "status": status, "version": str(revision)}},
            "data": {"release": base64.b64encode(base64.b64encode(body)).decode()}}


def test_helm_releases_keep_the_latest_deployed_revision():
    rels = summary.helm_releases([helm_secret("istiod", 1, "superseded", "1.24.1"),
                                  helm_secret("istiod", 2, "deployed", "1.24.2"),
                                  helm_secret("istio-base", 1, "deployed", "1.24.1")])
    assert [(r["name"], r["revision"], r["version"]) for r in rels] == [("istio-base", 1, "1.24.1"), ("istiod", 2, "1.24.2")]


def test_routes_flatten_matches_and_destinations():
    vs = {"metadata": {"namespace": "scan", "name": "scan"},
          "spec": {"hosts": ["api.dev.growbin.app"],
                   "http": [{"match": [{"uri": {"prefix": "/api/v1/scan"}}],
                             "route": [{"destination": {"host": "scan-api.scan.svc.cluster.local", "port": {"number": 8000}}}]},
                            {"match": [{"uri": {"exact": "/healthz/ready"}}], "directResponse": {"status": 200}}]}}
    rows = summary.routes([vs])
    assert rows[0] == {"virtualservice": "scan/scan", "hosts": "api.dev.growbin.app", "match": "exact /healthz/ready",
                       "destination": "direct 200"}
    assert rows[1]["destination"] == "scan-api.scan.svc.cluster.local:8000" and rows[1]["match"] == "prefix /api/v1/scan"


def test_placement_filters_by_labels():
    pods = [{"metadata": {"labels": {"app": "istiod"}}, "spec": {"nodeName": "k8s-master"}, "status": {"phase": "Running"}},
            {"metadata": {"labels": {"istio": "ingressgateway"}}, "spec": {"nodeName": "k8s-ingress-gateway"}, "status": {"phase": "Running"}}]
    assert summary.pod_placement(pods, {"app": "istiod"}) == ["k8s-master (Running)"]


def test_summary_lines_mention_every_part():
    lines = summary.summary_lines({"istiod_nodes": ["k8s-master (Running)"], "gateway_nodes": [], "releases": [],
                                   "routes": [], "policies": {"scan": 3}, "sidecars": ["scan: 1/1"], "findings": []})
    text = "\n".join(lines)
    assert "istiod runs on:  k8s-master (Running)" in text and "gateway runs on: NOWHERE" in text
    assert "NetworkPolicies: 3 in 1 namespaces (scan=3)" in text and "Findings: none" in text
