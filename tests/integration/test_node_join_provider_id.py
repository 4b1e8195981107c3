"""Issue 14: node_join finds a missing provider ID in EC2 (moto on 127.0.0.1) and sets it through the API."""
from __future__ import annotations

import json

import pytest

from tests.lib import aws_moto
from tests.lib.ansible_run import run_playbook

pytestmark = pytest.mark.slow

GATEWAY = {
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "k8s-ingress-gateway", "annotations": {"kwok.x-k8s.io/node": "fake"},
                 "labels": {"kubernetes.io/hostname": "k8s-ingress-gateway", "role": "ingress-gateway",
                            "domain": "gateway", "infra-type": "istio", "workload": "gateway", "tier": "network",
                            "phase": "5"}},
    "spec": {"taints": [{"key": "role", "value": "ingress-gateway", "effect": "NoSchedule"}]},
}


@pytest.fixture
def moto(tmp_path):
    server = aws_moto.MotoServer(tmp_path)
    try:
        yield server, aws_moto.seed_eco2(server)
    finally:
        server.stop()


def join(cluster, moto_url, **extra):
    extra_vars = {"node_provider_id": "", "node_join_ec2_lookup": True, "node_join_aws_endpoint_url": moto_url,
                  "node_join_ready_timeout": 60}
    extra_vars.update(extra)
    return run_playbook("playbooks/istio.yml", "--tags", "node_join", inventory="inventory/local",
                        extra_vars=extra_vars, env=dict(cluster.env(), **aws_moto.aws_env(moto_url)))


def test_a_node_without_provider_id_gets_the_one_ec2_knows(cluster, moto):
    server, seeded = moto
    cluster.kubectl("apply", "-f", "-", input=json.dumps(GATEWAY))  # registered without --provider-id
    result = join(cluster, server.url)
    assert result.rc == 0, result
    gw = seeded["instances"]["k8s-ingress-gateway"]
    node = json.loads(cluster.kubectl("get", "node", "k8s-ingress-gateway", "-o", "json").stdout)
    assert node["spec"]["providerID"] == "aws:///%s/%s" % (gw["az"], gw["id"])
    cluster.clear_requests()
    again = join(cluster, server.url)
    assert again.rc == 0 and again.changed == 0, again
    assert cluster.writes() == []


def test_a_host_ec2_does_not_know_stops_with_the_reason(cluster, moto):
    server, seeded = moto
    # Neither the private IP nor the Name tag finds an instance.
    server.client("ec2").delete_tags(Resources=[seeded["instances"]["k8s-ingress-gateway"]["id"]], Tags=[{"Key": "Name"}])
    cluster.kubectl("apply", "-f", "-", input=json.dumps(GATEWAY))
    cluster.clear_requests()
    result = join(cluster, server.url, private_ip="10.9.9.9")
    assert result.rc != 0
    assert "EC2 disagrees with the inventory" in result.stdout and "k8s-ingress-gateway" in result.stdout, result
    assert cluster.writes() == []
