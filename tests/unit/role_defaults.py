"""The Istio roles' defaults as the option dicts the value builders take (the defaults live only in the roles)."""
from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm as ih

ROLES = Path(__file__).resolve().parents[2] / "roles"
CHART_ROLES = {"base": ("istio_base", "istio_base_", ih.BASE_OPTIONS),
               "istiod": ("istiod", "istiod_", ih.ISTIOD_OPTIONS),
               "gateway": ("istio_gateway", "istio_gateway_", ih.GATEWAY_OPTIONS)}


def defaults(role):
    return yaml.safe_load((ROLES / role / "defaults/main.yml").read_text())


def role_spec(chart, over=None):
    role, prefix, options = CHART_ROLES[chart]
    d = defaults(role)
    spec = {opt: d[prefix + opt] for opt in options}
    spec.update(over or {})
    return spec


SHARED = defaults("istio_release")
