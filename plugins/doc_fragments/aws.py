# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # The eco2.mesh aws_* modules (action group eco2.mesh.aws): read-only checks of AWS against the spec. A module
    # adds its own description of fail_on_error, problems and report; the types and defaults are written here.
    DOCUMENTATION = r"""
options:
  fail_on_error:
    description: Fail when the check finds a problem (RV(problems)); otherwise return them and succeed.
    type: bool
    default: true
  region:
    description:
      - The AWS region, for example C(ap-northeast-2).
      - Defaults to the boto3 chain (E(AWS_REGION), E(AWS_DEFAULT_REGION), the profile's region).
    type: str
    aliases: [aws_region]
  endpoint_url:
    description:
      - Send every AWS call to this URL instead of AWS's endpoints, for example a local moto server
        C(http://127.0.0.1:5000) in tests.
    type: str
    aliases: [aws_endpoint_url]
  profile:
    description:
      - The named profile of the shared AWS config/credentials files.
      - Credentials always come from the boto3 chain (environment, shared files, instance role); the module takes none
        as options and never returns or logs them.
    type: str
    aliases: [aws_profile]
  connect_timeout:
    description: Seconds to wait for a connection to an AWS endpoint (the read timeout is four times this, at least 20).
    type: int
    default: 5
  max_attempts:
    description: Attempts per AWS call, first try included (botocore standard retry mode).
    type: int
    default: 2
requirements:
  - boto3 >= 1.28.0
  - botocore >= 1.31.0
"""

    RETURN = r"""
problems:
  description: One line per problem found.
  returned: always
  type: list
  elements: str
report:
  description: Lines for the migration summary.
  returned: always
  type: list
  elements: str
"""
