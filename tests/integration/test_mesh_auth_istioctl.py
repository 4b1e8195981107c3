"""istioctl analyze (the real Istio analyzers, offline: --use-kube=false) over the routing bundle with mesh_auth."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_routing as mr
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

from tests.lib.ansible_run import TOOLS_BIN
from tests.unit.plugins.module_utils.test_mesh_spec import inventory_vars

pytestmark = pytest.mark.slow

# Istio's blanket warning on every EnvoyFilter ("exposes internal implementation details"): inherent to the kind.
INHERENT = "IST0133"


def analyze(tmp_path, objects):
    manifest = tmp_path / "bundle.yaml"
    manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    done = subprocess.run([str(TOOLS_BIN / "istioctl"), "analyze", "--use-kube=false", "-A",
                           "--failure-threshold", "Warning", str(manifest)],
                          text=True, capture_output=True, timeout=120, check=False)
    return done, [line for line in (done.stdout + done.stderr).splitlines() if " [IST" in line]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_routing_bundle_with_auth_has_no_istioctl_findings(tmp_path, env):
    objects = mr.routing_objects(ms.build_spec(inventory_vars(env)))
    assert {"RequestAuthentication", "AuthorizationPolicy", "EnvoyFilter"} <= {o["kind"] for o in objects}
    done, findings = analyze(tmp_path, objects)
    assert [f for f in findings if INHERENT not in f] == [], done.stdout + done.stderr


def test_istioctl_reports_a_broken_custom_policy(tmp_path):
    objects = mr.routing_objects(ms.build_spec(inventory_vars("dev")))
    policy = next(o for o in objects if o["kind"] == "AuthorizationPolicy")
    del policy["spec"]["provider"]
    done, findings = analyze(tmp_path, objects)
    assert done.returncode != 0
    assert any("IST0106" in f and "AuthorizationPolicy istio-system/eco2-ext-authz" in f for f in findings), findings
