"""The verify_aws phase of playbooks/istio.yml against a moto server on 127.0.0.1 (inventory/dev).

The phase runs on localhost only: no host of the sample inventory is contacted. `--skip-tags verify`
leaves out the always-tagged cluster summary tasks (they read a Kubernetes cluster these tests do not start).
"""
from __future__ import annotations

import time

import pytest

from tests.lib import aws_moto
from tests.lib.ansible_run import run_playbook

pytestmark = pytest.mark.slow

PLAYBOOK = "playbooks/istio.yml"
RENDER = "playbooks/render.yml"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = aws_moto.MotoServer(tmp_path_factory.mktemp("moto"))
    try:
        yield server, aws_moto.seed_eco2(server, "dev.growbin.app")
    finally:
        server.stop()


def play(endpoint_url, certificate_arn, *args, inventory="inventory/dev", playbook=PLAYBOOK, **extra):
    extra_vars = dict({"verify_aws_endpoint_url": endpoint_url, "mesh_alb_certificate_arn": certificate_arn,
                       "verify_aws_alb_timeout": 3, "verify_aws_alb_interval": 1}, **extra)
    return run_playbook(playbook, "--tags", "verify_aws", "--skip-tags", "verify", *args, inventory=inventory,
                        extra_vars=extra_vars, env=aws_moto.aws_env(endpoint_url), timeout=300)


def test_phase_reports_the_aws_section_and_never_prints_credentials(moto):
    server, seeded = moto
    res = play(server.url, seeded["certificate_arn"], "-vvv")
    assert res.rc == 0, res
    assert list(res.recap) == ["localhost"], res
    out = res.stdout
    assert "AWS (ap-northeast-2):" in out
    assert "provider IDs: 24/24 hosts found in EC2" in out
    assert "ALB %s (%s): HTTPS listener ok; targets 24/24 healthy" % (
        seeded["load_balancer"]["LoadBalancerName"], seeded["load_balancer"]["DNSName"]) in out
    assert "DNS dev.growbin.app: 3/3 records alias the ALB and are owned by ExternalDNS" in out
    assert "certificate %s: ISSUED" % seeded["certificate_arn"] in out
    gw = seeded["instances"]["k8s-ingress-gateway"]
    assert "aws:///%s/%s" % (gw["az"], gw["id"]) in out  # verify_aws_provider_ids, shown at -vvv
    assert aws_moto.FAKE_SECRET_KEY not in res.stdout + res.stderr


def test_phase_fails_with_a_summary_when_aws_disagrees(moto):
    server, seeded = moto
    ec2, r53 = server.client("ec2"), server.client("route53")
    gw = seeded["instances"]["k8s-ingress-gateway"]["id"]
    lb = seeded["load_balancer"]
    grafana = aws_moto.alias_change("grafana.dev.growbin.app", lb["DNSName"], lb["CanonicalHostedZoneId"])
    ec2.stop_instances(InstanceIds=[gw])
    r53.change_resource_record_sets(HostedZoneId=seeded["zone_id"], ChangeBatch={"Changes": [dict(grafana, Action="DELETE")]})
    try:
        start = time.monotonic()
        res = play(server.url, seeded["certificate_arn"], verify_aws_certificate_min_days=400)
        elapsed = time.monotonic() - start
    finally:
        ec2.start_instances(InstanceIds=[gw])
        r53.change_resource_record_sets(HostedZoneId=seeded["zone_id"], ChangeBatch={"Changes": [grafana]})
    assert res.rc != 0 and res.failed == 1, res
    out = res.stdout
    assert "AWS disagrees with the inventory or the mesh spec (3 problems):" in out, res
    assert "%s (k8s-ingress-gateway):30080 unused - Target.InvalidState" % gw in out
    assert "the instance is stopped" in out
    assert "grafana.dev.growbin.app A: no record" in out and "external-dns.alpha.kubernetes.io/hostname" in out
    assert "(threshold 400)" in out
    assert "ALB wait: waiting for 1 of 24 targets to become healthy" in out and "0s left" in out
    assert "[WARNING]: 1 target(s) still not healthy" in out + res.stderr
    assert elapsed < 120


def test_phase_fails_fast_when_aws_is_unreachable(tmp_path):
    server = aws_moto.MotoServer(tmp_path)
    url = server.url
    server.stop()
    start = time.monotonic()
    res = play(url, "arn:aws:acm:ap-northeast-2:123456789012:certificate/00000000-0000-4000-8000-00000000dev0")
    elapsed = time.monotonic() - start
    assert res.rc != 0 and res.failed == 1, res
    assert elapsed < 30, elapsed
    assert "Cannot read the EC2 instances: AWS ec2 describe_instances failed (endpoint %s)" % url in res.stdout, res
    assert "Could not connect to the endpoint URL" in res.stdout
    assert aws_moto.FAKE_SECRET_KEY not in res.stdout + res.stderr


def test_phase_is_off_for_the_local_inventory_and_in_render_mode(moto, tmp_path):
    server, seeded = moto
    res = play(server.url, seeded["certificate_arn"], inventory="inventory/local")
    assert res.rc == 0 and "AWS (" not in res.stdout, res
    assert "skipping: [localhost]" in res.stdout
    res = play(server.url, seeded["certificate_arn"], playbook=RENDER, mesh_render_dir=str(tmp_path / "out"),
               verify_aws_enabled=True)
    assert res.rc == 0 and "AWS (" not in res.stdout, res
