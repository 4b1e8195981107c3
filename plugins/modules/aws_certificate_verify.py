#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: aws_certificate_verify
short_description: Check the ACM certificate of the ALB listener - issued, not expiring, covering every public host
version_added: 0.1.0
description:
  - Checks that the ACM certificate O(certificate_arn) exists, is C(ISSUED), does not expire within O(min_days)
    days, and that its domain name or subject alternative names cover every host in O(hosts).
  - A wildcard covers exactly one label - C(*.example.com) covers C(a.example.com), but neither C(example.com) nor
    C(a.b.example.com).
  - The ACM client uses the region of the ARN unless O(region) is set.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - eco2.mesh.aws
  - eco2.mesh.read_only
options:
  certificate_arn:
    description: The certificate ARN (C(mesh_alb_certificate_arn)).
    type: str
    required: true
  hosts:
    description: The public hosts the certificate must cover.
    type: list
    elements: str
    default: []
  min_days:
    description: Report the certificate when it expires in fewer days than this.
    type: int
    default: 30
  fail_on_error:
    description: Fail when the certificate is missing, not issued, expiring or not covering a host.
"""

EXAMPLES = r"""
- name: Check the listener certificate
  eco2.mesh.aws_certificate_verify:
    certificate_arn: "{{ mesh_alb_certificate_arn }}"
    hosts: [api.dev.growbin.app, argocd.dev.growbin.app]
    min_days: 21
"""

RETURN = r"""
extends_documentation_fragment:
  - eco2.mesh.aws
found:
  description: Whether the certificate exists.
  returned: always
  type: bool
status:
  description: The ACM status (C(ISSUED), C(PENDING_VALIDATION), C(EXPIRED), ...), or null.
  returned: always
  type: str
not_after:
  description: End of validity (ISO 8601), when known.
  returned: when found
  type: str
days_left:
  description: Whole days until the end of validity, when known.
  returned: always
  type: int
names:
  description: The domain name and subject alternative names.
  returned: always
  type: list
  elements: str
uncovered:
  description: Hosts the certificate does not cover.
  returned: always
  type: list
  elements: str
problems:
  description: One line per problem with the certificate - status, expiry, a host it does not cover.
report:
  description: Lines for the migration summary - the certificate, its status and expiry.
"""

from ansible_collections.eco2.mesh.plugins.module_utils.aws_client import (
    AwsError, call, check_module, clients_from_module, conclude, error_code)
from ansible_collections.eco2.mesh.plugins.module_utils import aws_acm


def main():
    argument_spec = dict(
        certificate_arn=dict(type="str", required=True),
        hosts=dict(type="list", elements="str", default=[]),
        min_days=dict(type="int", default=30),
    )
    module = check_module(argument_spec)
    p = module.params
    arn = p["certificate_arn"]
    parts = arn.split(":")
    if not p["region"] and len(parts) > 3 and parts[2] == "acm" and parts[3]:
        p["region"] = parts[3]
    clients = clients_from_module(module)
    out = dict(changed=False, found=False, status=None, days_left=None, names=[], uncovered=[], problems=[], report=[])
    try:
        cert = call(clients, "acm", "describe_certificate", p["endpoint_url"], CertificateArn=arn)["Certificate"]
    except AwsError as exc:
        if error_code(exc.__cause__) not in ("ResourceNotFoundException", "ValidationException"):
            out["problems"].append(str(exc))
            module.fail_json(msg="Cannot check the certificate: %s" % exc, **out)
        cert = None
    result = aws_acm.check(cert, p["hosts"], min_days=p["min_days"])
    out.update(result)
    out["report"] = aws_acm.report_lines(arn, result)
    conclude(module, out, "Certificate %s" % arn)


if __name__ == "__main__":
    main()
