"""aws_alb: selecting the controller's ALB, the HTTPS listener, and target health in mesh terms."""
from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import aws_alb

LB1 = {"LoadBalancerArn": "arn:lb/1", "LoadBalancerName": "k8s-ecoecomain-1", "DNSName": "k8s-ecoecomain-1.elb.amazonaws.com"}
LB2 = {"LoadBalancerArn": "arn:lb/2", "LoadBalancerName": "other", "DNSName": "other.elb.amazonaws.com"}
TAGS = {"arn:lb/1": {"ingress.k8s.aws/stack": "ecoeco-main", "ingress.k8s.aws/resource": "LoadBalancer",
                     "elbv2.k8s.aws/cluster": "eco2"},
        "arn:lb/2": {"ingress.k8s.aws/stack": "argocd/argocd"}}
CERT = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"


def test_select_by_dns_name_ignores_dualstack_prefix_and_case():
    lb, problem = aws_alb.select_load_balancer([LB2, LB1], {}, dns_name="DualStack.k8s-ecoecomain-1.elb.amazonaws.com.")
    assert lb is LB1 and problem is None
    lb, problem = aws_alb.select_load_balancer([LB2], {}, dns_name="k8s-ecoecomain-1.elb.amazonaws.com")
    assert lb is None and "status hostname" in problem


def test_select_by_controller_tags():
    assert aws_alb.select_load_balancer([LB1, LB2], TAGS, stack="ecoeco-main")[0] is LB1
    assert aws_alb.select_load_balancer([LB1, LB2], TAGS, stack="ecoeco-main", cluster="eco2")[0] is LB1
    lb, problem = aws_alb.select_load_balancer([LB1, LB2], TAGS, stack="ecoeco-main", cluster="other")
    assert lb is None and "ingress.k8s.aws/stack=ecoeco-main and elbv2.k8s.aws/cluster=other" in problem
    both = dict(TAGS, **{"arn:lb/2": TAGS["arn:lb/1"]})
    lb, problem = aws_alb.select_load_balancer([LB1, LB2], both, stack="ecoeco-main")
    assert lb is None and problem.startswith("2 load balancers tagged")


def test_listener_checks():
    good = {"ListenerArn": "l", "Port": 443, "Protocol": "HTTPS", "Certificates": [{"CertificateArn": CERT}]}
    assert aws_alb.check_listener([good], CERT) == (good, [])
    # the certificate may be an additional (non-default) listener certificate
    bare = dict(good, Certificates=[{"CertificateArn": "arn:other"}])
    assert aws_alb.check_listener([bare], CERT, extra_certificates=[{"CertificateArn": CERT}])[1] == []
    problems = aws_alb.check_listener([bare], CERT)[1]
    assert "does not carry certificate %s (it has: arn:other)" % CERT in problems[0]
    assert "certificate-arn" in problems[0]
    problems = aws_alb.check_listener([dict(good, Protocol="HTTP")], CERT)[1]
    assert problems == ["listener 443 is HTTP, not HTTPS"]
    listener, problems = aws_alb.check_listener([dict(good, Port=80)], CERT)
    assert listener is None and "listen-ports" in problems[0]


def desc(iid, state, reason=None, description=None):
    health = {"State": state}
    if reason:
        health.update(Reason=reason, Description=description or reason)
    return {"Target": {"Id": iid, "Port": 30080}, "HealthCheckPort": "traffic-port", "TargetHealth": health}


@pytest.mark.parametrize("reason,words", [
    ("Target.ResponseCodeMismatch", ["/healthz/ready", "'*' host", "health-check VirtualService"]),
    ("Target.Timeout", ["NodePort", "security group", "gateway pod runs on that node"]),
    ("Target.NotRegistered", ["provider ID", "aws:///<az>/<instance-id>"]),
    ("Target.InvalidState", ["stopped"]),
    ("Something.New", ["see AWS's description"]),
])
def test_unhealthy_reason_to_mesh_cause(reason, words):
    rows = aws_alb.classify([desc("i-1", "unhealthy", reason, "Health checks failed")], "tg", {"i-1": "k8s-ingress-gateway"})
    row = rows[0]
    expected = ("unhealthy", reason, "Health checks failed", "k8s-ingress-gateway")
    assert (row["state"], row["reason"], row["description"], row["host"]) == expected
    for word in words:
        assert word in row["cause"]
    line = aws_alb.target_line(row)
    assert line.startswith("tg i-1 (k8s-ingress-gateway):30080 unhealthy - %s: Health checks failed -> " % reason)


def test_response_code_mismatch_names_the_configured_path_and_codes():
    row = aws_alb.classify([desc("i-1", "unhealthy", "Target.ResponseCodeMismatch")], "tg", health_check_path="/ready",
                           success_codes="200-299")[0]
    assert "/ready did not get 200-299" in row["cause"]


def test_healthy_rows_have_no_cause_and_countdown():
    rows = aws_alb.classify([desc("i-1", "healthy"), desc("i-2", "initial", "Elb.InitialHealthChecking")], "tg")
    assert rows[0]["cause"] is None and aws_alb.target_line(rows[0]) == "tg i-1:30080 healthy"
    assert [r["id"] for r in aws_alb.unhealthy(rows)] == ["i-2"]
    assert aws_alb.countdown_line(rows, 42.7) == \
        "waiting for 1 of 2 targets to become healthy (i-2 Elb.InitialHealthChecking); 42s left"
    lines = aws_alb.report_lines(LB1, [], rows, ["p1"])
    assert lines == ["ALB k8s-ecoecomain-1 (k8s-ecoecomain-1.elb.amazonaws.com): HTTPS listener ok; targets 1/2 healthy", "  p1"]
    assert aws_alb.report_lines(None, [], [], ["gone"]) == ["ALB: not found", "  gone"]
