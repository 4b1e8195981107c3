"""The aws_* modules against a moto server on 127.0.0.1, seeded like inventory/dev's AWS side.

Every report path moto can produce: all healthy; a stopped instance (Target.InvalidState); a node the
controller never registered (Target.NotRegistered); records missing, stale and unowned; a certificate
missing, not issued, not covering a host, expiring. Reasons moto cannot produce are in
tests/unit/plugins/modules/test_aws_modules.py.
"""
from __future__ import annotations

import json
import uuid

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.eco2.mesh.plugins.modules import (aws_alb_verify, aws_certificate_verify, aws_dns_verify,
                                                           aws_provider_ids)
from tests.lib import aws_moto

ZONE = "dev.growbin.app"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = aws_moto.MotoServer(tmp_path_factory.mktemp("moto"))
    try:
        seeded = aws_moto.seed_eco2(server, ZONE)
        yield server, seeded
    finally:
        server.stop()


@pytest.fixture
def env(monkeypatch):
    for key, value in aws_moto.aws_env().items():
        monkeypatch.setenv(key, value)


def run(module, args, capsys, moto_server):
    args = dict(args, endpoint_url=moto_server.url, region=aws_moto.REGION)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    assert aws_moto.FAKE_SECRET_KEY not in out
    return json.loads(out)


def test_provider_ids_for_every_dev_host(moto, env, capsys):
    server, seeded = moto
    hosts = [{"name": n, "private_ip": ip} for n, ip in aws_moto.inventory_hosts().items()]
    hosts.append({"name": "k8s-api-ghost", "private_ip": "10.0.3.250"})
    out = run(aws_provider_ids, {"hosts": hosts, "fail_on_error": False}, capsys, server)
    gw = seeded["instances"]["k8s-ingress-gateway"]
    assert out["provider_ids"]["k8s-ingress-gateway"] == "aws:///%s/%s" % (gw["az"], gw["id"])
    assert len(out["provider_ids"]) == len(hosts) - 1 and out["not_found"] == ["k8s-api-ghost"]
    assert {i["matched_by"] for i in out["instances"]} == {"private_ip"}
    # no private IP: the Name tag finds it
    out = run(aws_provider_ids, {"hosts": [{"name": "k8s-master"}]}, capsys, server)
    assert out["instances"][0]["matched_by"] == "name_tag" and not out.get("failed")


def alb_args(seeded, **kw):
    names = {v["id"]: k for k, v in seeded["instances"].items()}
    return dict({"group_name": aws_moto.STACK, "cluster_name": aws_moto.CLUSTER, "certificate_arn": seeded["certificate_arn"],
                 "timeout": 0, "target_names": names}, **kw)


def test_alb_all_healthy_by_tags_and_by_dns_name(moto, env, capsys):
    server, seeded = moto
    out = run(aws_alb_verify, alb_args(seeded), capsys, server)
    assert not out.get("failed") and out["healthy"] and len(out["targets"]) == len(seeded["instances"])
    assert out["load_balancer"]["dns_name"] == seeded["load_balancer"]["DNSName"]
    out = run(aws_alb_verify, alb_args(seeded, group_name=None, dns_name=seeded["load_balancer"]["DNSName"]), capsys, server)
    assert out["healthy"] and out["listener"]["certificates"] == [seeded["certificate_arn"]]


def test_alb_stopped_instance_is_invalid_state(moto, env, capsys):
    server, seeded = moto
    ec2 = server.client("ec2")
    gw = seeded["instances"]["k8s-ingress-gateway"]["id"]
    ec2.stop_instances(InstanceIds=[gw])
    try:
        out = run(aws_alb_verify, alb_args(seeded, timeout=2, interval=1), capsys, server)
    finally:
        ec2.start_instances(InstanceIds=[gw])
    assert out["failed"] and not out["healthy"]
    bad = [t for t in out["targets"] if t["state"] != "healthy"]
    assert [(t["id"], t["host"], t["state"], t["reason"]) for t in bad] == [(gw, "k8s-ingress-gateway", "unused", "Target.InvalidState")]
    assert "stopped" in bad[0]["cause"] and "Target.InvalidState" in out["msg"]
    assert len(out["log"]) >= 2 and out["log"][0].startswith("waiting for 1 of %d targets" % len(seeded["instances"]))
    assert out["log"][-1].endswith("0s left")


def test_alb_unregistered_gateway_node_is_not_registered(moto, env, capsys):
    server, seeded = moto
    elbv2 = server.client("elbv2")
    tg = seeded["target_group"]["TargetGroupArn"]
    gw = seeded["instances"]["k8s-ingress-gateway"]["id"]
    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": gw, "Port": 30080}])
    try:
        out = run(aws_alb_verify, alb_args(seeded, expected_targets=[gw]), capsys, server)
    finally:
        elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": gw, "Port": 30080}])
    row = [t for t in out["targets"] if t["id"] == gw][0]
    assert out["failed"] and row["reason"] == "Target.NotRegistered" and "provider ID" in row["cause"]


def test_alb_missing_and_wrong_certificate(moto, env, capsys):
    server, seeded = moto
    out = run(aws_alb_verify, alb_args(seeded, certificate_arn=seeded["certificate_arn"] + "0"), capsys, server)
    assert out["failed"] and "does not carry certificate" in out["msg"]
    out = run(aws_alb_verify, alb_args(seeded, group_name="another-group"), capsys, server)
    assert out["failed"] and out["load_balancer"] is None and "ingress.k8s.aws/stack=another-group" in out["msg"]


def test_dns_ok_missing_stale_unowned(moto, env, capsys):
    server, seeded = moto
    r53 = server.client("route53")
    lb = seeded["load_balancer"]
    r53.change_resource_record_sets(HostedZoneId=seeded["zone_id"], ChangeBatch={"Changes": [
        aws_moto.alias_change(f"stale.{ZONE}", "k8s-old-alb-1.ap-northeast-2.elb.amazonaws.com", lb["CanonicalHostedZoneId"]),
        aws_moto.txt_change(f"stale.{ZONE}", "A", aws_moto.txt_value()),
        aws_moto.alias_change(f"unowned.{ZONE}", lb["DNSName"], lb["CanonicalHostedZoneId"]),
        aws_moto.alias_change(f"foreign.{ZONE}", lb["DNSName"], lb["CanonicalHostedZoneId"]),
        aws_moto.txt_change(f"foreign.{ZONE}", "A", aws_moto.txt_value(owner="other-cluster")),
    ]})
    base = {"zone_name": ZONE, "alb_dns_name": lb["DNSName"], "owner_id": aws_moto.OWNER}
    out = run(aws_dns_verify, dict(base, hosts=seeded["hosts"]), capsys, server)
    assert not out.get("failed") and [o["host"] for o in out["ok"]] == seeded["hosts"]
    assert out["report"] == [f"DNS {ZONE}: 3/3 records alias the ALB and are owned by ExternalDNS"]
    hosts = [f"api.{ZONE}", f"missing.{ZONE}", f"stale.{ZONE}", f"unowned.{ZONE}", f"foreign.{ZONE}"]
    out = run(aws_dns_verify, dict(base, hosts=hosts), capsys, server)
    assert out["failed"]
    assert [m["host"] for m in out["missing"]] == [f"missing.{ZONE}"]
    assert [(s["host"], s["target"]) for s in out["stale"]] == [(f"stale.{ZONE}", "k8s-old-alb-1.ap-northeast-2.elb.amazonaws.com")]
    assert [(u["host"], u["owner"]) for u in out["unowned"]] == [(f"unowned.{ZONE}", None), (f"foreign.{ZONE}", "other-cluster")]
    assert "external-dns.alpha.kubernetes.io/hostname" in out["msg"]
    # dual stack: no AAAA aliases exist
    out = run(aws_dns_verify, dict(base, hosts=seeded["hosts"][:1], dual_stack=True, fail_on_error=False), capsys, server)
    assert out["missing"] == [{"host": f"api.{ZONE}", "type": "AAAA"}]
    out = run(aws_dns_verify, dict(base, zone_name="prod.growbin.app", hosts=seeded["hosts"]), capsys, server)
    assert out["failed"] and out["zone_id"] is None and "no public hosted zone prod.growbin.app" in out["msg"]


def test_certificate_ok_missing_not_issued_uncovered_expiring(moto, env, capsys):
    server, seeded = moto
    hosts = seeded["hosts"]
    out = run(aws_certificate_verify, {"certificate_arn": seeded["certificate_arn"], "hosts": hosts}, capsys, server)
    assert not out.get("failed") and out["status"] == "ISSUED" and out["days_left"] >= 360 and out["uncovered"] == []

    missing = "arn:aws:acm:%s:123456789012:certificate/%s" % (aws_moto.REGION, uuid.uuid4())
    out = run(aws_certificate_verify, {"certificate_arn": missing, "hosts": hosts}, capsys, server)
    assert out["failed"] and not out["found"] and "does not exist" in out["msg"]

    pending = server.client("acm").request_certificate(DomainName=f"*.{ZONE}", ValidationMethod="DNS")["CertificateArn"]
    out = run(aws_certificate_verify, {"certificate_arn": pending, "hosts": hosts}, capsys, server)
    assert out["failed"] and out["status"] == "PENDING_VALIDATION" and "not ISSUED" in out["msg"]

    out = run(aws_certificate_verify, {"certificate_arn": seeded["certificate_arn"],
                                       "hosts": hosts + [ZONE, f"a.b.{ZONE}", "api.growbin.app"]}, capsys, server)
    assert out["failed"] and out["uncovered"] == [f"a.b.{ZONE}", "api.growbin.app"]

    expiring = aws_moto.import_certificate(server, [f"*.{ZONE}"], days=10)
    out = run(aws_certificate_verify, {"certificate_arn": expiring, "hosts": hosts, "min_days": 30}, capsys, server)
    assert out["failed"] and out["days_left"] in (9, 10) and "threshold 30" in out["msg"]
    out = run(aws_certificate_verify, {"certificate_arn": expiring, "hosts": hosts, "min_days": 7}, capsys, server)
    assert not out.get("failed")
