# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ALB the AWS Load Balancer Controller made for the bridge Ingress: selection, listener and target health.

Pure functions over the shapes boto3's elbv2 client returns.
"""
from __future__ import annotations

# Tags the AWS Load Balancer Controller puts on every resource it creates.
TAG_CLUSTER = "elbv2.k8s.aws/cluster"
TAG_STACK = "ingress.k8s.aws/stack"        # the IngressGroup name, or <namespace>/<ingress> for an implicit group
TAG_RESOURCE = "ingress.k8s.aws/resource"  # "LoadBalancer" on the load balancer itself

# Reason codes of DescribeTargetHealth, and what each one means for the mesh.
CAUSES = {
    "Target.ResponseCodeMismatch": (
        "the health check on {path} did not get {codes}: the health-check VirtualService (hosts '*', {path} -> 200) "
        "is missing, or the Gateway lacks the '*' host - the ALB probes with the target IP as Host"),
    "Target.Timeout": (
        "no answer on the gateway's NodePort: check the istio-ingressgateway Service NodePort, that the node's "
        "security group allows the ALB on the NodePort range, and that the gateway pod runs on that node"),
    "Target.FailedHealthChecks": (
        "connections to the NodePort fail: check the istio-ingressgateway Service NodePort, the node's security "
        "group, and that the gateway pod runs on that node"),
    "Target.NotRegistered": (
        "the instance is not registered: its Node lacks the right provider ID (aws:///<az>/<instance-id>), so the "
        "AWS Load Balancer Controller cannot map the Node to the instance"),
    "Target.InvalidState": "the instance is stopped (or not running): start it",
    "Target.NotInUse": "the target group is not used by a listener rule, or the instance's AZ is not enabled on the ALB",
    "Target.DeregistrationInProgress": "the target is being deregistered (the Node left or is excluded from load balancers)",
    "Target.IpUnusable": "the target IP cannot be used (it is in use by a load balancer)",
    "Target.HealthCheckDisabled": "health checks are disabled on the target group",
    "Elb.RegistrationInProgress": "the target is still being registered; wait",
    "Elb.InitialHealthChecking": "the first health checks are still running; wait",
    "Elb.InternalError": "an internal ELB error; retry later",
}

PENDING_REASONS = ("Elb.RegistrationInProgress", "Elb.InitialHealthChecking")


def tags_dict(tag_list):
    return {t.get("Key"): t.get("Value") for t in tag_list or []}


def _norm_dns(name):
    name = (name or "").strip().lower().rstrip(".")
    return name[len("dualstack."):] if name.startswith("dualstack.") else name


def select_load_balancer(load_balancers, tags_by_arn, dns_name=None, stack=None, cluster=None):
    """The controller's ALB for the Ingress: by DNS name (the Ingress status hostname) when given, else by the
    controller's tags (stack = IngressGroup name, resource = LoadBalancer, optional cluster).

    Returns (load_balancer or None, problem or None).
    """
    if dns_name:
        want = _norm_dns(dns_name)
        for lb in load_balancers:
            if _norm_dns(lb.get("DNSName")) == want:
                return lb, None
        return None, "no load balancer has the DNS name %s (the bridge Ingress status hostname)" % dns_name
    matches = []
    for lb in load_balancers:
        tags = tags_by_arn.get(lb.get("LoadBalancerArn"), {})
        if tags.get(TAG_STACK) != stack:
            continue
        if tags.get(TAG_RESOURCE, "LoadBalancer") != "LoadBalancer":
            continue
        if cluster and tags.get(TAG_CLUSTER) != cluster:
            continue
        matches.append(lb)
    what = "%s=%s%s" % (TAG_STACK, stack, " and %s=%s" % (TAG_CLUSTER, cluster) if cluster else "")
    if not matches:
        return None, ("no load balancer tagged %s: the AWS Load Balancer Controller has not reconciled the bridge "
                      "Ingress (check its events and the controller logs)" % what)
    if len(matches) > 1:
        return None, "%d load balancers tagged %s (%s); give the Ingress status hostname" % (
            len(matches), what, ", ".join(sorted(lb.get("LoadBalancerName", "?") for lb in matches)))
    return matches[0], None


def check_listener(listeners, certificate_arn, port=443, extra_certificates=None):
    """Problems with the HTTPS listener: missing, not HTTPS, or not carrying the certificate."""
    listener = next((li for li in listeners if li.get("Port") == port), None)
    if listener is None:
        return None, ["no listener on port %d (annotation alb.ingress.kubernetes.io/listen-ports)" % port]
    problems = []
    if listener.get("Protocol") != "HTTPS":
        problems.append("listener %d is %s, not HTTPS" % (port, listener.get("Protocol")))
    if certificate_arn:
        arns = [c.get("CertificateArn") for c in (listener.get("Certificates") or []) + list(extra_certificates or [])]
        if certificate_arn not in arns:
            problems.append("listener %d does not carry certificate %s (it has: %s); check the annotation "
                            "alb.ingress.kubernetes.io/certificate-arn" % (port, certificate_arn, ", ".join(a for a in arns if a) or "none"))
    return listener, problems


def cause(reason, health_check_path="/healthz/ready", success_codes="200"):
    text = CAUSES.get(reason or "", "see AWS's description")
    return text.format(path=health_check_path or "/", codes=success_codes or "200")


def classify(descriptions, target_group_name, names=None, health_check_path="/healthz/ready", success_codes="200"):
    """DescribeTargetHealth TargetHealthDescriptions -> one row per target with the mesh cause when unhealthy."""
    names = names or {}
    rows = []
    for d in descriptions or []:
        target = d.get("Target") or {}
        health = d.get("TargetHealth") or {}
        state = health.get("State")
        reason = health.get("Reason")
        row = {
            "target_group": target_group_name,
            "id": target.get("Id"),
            "host": names.get(target.get("Id")),
            "port": target.get("Port"),
            "state": state,
            "reason": reason,
            "description": health.get("Description"),
            "cause": None if state == "healthy" else cause(reason, health_check_path, success_codes),
        }
        rows.append(row)
    return rows


def unhealthy(rows):
    return [r for r in rows if r["state"] != "healthy"]


def target_line(row):
    who = row["id"] + (" (%s)" % row["host"] if row.get("host") else "")
    if row["state"] == "healthy":
        return "%s %s:%s healthy" % (row["target_group"], who, row["port"])
    return "%s %s:%s %s - %s: %s -> %s" % (
        row["target_group"], who, row["port"], row["state"], row["reason"] or "no reason", row["description"] or "", row["cause"])


def countdown_line(rows, remaining):
    bad = unhealthy(rows)
    return "waiting for %d of %d targets to become healthy (%s); %ds left" % (
        len(bad), len(rows), ", ".join("%s %s" % (r["id"], r["reason"] or r["state"]) for r in bad), max(0, int(remaining)))


def report_lines(lb, listener_problems, rows, problems):
    lines = []
    if lb is None:
        lines.append("ALB: not found")
    else:
        healthy = len(rows) - len(unhealthy(rows))
        lines.append("ALB %s (%s): HTTPS listener %s; targets %d/%d healthy" % (
            lb.get("LoadBalancerName"), lb.get("DNSName"), "ok" if not listener_problems else "WRONG", healthy, len(rows)))
    lines += ["  " + p for p in problems]
    return lines
