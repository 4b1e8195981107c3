"""aws_acm: certificate status, expiry and wildcard coverage."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import aws_acm

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
HOSTS = ["api.dev.growbin.app", "argocd.dev.growbin.app"]


def cert(status="ISSUED", days=200, names=("*.dev.growbin.app", "dev.growbin.app")):
    return {"CertificateArn": "arn", "DomainName": names[0], "SubjectAlternativeNames": list(names), "Status": status,
            "NotAfter": NOW + datetime.timedelta(days=days, hours=1)}


@pytest.mark.parametrize("host,name,covered", [
    ("a.example.com", "*.example.com", True),
    ("example.com", "*.example.com", False),
    ("a.b.example.com", "*.example.com", False),
    ("A.Example.com.", "*.example.com", True),
    ("example.com", "example.com", True),
    ("api.example.com", "example.com", False),
    ("aexample.com", "*.example.com", False),
])
def test_wildcard_covers_exactly_one_label(host, name, covered):
    assert aws_acm.host_covered(host, name) is covered


def test_good_certificate():
    res = aws_acm.check(cert(), HOSTS, now=NOW)
    assert res["problems"] == [] and res["days_left"] == 200 and res["uncovered"] == []
    assert aws_acm.report_lines("arn", res) == ["certificate arn: ISSUED, 200 days left, covers *.dev.growbin.app, dev.growbin.app"]


def test_missing_certificate():
    res = aws_acm.check(None, HOSTS, now=NOW)
    assert not res["found"] and "does not exist" in res["problems"][0]
    assert aws_acm.report_lines("arn", res)[0] == "certificate arn: NOT FOUND"


def test_not_issued():
    res = aws_acm.check(cert(status="PENDING_VALIDATION"), HOSTS, now=NOW)
    assert res["problems"] == ["status PENDING_VALIDATION, not ISSUED (DNS validation records not in place yet?)"]


def test_not_covering_a_host():
    res = aws_acm.check(cert(names=("api.dev.growbin.app",)), HOSTS + ["a.b.dev.growbin.app"], now=NOW)
    assert res["uncovered"] == ["argocd.dev.growbin.app", "a.b.dev.growbin.app"]
    assert res["problems"][0] == "does not cover argocd.dev.growbin.app (names: api.dev.growbin.app)"


def test_expiring_and_expired():
    res = aws_acm.check(cert(days=10), HOSTS, now=NOW, min_days=30)
    assert res["problems"] == ["expires on 2025-06-11, in 10 days (threshold 30)"]
    assert aws_acm.check(cert(days=10), HOSTS, now=NOW, min_days=5)["problems"] == []
    assert aws_acm.check(cert(days=-3), HOSTS, now=NOW)["problems"][0].startswith("expired on ")
    # naive datetimes and ISO strings are read as UTC
    naive = dict(cert(days=100), NotAfter=(NOW + datetime.timedelta(days=100, hours=1)).replace(tzinfo=None).isoformat())
    assert aws_acm.check(naive, HOSTS, now=NOW)["days_left"] == 100
