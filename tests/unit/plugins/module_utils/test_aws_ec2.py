"""aws_ec2: inventory hosts -> EC2 instances -> provider IDs."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import aws_ec2


def inst(iid, ip, name=None, az="ap-northeast-2a", state="running", extra_ips=()):
    return {"InstanceId": iid, "PrivateIpAddress": ip, "Placement": {"AvailabilityZone": az}, "State": {"Name": state},
            "Tags": [{"Key": "Name", "Value": name}] if name else [],
            "NetworkInterfaces": [{"PrivateIpAddresses": [{"PrivateIpAddress": ip}] + [{"PrivateIpAddress": x} for x in extra_ips]}]}


def test_provider_id_format():
    assert aws_ec2.provider_id("ap-northeast-2a", "i-0abc") == "aws:///ap-northeast-2a/i-0abc"


def test_match_by_ip_then_name_tag_and_not_found():
    instances = [inst("i-1", "10.0.1.38", "k8s-ingress-gateway"), inst("i-2", "10.0.9.9", "k8s-master", az="ap-northeast-2b")]
    res = aws_ec2.match_hosts([{"name": "k8s-ingress-gateway", "private_ip": "10.0.1.38"},
                               {"name": "k8s-master", "private_ip": "10.0.2.42"},
                               {"name": "k8s-api-auth", "private_ip": "10.0.1.20"}], instances)
    assert [(r["host"], r["instance_id"], r["matched_by"], r["provider_id"]) for r in res["found"]] == [
        ("k8s-ingress-gateway", "i-1", "private_ip", "aws:///ap-northeast-2a/i-1"),
        ("k8s-master", "i-2", "name_tag", "aws:///ap-northeast-2b/i-2")]
    assert res["not_found"] == ["k8s-api-auth"]
    assert aws_ec2.problems(res) == ["host k8s-api-auth: no EC2 instance with its private IP or the Name tag k8s-api-auth"]
    assert aws_ec2.report_lines(res, 3)[0] == "provider IDs: 2/3 hosts found in EC2"


def test_secondary_ip_matches_and_terminated_never_matches():
    instances = [inst("i-old", "10.0.1.38", "gw", state="terminated"), inst("i-new", "10.0.1.99", "other", extra_ips=["10.0.1.38"])]
    res = aws_ec2.match_hosts([{"name": "gw", "private_ip": "10.0.1.38"}], instances)
    assert res["found"][0]["instance_id"] == "i-new" and res["found"][0]["matched_by"] == "private_ip"


def test_ambiguous_and_mismatched_provider_id():
    instances = [inst("i-1", "10.0.1.1", "dup"), inst("i-2", "10.0.1.2", "dup"), inst("i-3", "10.0.1.3", "gw")]
    res = aws_ec2.match_hosts([{"name": "dup"}, {"name": "gw", "provider_id": "aws:///ap-northeast-2a/i-999"}], instances)
    assert res["ambiguous"] == [{"host": "dup", "matched_by": "name_tag", "instance_ids": ["i-1", "i-2"]}]
    assert res["mismatched"] == [{"host": "gw", "expected": "aws:///ap-northeast-2a/i-999", "actual": "aws:///ap-northeast-2a/i-3"}]
    lines = aws_ec2.problems(res)
    assert "several instances match by name_tag (i-1, i-2)" in lines[0] and "EC2 says aws:///ap-northeast-2a/i-3" in lines[1]


def test_flatten_reservations_dedups():
    r = [{"Instances": [inst("i-1", "10.0.0.1")]}, {"Instances": [inst("i-1", "10.0.0.1"), inst("i-2", "10.0.0.2")]}]
    assert [i["InstanceId"] for i in aws_ec2.flatten_reservations(r)] == ["i-1", "i-2"]
