"""aws_dns: Route53 alias records and ExternalDNS ownership TXT records for the public hosts."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import aws_dns

ALB = "k8s-ecoecomain-1.ap-northeast-2.elb.amazonaws.com"
HOSTS = ["api.dev.growbin.app", "argocd.dev.growbin.app"]


def alias(name, target=ALB, rtype="A"):
    target = {"HostedZoneId": "Z1", "DNSName": "dualstack." + target + ".", "EvaluateTargetHealth": True}
    return {"Name": name + ".", "Type": rtype, "AliasTarget": target}


def txt(name, owner="eco2-dev"):
    return {"Name": name + ".", "Type": "TXT", "TTL": 300, "ResourceRecords": [
        {"Value": '"heritage=external-dns,external-dns/owner=%s,external-dns/resource=ingress/istio-system/istio-ingress"' % owner}]}


def test_txt_names_new_and_legacy_format():
    assert aws_dns.txt_names("api.dev.growbin.app", "A") == ["a-api.dev.growbin.app", "api.dev.growbin.app"]
    assert aws_dns.txt_names("api.dev.growbin.app", "AAAA") == ["aaaa-api.dev.growbin.app"]
    assert aws_dns.txt_names("api.dev.growbin.app", "A", "ext-") == ["ext-a-api.dev.growbin.app", "ext-api.dev.growbin.app"]
    assert aws_dns.txt_names("api.dev.growbin.app", "A", "%{record_type}-ext.")[0] == "a-ext.api.dev.growbin.app"


def test_parse_owner():
    assert aws_dns.parse_owner('"heritage=external-dns,external-dns/owner=eco2,external-dns/resource=ingress/a/b"') == "eco2"
    assert aws_dns.parse_owner('"v=spf1 -all"') is None
    assert aws_dns.parse_owner("heritage=external-dns") == ""


def test_all_records_current_and_owned_in_either_format():
    records = [alias(HOSTS[0]), txt("a-api.dev.growbin.app"), alias(HOSTS[1]), txt("argocd.dev.growbin.app")]
    res = aws_dns.analyse(HOSTS, records, ALB, owner_id="eco2-dev")
    assert res["problems"] == [] and [r["host"] for r in res["ok"]] == HOSTS
    assert aws_dns.report_lines("dev.growbin.app", HOSTS, res) == [
        "DNS dev.growbin.app: 2/2 records alias the ALB and are owned by ExternalDNS"]


def test_missing_record_names_the_annotation():
    res = aws_dns.analyse(HOSTS, [alias(HOSTS[0]), txt("a-api.dev.growbin.app")], ALB)
    assert res["missing"] == [{"host": "argocd.dev.growbin.app", "type": "A"}]
    assert "external-dns.alpha.kubernetes.io/hostname" in res["problems"][0]
    assert "istio-system/istio-ingress" in res["problems"][0]


def test_stale_alias_and_plain_record():
    records = [alias(HOSTS[0], "old-alb.elb.amazonaws.com"), txt("a-api.dev.growbin.app"),
               {"Name": HOSTS[1] + ".", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "203.0.113.9"}]}]
    res = aws_dns.analyse(HOSTS, records, ALB)
    assert [(s["host"], s["target"]) for s in res["stale"]] == [
        ("api.dev.growbin.app", "old-alb.elb.amazonaws.com"), ("argocd.dev.growbin.app", None)]
    assert "points at old-alb.elb.amazonaws.com, not at the ALB %s" % ALB in res["problems"][0]
    assert "plain record (203.0.113.9)" in res["problems"][1]


def test_unowned_without_txt_or_with_other_owner():
    records = [alias(HOSTS[0]), alias(HOSTS[1]), txt("a-argocd.dev.growbin.app", owner="someone-else")]
    res = aws_dns.analyse(HOSTS, records, ALB, owner_id="eco2-dev")
    assert [(u["host"], u["owner"]) for u in res["unowned"]] == [
        ("api.dev.growbin.app", None), ("argocd.dev.growbin.app", "someone-else")]
    assert "no ExternalDNS ownership TXT record (a-api.dev.growbin.app or api.dev.growbin.app)" in res["problems"][0]
    assert "owned by ExternalDNS owner someone-else, not eco2-dev" in res["problems"][1]
    # without an owner ID any ExternalDNS owner counts
    assert [o["host"] for o in aws_dns.analyse(HOSTS[1:], records, ALB)["ok"]] == ["argocd.dev.growbin.app"]


def test_dual_stack_needs_aaaa_and_its_new_format_txt():
    records = [alias(HOSTS[0]), txt("a-api.dev.growbin.app"), alias(HOSTS[0], rtype="AAAA"), txt("api.dev.growbin.app")]
    res = aws_dns.analyse(HOSTS[:1], records, ALB, dual_stack=True)
    # the legacy-named TXT does not own the AAAA record: AAAA uses only the new format
    assert [(u["host"], u["type"]) for u in res["unowned"]] == [("api.dev.growbin.app", "AAAA")]


def test_zone_selection_and_escaped_names():
    zones = [{"Id": "/hostedzone/P", "Name": "dev.growbin.app.", "Config": {"PrivateZone": True}},
             {"Id": "/hostedzone/Z", "Name": "dev.growbin.app.", "Config": {"PrivateZone": False}}]
    assert aws_dns.select_zone(zones, "dev.growbin.app")["Id"] == "/hostedzone/Z"
    assert aws_dns.select_zone(zones, "dev.growbin.app", private=True)["Id"] == "/hostedzone/P"
    assert aws_dns.select_zone(zones, "growbin.app") is None
    assert aws_dns.norm("\\052.Dev.growbin.app.") == "*.dev.growbin.app"
