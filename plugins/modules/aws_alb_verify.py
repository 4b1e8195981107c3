#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: aws_alb_verify
short_description: Check the ALB of the bridge Ingress - HTTPS listener certificate and target health
version_added: 0.1.0
description:
  - Finds the Application Load Balancer the AWS Load Balancer Controller created for the bridge Ingress, by the
    Ingress status hostname (O(dns_name)) or by the controller's tags - C(ingress.k8s.aws/stack) = the IngressGroup
    name (O(group_name)), C(ingress.k8s.aws/resource=LoadBalancer), optionally C(elbv2.k8s.aws/cluster) = O(cluster_name).
  - Checks that the listener on O(listener_port) is HTTPS and carries O(certificate_arn).
  - Waits, at most O(timeout) seconds, until every registered target of the load balancer's target groups is
    C(healthy); each poll adds a countdown line to RV(log).
  - For each unhealthy target, reports AWS's reason code and description and the likely cause in mesh terms -
    C(Target.ResponseCodeMismatch) the health-check route or the Gateway's C(*) host, C(Target.Timeout) the
    NodePort, the security group or the gateway pod not on that node, C(Target.NotRegistered) the Node's provider ID,
    C(Target.InvalidState) a stopped instance.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - eco2.mesh.aws
  - eco2.mesh.read_only
options:
  dns_name:
    description: The DNS name of the load balancer, as in the bridge Ingress C(status.loadBalancer.ingress[0].hostname).
    type: str
  group_name:
    description:
      - The value of the controller's C(ingress.k8s.aws/stack) tag - the IngressGroup name
        (C(alb.ingress.kubernetes.io/group.name)), or C(<namespace>/<ingress>) for an Ingress without a group.
      - Used when O(dns_name) is not given.
    type: str
  cluster_name:
    description: Also require the C(elbv2.k8s.aws/cluster) tag to equal this cluster name.
    type: str
  certificate_arn:
    description: The ACM certificate the HTTPS listener must carry (the C(alb.ingress.kubernetes.io/certificate-arn) annotation).
    type: str
  listener_port:
    description: Port of the HTTPS listener.
    type: int
    default: 443
  expected_targets:
    description:
      - Instance IDs that must be registered (for example the ingress gateway node's); each one is queried explicitly
        so a missing registration shows as C(Target.NotRegistered).
    type: list
    elements: str
    default: []
  target_names:
    description: Instance ID to inventory hostname, to name the targets in the report.
    type: dict
    default: {}
  health_check_path:
    description: The ALB health-check path (annotation C(alb.ingress.kubernetes.io/healthcheck-path)), used in the cause text.
    type: str
    default: /healthz/ready
  success_codes:
    description: The health-check success codes (annotation C(alb.ingress.kubernetes.io/success-codes)), used in the cause text.
    type: str
    default: "200"
  timeout:
    description: Seconds to wait for every target to become healthy; C(0) checks once.
    type: int
    default: 300
  interval:
    description: Seconds between two target-health polls.
    type: int
    default: 10
  fail_on_error:
    description: Fail when the load balancer is missing, the listener is wrong, or a target is not healthy at the end.
"""

EXAMPLES = r"""
- name: Check the ALB of the bridge Ingress, found by its IngressGroup
  eco2.mesh.aws_alb_verify:
    region: ap-northeast-2
    group_name: ecoeco-main
    certificate_arn: "{{ mesh_alb_certificate_arn }}"
    timeout: 120
  register: alb

- name: Same, by the Ingress status hostname, reporting only
  eco2.mesh.aws_alb_verify:
    dns_name: k8s-ecoecomain-0123456789-1234567890.ap-northeast-2.elb.amazonaws.com
    certificate_arn: "{{ mesh_alb_certificate_arn }}"
    fail_on_error: false
"""

RETURN = r"""
extends_documentation_fragment:
  - eco2.mesh.aws
load_balancer:
  description: The load balancer found (C(arn), C(name), C(dns_name), C(canonical_hosted_zone_id), C(scheme), C(state)), or null.
  returned: always
  type: dict
listener:
  description: The listener on O(listener_port) (C(arn), C(port), C(protocol), C(certificates)), or null.
  returned: always
  type: dict
target_groups:
  description: Names of the load balancer's target groups.
  returned: always
  type: list
  elements: str
targets:
  description:
    - One entry per target at the last poll - C(target_group), C(id), C(host), C(port), C(state), C(reason),
      C(description), C(cause) (null when healthy).
  returned: always
  type: list
  elements: dict
healthy:
  description: Whether every target was healthy at the last poll (and at least one target exists).
  returned: always
  type: bool
waited:
  description: Seconds spent waiting for the targets.
  returned: always
  type: int
log:
  description: One line per target-health poll, counting down to the timeout.
  returned: always
  type: list
  elements: str
problems:
  description: One line per problem with the load balancer, its listener or a target, with the likely cause.
report:
  description: Lines for the migration summary - the load balancer, its listener and the target health.
"""

import time

from ansible_collections.eco2.mesh.plugins.module_utils.aws_client import (
    call, check_module, clients_from_module, conclude, failing_on_aws_error, paginate)
from ansible_collections.eco2.mesh.plugins.module_utils import aws_alb


def poll_targets(clients, endpoint, target_groups, expected, names, params):
    """One DescribeTargetHealth per target group (plus the expected instances) -> classified rows."""
    rows = []
    for tg in target_groups:
        descs = call(clients, "elbv2", "describe_target_health", endpoint,
                     TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
        seen = {(d.get("Target") or {}).get("Id") for d in descs}
        missing = [i for i in expected if i not in seen]
        if missing and tg.get("TargetType", "instance") == "instance":
            descs = descs + call(clients, "elbv2", "describe_target_health", endpoint, TargetGroupArn=tg["TargetGroupArn"],
                                 Targets=[{"Id": i} for i in missing])["TargetHealthDescriptions"]
        rows += aws_alb.classify(descs, tg.get("TargetGroupName"), names, params["health_check_path"], params["success_codes"])
    return rows


def wait_for_targets(poll, timeout, interval, clock=None, sleep=None):
    """Poll until every target is healthy or timeout; returns (rows, log lines, seconds waited)."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    start = clock()
    log = []
    while True:
        rows = poll()
        waited = clock() - start
        remaining = timeout - waited
        if rows and not aws_alb.unhealthy(rows):
            log.append("all %d targets healthy after %ds" % (len(rows), int(waited)))
            return rows, log, int(waited)
        if not rows:
            log.append("no targets registered; %ds left" % max(0, int(remaining)))
        else:
            log.append(aws_alb.countdown_line(rows, remaining))
        if remaining <= 0:
            return rows, log, int(waited)
        sleep(max(0.0, min(interval, remaining)))


def main():
    argument_spec = dict(
        dns_name=dict(type="str"),
        group_name=dict(type="str"),
        cluster_name=dict(type="str"),
        certificate_arn=dict(type="str"),
        listener_port=dict(type="int", default=443),
        expected_targets=dict(type="list", elements="str", default=[]),
        target_names=dict(type="dict", default={}),
        health_check_path=dict(type="str", default="/healthz/ready"),
        success_codes=dict(type="str", default="200"),
        timeout=dict(type="int", default=300),
        interval=dict(type="int", default=10),
    )
    module = check_module(argument_spec, required_one_of=[("dns_name", "group_name")])
    p = module.params
    clients = clients_from_module(module)
    endpoint = p["endpoint_url"]
    out = dict(changed=False, load_balancer=None, listener=None, target_groups=[], targets=[], healthy=False, waited=0,
               log=[], problems=[], report=[])
    with failing_on_aws_error(module, out, "check the ALB"):
        lbs = paginate(clients, "elbv2", "describe_load_balancers", "LoadBalancers", endpoint)
        tags = {}
        if not p["dns_name"] and lbs:
            arns = [lb["LoadBalancerArn"] for lb in lbs]
            for i in range(0, len(arns), 20):
                for desc in call(clients, "elbv2", "describe_tags", endpoint, ResourceArns=arns[i:i + 20])["TagDescriptions"]:
                    tags[desc["ResourceArn"]] = aws_alb.tags_dict(desc.get("Tags"))
        lb, problem = aws_alb.select_load_balancer(lbs, tags, p["dns_name"], p["group_name"], p["cluster_name"])
        listener_problems = []
        rows = []
        if lb is None:
            out["problems"].append(problem)
        else:
            out["load_balancer"] = dict(arn=lb["LoadBalancerArn"], name=lb.get("LoadBalancerName"), dns_name=lb.get("DNSName"),
                                        canonical_hosted_zone_id=lb.get("CanonicalHostedZoneId"), scheme=lb.get("Scheme"),
                                        state=(lb.get("State") or {}).get("Code"))
            listeners = paginate(clients, "elbv2", "describe_listeners", "Listeners", endpoint, LoadBalancerArn=lb["LoadBalancerArn"])
            listener = next((li for li in listeners if li.get("Port") == p["listener_port"]), None)
            extra = []
            if listener is not None and p["certificate_arn"]:
                extra = call(clients, "elbv2", "describe_listener_certificates", endpoint,
                             ListenerArn=listener["ListenerArn"]).get("Certificates") or []
            listener, listener_problems = aws_alb.check_listener(listeners, p["certificate_arn"], p["listener_port"], extra)
            out["problems"] += listener_problems
            if listener is not None:
                out["listener"] = dict(arn=listener["ListenerArn"], port=listener.get("Port"), protocol=listener.get("Protocol"),
                                       certificates=[c.get("CertificateArn") for c in listener.get("Certificates") or []])
            tgs = paginate(clients, "elbv2", "describe_target_groups", "TargetGroups", endpoint, LoadBalancerArn=lb["LoadBalancerArn"])
            out["target_groups"] = [tg.get("TargetGroupName") for tg in tgs]
            if not tgs:
                out["problems"].append("the load balancer has no target group (the bridge Ingress backend istio-ingressgateway:80 "
                                       "was not reconciled)")
            else:
                rows, out["log"], out["waited"] = wait_for_targets(
                    lambda: poll_targets(clients, endpoint, tgs, p["expected_targets"], p["target_names"], p),
                    max(0, p["timeout"]), max(1, p["interval"]))
                if not rows:
                    out["problems"].append("no target registered in %s: no Node has a provider ID the controller can map "
                                           "to an instance" % ", ".join(out["target_groups"]))
                out["problems"] += [aws_alb.target_line(r) for r in aws_alb.unhealthy(rows)]
                if aws_alb.unhealthy(rows):
                    module.warn("%d target(s) still not healthy after %ds: %s" % (
                        len(aws_alb.unhealthy(rows)), out["waited"], out["log"][-1]))
        out["targets"] = rows
        out["healthy"] = bool(rows) and not aws_alb.unhealthy(rows)
        out["report"] = aws_alb.report_lines(lb, listener_problems, rows, out["problems"])
    conclude(module, out, "The ALB disagrees with the spec")


if __name__ == "__main__":
    main()
