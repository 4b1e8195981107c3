"""The aws_* modules through main(), with boto3 replaced by canned responses in the shapes boto3 returns.

Reasons moto cannot produce (Target.ResponseCodeMismatch, Target.Timeout, Target.NotRegistered for a node the
controller never registered) are driven through aws_alb_verify here; tests/integration/test_aws_moto_modules.py
runs the same modules against a moto server.
"""
from __future__ import annotations

import json
import socket
import time
import types

import pytest
from botocore.exceptions import ClientError

from tests.lib.module_main import run_main

from ansible_collections.eco2.mesh.plugins.module_utils import aws_client
from ansible_collections.eco2.mesh.plugins.modules import (aws_alb_verify, aws_certificate_verify, aws_dns_verify,
                                                           aws_provider_ids)

SECRET = "unit-fake-secret-0d1e2f3a4b5c-never-print"
CERT = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"
LB = {"LoadBalancerArn": "arn:lb/1", "LoadBalancerName": "k8s-ecoecomain-1", "DNSName": "k8s-ecoecomain-1.elb.amazonaws.com",
      "CanonicalHostedZoneId": "ZWKZPGTI48KDX", "Scheme": "internet-facing", "State": {"Code": "active"}}
TG = {"TargetGroupArn": "arn:tg/1", "TargetGroupName": "k8s-istiosys-istioing", "TargetType": "instance"}
LISTENER = {"ListenerArn": "arn:l/1", "Port": 443, "Protocol": "HTTPS", "Certificates": [{"CertificateArn": CERT}]}


class FakeClient:
    """Answers operations from a dict: name -> response dict, or callable(**kwargs) -> response / raises."""

    def __init__(self, answers, calls):
        self.answers, self.calls = answers, calls

    def __getattr__(self, name):
        if name not in self.answers:
            raise AttributeError(name)

        def op(**kwargs):
            self.calls.append((name, kwargs))
            answer = self.answers[name]
            return answer(**kwargs) if callable(answer) else answer
        return op

    def get_paginator(self, name):
        client = self

        class Paginator:
            def paginate(self, **kwargs):
                yield getattr(client, name)(**kwargs)
        return Paginator()


@pytest.fixture
def aws(monkeypatch):
    """Install canned answers per service; returns (answers dict, calls list)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    answers, calls = {}, []
    monkeypatch.setattr(aws_client, "aws_clients", lambda *a, **k: (lambda service: FakeClient(answers.setdefault(service, {}), calls)))
    return answers, calls


def run(module, args, capsys):
    out = run_main(module, args, capsys)
    assert SECRET not in json.dumps(out)
    return out


def health(*rows):
    return {"TargetHealthDescriptions": [
        {"Target": {"Id": iid, "Port": 30080}, "HealthCheckPort": "traffic-port",
         "TargetHealth": dict({"State": state}, **({"Reason": reason, "Description": "AWS says " + reason} if reason else {}))}
        for iid, state, reason in rows]}


def alb_answers(answers, target_health):
    answers["elbv2"] = {
        "describe_load_balancers": {"LoadBalancers": [LB]},
        "describe_tags": {"TagDescriptions": [{"ResourceArn": "arn:lb/1", "Tags": [
            {"Key": "ingress.k8s.aws/stack", "Value": "ecoeco-main"}, {"Key": "ingress.k8s.aws/resource", "Value": "LoadBalancer"}]}]},
        "describe_listeners": {"Listeners": [LISTENER]},
        "describe_listener_certificates": {"Certificates": [{"CertificateArn": CERT, "IsDefault": True}]},
        "describe_target_groups": {"TargetGroups": [TG]},
        "describe_target_health": target_health,
    }


ALB_ARGS = {"group_name": "ecoeco-main", "certificate_arn": CERT, "timeout": 0, "target_names": {"i-gw": "k8s-ingress-gateway"}}


def test_alb_all_healthy(aws, capsys):
    answers = aws[0]
    alb_answers(answers, health(("i-gw", "healthy", None), ("i-m", "healthy", None)))
    out = run(aws_alb_verify, ALB_ARGS, capsys)
    assert not out.get("failed") and out["healthy"] and out["problems"] == []
    assert out["load_balancer"]["dns_name"] == LB["DNSName"] and out["listener"]["certificates"] == [CERT]
    assert out["report"][0].endswith("HTTPS listener ok; targets 2/2 healthy")
    assert out["log"] == ["all 2 targets healthy after 0s"]


@pytest.mark.parametrize("reason,cause_words", [
    ("Target.ResponseCodeMismatch", "the Gateway lacks the '*' host"),
    ("Target.Timeout", "security group"),
    ("Target.InvalidState", "stopped"),
])
def test_alb_unhealthy_reason_reported_with_mesh_cause(aws, capsys, reason, cause_words):
    answers = aws[0]
    alb_answers(answers, health(("i-gw", "unhealthy", reason), ("i-m", "healthy", None)))
    out = run(aws_alb_verify, ALB_ARGS, capsys)
    assert out["failed"] and not out["healthy"]
    bad = [t for t in out["targets"] if t["state"] != "healthy"]
    assert [(t["id"], t["host"], t["reason"], t["description"]) for t in bad] == [
        ("i-gw", "k8s-ingress-gateway", reason, "AWS says " + reason)]
    assert cause_words in bad[0]["cause"] and cause_words in out["msg"]
    assert out["log"][-1].startswith("waiting for 1 of 2 targets to become healthy (i-gw %s); 0s left" % reason)


def test_alb_not_registered_gateway_node_points_at_provider_id(aws, capsys):
    answers, calls = aws

    def target_health(TargetGroupArn, Targets=None):
        if Targets:
            return health(*[(t["Id"], "unused", "Target.NotRegistered") for t in Targets])
        return health(("i-m", "healthy", None))
    alb_answers(answers, target_health)
    out = run(aws_alb_verify, dict(ALB_ARGS, expected_targets=["i-gw"], fail_on_error=False), capsys)
    assert not out.get("failed") and not out["healthy"]
    row = [t for t in out["targets"] if t["id"] == "i-gw"][0]
    assert row["reason"] == "Target.NotRegistered" and "provider ID" in row["cause"]
    assert ("describe_target_health", {"TargetGroupArn": "arn:tg/1", "Targets": [{"Id": "i-gw"}]}) in calls


def test_alb_waits_with_countdown_until_healthy(aws, capsys, monkeypatch):
    answers = aws[0]
    polls = iter([health(("i-gw", "initial", "Elb.RegistrationInProgress")),
                  health(("i-gw", "unhealthy", "Target.Timeout")),
                  health(("i-gw", "healthy", None))])
    alb_answers(answers, lambda **kw: next(polls))
    clock = {"t": 0.0}
    monkeypatch.setattr(aws_alb_verify, "time", types.SimpleNamespace(
        monotonic=lambda: clock["t"], sleep=lambda s: clock.__setitem__("t", clock["t"] + s)))
    out = run(aws_alb_verify, dict(ALB_ARGS, timeout=60, interval=10), capsys)
    assert out["healthy"] and out["waited"] == 20
    assert out["log"] == [
        "waiting for 1 of 1 targets to become healthy (i-gw Elb.RegistrationInProgress); 60s left",
        "waiting for 1 of 1 targets to become healthy (i-gw Target.Timeout); 50s left",
        "all 1 targets healthy after 20s"]


def test_alb_gives_up_at_the_timeout(aws, capsys, monkeypatch):
    answers = aws[0]
    alb_answers(answers, health(("i-gw", "unhealthy", "Target.Timeout")))
    clock = {"t": 0.0}
    monkeypatch.setattr(aws_alb_verify, "time", types.SimpleNamespace(
        monotonic=lambda: clock["t"], sleep=lambda s: clock.__setitem__("t", clock["t"] + s)))
    out = run(aws_alb_verify, dict(ALB_ARGS, timeout=25, interval=10), capsys)
    assert out["failed"] and out["waited"] == 25
    assert [line.rsplit("; ", 1)[1] for line in out["log"]] == ["25s left", "15s left", "5s left", "0s left"]


def test_alb_wrong_certificate_and_missing_lb(aws, capsys):
    answers = aws[0]
    alb_answers(answers, health(("i-gw", "healthy", None)))
    answers["elbv2"]["describe_listener_certificates"] = {"Certificates": []}
    out = run(aws_alb_verify, dict(ALB_ARGS, certificate_arn=CERT + "-other"), capsys)
    assert out["failed"] and "does not carry certificate %s-other" % CERT in out["msg"]
    out = run(aws_alb_verify, dict(ALB_ARGS, group_name="other-group"), capsys)
    assert out["failed"] and "no load balancer tagged ingress.k8s.aws/stack=other-group" in out["msg"]
    assert out["load_balancer"] is None


def test_provider_ids(aws, capsys):
    answers, calls = aws
    answers["ec2"] = {"describe_instances": {"Reservations": [{"Instances": [
        {"InstanceId": "i-gw", "PrivateIpAddress": "10.0.1.38", "Placement": {"AvailabilityZone": "ap-northeast-2a"},
         "State": {"Name": "running"}, "Tags": [{"Key": "Name", "Value": "k8s-ingress-gateway"}]}]}]}}
    out = run(aws_provider_ids, {"hosts": [{"name": "k8s-ingress-gateway", "private_ip": "10.0.1.38"},
                                           {"name": "k8s-master", "private_ip": "10.0.2.42"}], "fail_on_error": False}, capsys)
    assert out["provider_ids"] == {"k8s-ingress-gateway": "aws:///ap-northeast-2a/i-gw"}
    assert out["not_found"] == ["k8s-master"] and not out.get("failed")
    assert calls[0] == ("describe_instances", {"Filters": [{"Name": "private-ip-address", "Values": ["10.0.1.38", "10.0.2.42"]}]})
    out = run(aws_provider_ids, {"hosts": [{"name": "k8s-master"}]}, capsys)
    assert out["failed"] and "k8s-master: no EC2 instance" in out["msg"]


def test_certificate_not_found_is_a_finding_not_an_error(aws, capsys):
    answers = aws[0]

    def describe(**kw):
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}}, "DescribeCertificate")
    answers["acm"] = {"describe_certificate": describe}
    out = run(aws_certificate_verify, {"certificate_arn": CERT, "hosts": ["api.dev.growbin.app"]}, capsys)
    assert out["failed"] and not out["found"] and "does not exist" in out["msg"]


def test_dns_zone_missing(aws, capsys):
    answers = aws[0]
    answers["route53"] = {"list_hosted_zones": {"HostedZones": []}}
    out = run(aws_dns_verify, {"zone_name": "dev.growbin.app", "hosts": ["api.dev.growbin.app"]}, capsys)
    assert out["failed"] and "no public hosted zone dev.growbin.app" in out["msg"]
    assert "external-dns.alpha.kubernetes.io/hostname" in out["msg"]


def test_unreachable_endpoint_fails_fast_without_credentials(monkeypatch, capsys):
    """Real boto3 against a closed loopback port: a clear message within seconds, no secret in the output."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    out = run(aws_provider_ids, {"hosts": [{"name": "k8s-master"}], "region": "ap-northeast-2",
                                 "endpoint_url": "http://127.0.0.1:%d" % port, "connect_timeout": 1}, capsys)
    assert time.monotonic() - start < 20
    assert out["failed"] and "Cannot read the EC2 instances: AWS ec2 describe_instances failed (endpoint http://127.0.0.1:%d)" % port in out["msg"]
    assert "Could not connect to the endpoint URL" in out["msg"]
