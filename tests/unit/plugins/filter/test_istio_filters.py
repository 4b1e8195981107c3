"""The istio_* filters and the roles' defaults agree with module_utils."""
from __future__ import annotations


import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.filter import istio_helm as f
from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm as ih

from ...role_defaults import CHART_ROLES, ROLES, SHARED, defaults, role_spec


def test_filters_registered():
    assert set(f.FilterModule().filters()) == {"istio_helm_values", "istio_chart_source", "istio_gateway_labels",
                                               "istio_release_merge", "istio_verify_ports"}


def test_filter_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="unknown option"):
        f.istio_helm_values({"nope": 1}, "istiod")


def test_role_vars_hand_every_builder_option_to_the_filter():
    for chart, (role, prefix, options) in CHART_ROLES.items():
        spec = yaml.safe_load((ROLES / role / "vars/main.yml").read_text())["__%sspec" % prefix]
        assert sorted(spec) == sorted(options), role
        assert all(spec[o].strip().startswith("{{ %s%s" % (prefix, o)) for o in options), role
        assert f.istio_helm_values(role_spec(chart), chart) == ih.helm_values(role_spec(chart), chart)


def test_shared_defaults_are_written_once():
    assert SHARED["istio_version"] == "1.24.1" and SHARED["istio_namespace"] == "istio-system"
    assert SHARED["istio_chart_repo_url"].startswith("https://")
    for role, prefix, _options in CHART_ROLES.values():
        d = defaults(role)
        for key in ("state", "version", "namespace", "chart_repo_url", "chart_dir"):
            assert d[prefix + key] == "{{ istio_%s }}" % key, (role, key)
        meta = yaml.safe_load((ROLES / role / "meta/main.yml").read_text())
        assert {"role": "eco2.mesh.istio_release"} in meta["dependencies"], role
