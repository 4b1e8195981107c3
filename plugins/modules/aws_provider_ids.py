#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: aws_provider_ids
short_description: Find the EC2 instance of each inventory host and its Kubernetes provider ID
version_added: 0.1.0
description:
  - Finds each host's EC2 instance by its private IP, else by the C(Name) tag equal to the inventory hostname, and
    returns the provider ID C(aws:///<availability zone>/<instance id>) the AWS Load Balancer Controller needs on
    each Node to register it as a target.
  - Reports the hosts without an instance, the hosts that match several instances, and the hosts whose provider ID
    in the inventory differs from EC2's. Terminated instances never match.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - eco2.mesh.aws
  - eco2.mesh.read_only
options:
  hosts:
    description:
      - The hosts to look up.
      - C(name) is the inventory hostname (matched against the C(Name) tag), C(private_ip) the host's private IPv4
        address (matched first), C(provider_id) the provider ID the inventory or the Node claims (optional; compared).
    type: list
    elements: dict
    required: true
  fail_on_error:
    description: Fail when a host has no instance, several, or a provider ID that disagrees with EC2.
"""

EXAMPLES = r"""
- name: Provider IDs of every cluster host
  eco2.mesh.aws_provider_ids:
    region: ap-northeast-2
    hosts:
      - name: k8s-ingress-gateway
        private_ip: 10.0.1.38
      - name: k8s-master
  register: ids

- name: Use them
  ansible.builtin.debug:
    msg: "{{ ids.provider_ids['k8s-ingress-gateway'] }}"
"""

RETURN = r"""
extends_documentation_fragment:
  - eco2.mesh.aws
provider_ids:
  description: Provider ID per host found.
  returned: success
  type: dict
  sample: {k8s-ingress-gateway: "aws:///ap-northeast-2a/i-0123456789abcdef0"}
instances:
  description:
    - One entry per host found - C(host), C(instance_id), C(availability_zone), C(provider_id), C(private_ip),
      C(state), C(matched_by) (C(private_ip) or C(name_tag)), C(expected_provider_id), C(provider_id_matches).
  returned: success
  type: list
  elements: dict
not_found:
  description: Hosts without an EC2 instance.
  returned: success
  type: list
  elements: str
ambiguous:
  description: Hosts matching several instances (C(host), C(matched_by), C(instance_ids)).
  returned: success
  type: list
  elements: dict
mismatched:
  description: Hosts whose given provider ID differs from EC2's (C(host), C(expected), C(actual)).
  returned: success
  type: list
  elements: dict
problems:
  description: One line per disagreement between the inventory and EC2.
report:
  description: Lines for the migration summary - one per host and its provider ID.
"""

from ansible_collections.eco2.mesh.plugins.module_utils.aws_client import (
    check_module, clients_from_module, conclude, failing_on_aws_error, paginate)
from ansible_collections.eco2.mesh.plugins.module_utils import aws_ec2


def main():
    module = check_module(dict(hosts=dict(type="list", elements="dict", required=True)))
    hosts = module.params["hosts"]
    for i, host in enumerate(hosts):
        if not host.get("name"):
            module.fail_json(msg="hosts[%d]: name is required" % i, problems=[], report=[])
    clients = clients_from_module(module)
    endpoint = module.params["endpoint_url"]
    ips = sorted({h["private_ip"] for h in hosts if h.get("private_ip")})
    names = sorted({h["name"] for h in hosts})
    instances = []
    with failing_on_aws_error(module, {"problems": [], "report": []}, "read the EC2 instances"):
        if ips:
            instances += aws_ec2.flatten_reservations(paginate(
                clients, "ec2", "describe_instances", "Reservations", endpoint,
                Filters=[{"Name": "private-ip-address", "Values": ips}]))
        instances += aws_ec2.flatten_reservations(paginate(
            clients, "ec2", "describe_instances", "Reservations", endpoint,
            Filters=[{"Name": "tag:Name", "Values": names}]))
    result = aws_ec2.match_hosts(hosts, aws_ec2.flatten_reservations([{"Instances": instances}]))
    problems = aws_ec2.problems(result)
    out = dict(
        changed=False,
        provider_ids={row["host"]: row["provider_id"] for row in result["found"]},
        instances=result["found"],
        not_found=result["not_found"],
        ambiguous=result["ambiguous"],
        mismatched=result["mismatched"],
        problems=problems,
        report=aws_ec2.report_lines(result, len(hosts)),
    )
    conclude(module, out, "EC2 disagrees with the inventory")


if __name__ == "__main__":
    main()
