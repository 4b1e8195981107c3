"""The istio_* filters and the roles' defaults agree with module_utils."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.filter import istio_helm as f
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm as ih

ROLES = Path(__file__).resolve().parents[4] / "roles"


def test_filters_registered():
    assert set(f.FilterModule().filters()) == {"istio_helm_values", "istio_chart_source", "istio_gateway_labels",
                                               "istio_release_merge", "istio_verify_ports"}


def test_filter_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="unknown option"):
        f.istio_helm_values({"nope": 1}, "istiod")


def test_role_defaults_match_builder_defaults():
    istiod = yaml.safe_load((ROLES / "istiod/defaults/main.yml").read_text())
    gateway = yaml.safe_load((ROLES / "istio_gateway/defaults/main.yml").read_text())
    spec = {k[len("istiod_"):]: v for k, v in istiod.items() if k[len("istiod_"):] in ih.ISTIOD_DEFAULTS}
    assert f.istio_helm_values(spec, "istiod") == ih.istiod_values()
    spec = {k[len("istio_gateway_"):]: v for k, v in gateway.items() if k[len("istio_gateway_"):] in ih.GATEWAY_DEFAULTS}
    assert f.istio_helm_values(spec, "gateway") == ih.gateway_values()


def test_shared_defaults_agree_across_roles():
    for role, prefix in (("istio_base", "istio_base_"), ("istiod", "istiod_"), ("istio_gateway", "istio_gateway_")):
        d = yaml.safe_load((ROLES / role / "defaults/main.yml").read_text())
        assert ih.DEFAULT_VERSION in d[prefix + "version"]
        assert ih.OFFICIAL_REPO in d[prefix + "chart_repo_url"]
        assert ih.DEFAULT_NAMESPACE in d[prefix + "namespace"]
