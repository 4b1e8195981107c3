# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small boto3 helper shared by the eco2.mesh aws_* modules.

Clients come from the usual boto3 chain (environment, shared config/credentials files, instance
role) plus the optional O(region), O(endpoint_url) (a local emulator such as moto) and O(profile).
The modules take no credential options at all, so no credential can reach a module's arguments,
results or logs. Timeouts and retries are low so an unreachable endpoint fails within seconds.
"""
from __future__ import annotations

import traceback
from contextlib import contextmanager

BOTO3_IMP_ERR = None
try:
    import boto3
    import botocore.config
    import botocore.exceptions
    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMP_ERR = traceback.format_exc()

AWS_ARG_SPEC = dict(
    region=dict(type="str", aliases=["aws_region"]),
    endpoint_url=dict(type="str", aliases=["aws_endpoint_url"]),
    profile=dict(type="str", aliases=["aws_profile"]),
    connect_timeout=dict(type="int", default=5),
    max_attempts=dict(type="int", default=2),
)


# Every aws_* module is a read-only check that fails on what it finds unless told not to.
CHECK_ARG_SPEC = dict(fail_on_error=dict(type="bool", default=True))


class AwsError(Exception):
    """An AWS call failed; the message names the service, the operation and the endpoint, never a credential."""


def aws_clients(region=None, endpoint_url=None, profile=None, connect_timeout=5, max_attempts=2):
    """Return a function service_name -> boto3 client, sharing one session."""
    session = boto3.session.Session(profile_name=profile or None)
    config = botocore.config.Config(
        connect_timeout=connect_timeout,
        read_timeout=max(connect_timeout * 4, 20),
        retries={"max_attempts": max(1, max_attempts), "mode": "standard"},
    )
    cache = {}

    def client(service):
        if service not in cache:
            kwargs = {"config": config}
            if region:
                kwargs["region_name"] = region
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
            cache[service] = session.client(service, **kwargs)
        return cache[service]

    return client


def clients_from_module(module):
    """Client factory from the module's AWS options; fails the module when boto3 is missing."""
    if not HAS_BOTO3:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO3_IMP_ERR)
    p = module.params
    try:
        return aws_clients(p.get("region"), p.get("endpoint_url"), p.get("profile"),
                           p.get("connect_timeout") or 5, p.get("max_attempts") or 2)
    except Exception as exc:  # profile not found, bad configuration
        module.fail_json(msg="Cannot set up the AWS client: %s" % error_text(exc))


def error_code(exc):
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def error_text(exc):
    """A one-line description of a boto3/botocore error (these never contain the secret key)."""
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0] if text else "")


def call(clients, service, operation, endpoint_url=None, **kwargs):
    """clients(service).operation(**kwargs), with failures turned into AwsError naming what was called."""
    try:
        return getattr(clients(service), operation)(**kwargs)
    except Exception as exc:
        raise AwsError("AWS %s %s failed%s: %s" % (
            service, operation, " (endpoint %s)" % endpoint_url if endpoint_url else "", error_text(exc))) from exc


def paginate(clients, service, operation, key, endpoint_url=None, **kwargs):
    """Every item under `key` across the pages of a paginated operation."""
    try:
        items = []
        for page in clients(service).get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(key) or [])
        return items
    except Exception as exc:
        raise AwsError("AWS %s %s failed%s: %s" % (
            service, operation, " (endpoint %s)" % endpoint_url if endpoint_url else "", error_text(exc))) from exc


def conclude(module, out, disagreement):
    """Exit with the result; fail with every problem when there is one and O(fail_on_error) is set."""
    if out["problems"] and module.params["fail_on_error"]:
        module.fail_json(msg="%s: %s" % (disagreement, "; ".join(out["problems"])), **out)
    module.exit_json(**out)


def check_module(options, **kwargs):
    """The AnsibleModule of an AWS check: its own options, O(fail_on_error) and the AWS connection options."""
    from ansible.module_utils.basic import AnsibleModule
    return AnsibleModule(argument_spec=dict(options, **CHECK_ARG_SPEC, **AWS_ARG_SPEC), supports_check_mode=True, **kwargs)


@contextmanager
def failing_on_aws_error(module, out, what):
    """An AwsError inside fails the module with `Cannot <what>`, what was found so far, and the error as a problem."""
    try:
        yield
    except AwsError as exc:
        out["problems"].append(str(exc))
        module.fail_json(msg="Cannot %s: %s" % (what, exc), **out)
