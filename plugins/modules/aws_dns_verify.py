#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: aws_dns_verify
short_description: Check the Route53 records ExternalDNS should have made for the public hosts
version_added: 0.1.0
description:
  - In the hosted zone named O(zone_name), checks that every public host has an alias C(A) record (and C(AAAA) with
    O(dual_stack)) pointing at the ALB's DNS name, plus ExternalDNS's ownership C(TXT) record.
  - ExternalDNS's TXT registry names that record like the host (legacy format) or C(<type>-<first label>.<rest>)
    (new format, for example C(a-api.dev.example.com); C(AAAA) only uses the new format), behind the optional
    C(--txt-prefix); its value is C(heritage=external-dns,external-dns/owner=<owner id>,external-dns/resource=...).
  - Reports records missing, stale (an alias to something else, or a plain record) and unowned (no ownership TXT
    record, or another owner than O(owner_id)), naming the Ingress annotation
    C(external-dns.alpha.kubernetes.io/hostname) that should have produced them.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - eco2.mesh.aws
  - eco2.mesh.read_only
options:
  zone_name:
    description: The hosted zone name, for example C(dev.growbin.app).
    type: str
    required: true
  private_zone:
    description: Look for a private hosted zone of that name instead of the public one.
    type: bool
    default: false
  hosts:
    description: The public hosts (the ExternalDNS hostname annotation of the bridge Ingress).
    type: list
    elements: str
    required: true
  alb_dns_name:
    description: The ALB's DNS name the aliases must point at; without it, any alias counts as current.
    type: str
  dual_stack:
    description: Also require C(AAAA) alias records.
    type: bool
    default: false
  owner_id:
    description: ExternalDNS's C(--txt-owner-id); without it any ExternalDNS owner counts.
    type: str
  txt_prefix:
    description: ExternalDNS's C(--txt-prefix), if set (may contain C(%{record_type})).
    type: str
    default: ""
  ingress:
    description: C(<namespace>/<name>) of the bridge Ingress, named in the report.
    type: str
    default: istio-system/istio-ingress
  fail_on_error:
    description: Fail when a record is missing, stale or unowned, or the zone does not exist.
"""

EXAMPLES = r"""
- name: Check the public hosts' records
  eco2.mesh.aws_dns_verify:
    zone_name: dev.growbin.app
    hosts: [api.dev.growbin.app, argocd.dev.growbin.app, grafana.dev.growbin.app]
    alb_dns_name: "{{ alb.load_balancer.dns_name }}"
    owner_id: eco2-dev
"""

RETURN = r"""
extends_documentation_fragment:
  - eco2.mesh.aws
zone_id:
  description: The hosted zone ID, or null when the zone does not exist.
  returned: always
  type: str
ok:
  description: Records that alias the ALB and are owned by ExternalDNS (C(host), C(type), C(target), C(owner)).
  returned: always
  type: list
  elements: dict
missing:
  description: Records that do not exist (C(host), C(type)).
  returned: always
  type: list
  elements: dict
stale:
  description: Records that point elsewhere or are not aliases (C(host), C(type), C(target)).
  returned: always
  type: list
  elements: dict
unowned:
  description: Records without ExternalDNS's ownership TXT record, or owned by another owner (C(host), C(type), C(owner)).
  returned: always
  type: list
  elements: dict
problems:
  description: One line per record missing, stale or unowned, naming the host.
report:
  description: Lines for the migration summary - one per public host and its records.
"""

from ansible_collections.eco2.mesh.plugins.module_utils.aws_client import (
    check_module, clients_from_module, conclude, failing_on_aws_error, paginate)
from ansible_collections.eco2.mesh.plugins.module_utils import aws_dns


def main():
    argument_spec = dict(
        zone_name=dict(type="str", required=True),
        private_zone=dict(type="bool", default=False),
        hosts=dict(type="list", elements="str", required=True),
        alb_dns_name=dict(type="str"),
        dual_stack=dict(type="bool", default=False),
        owner_id=dict(type="str"),
        txt_prefix=dict(type="str", default=""),
        ingress=dict(type="str", default="istio-system/istio-ingress"),
    )
    module = check_module(argument_spec)
    p = module.params
    clients = clients_from_module(module)
    endpoint = p["endpoint_url"]
    out = dict(changed=False, zone_id=None, ok=[], missing=[], stale=[], unowned=[], problems=[], report=[])
    with failing_on_aws_error(module, out, "check the DNS records"):
        zones = paginate(clients, "route53", "list_hosted_zones", "HostedZones", endpoint)
        zone = aws_dns.select_zone(zones, p["zone_name"], p["private_zone"])
        if zone is None:
            out["problems"].append("no %s hosted zone %s in Route53; ExternalDNS has nowhere to write the records of the "
                                   "Ingress %s annotation %s" % ("private" if p["private_zone"] else "public", p["zone_name"],
                                                                 p["ingress"], aws_dns.HOSTNAME_ANNOTATION))
            out["report"] = ["DNS %s: hosted zone NOT FOUND" % p["zone_name"]]
        else:
            out["zone_id"] = zone["Id"].split("/")[-1]
            records = paginate(clients, "route53", "list_resource_record_sets", "ResourceRecordSets", endpoint,
                               HostedZoneId=zone["Id"])
            result = aws_dns.analyse(p["hosts"], records, p["alb_dns_name"], p["dual_stack"], p["owner_id"],
                                     p["txt_prefix"], p["ingress"])
            for key in ("ok", "missing", "stale", "unowned", "problems"):
                out[key] = result[key]
            out["report"] = aws_dns.report_lines(p["zone_name"], p["hosts"], result, p["dual_stack"])
    conclude(module, out, "Route53 disagrees with the spec")


if __name__ == "__main__":
    main()
