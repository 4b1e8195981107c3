"""The roles' argument specs agree with the mesh model and with the roles' defaults."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import SPEC_OPTIONS

ROLES = Path(__file__).resolve().parents[3] / "roles"
SPEC_ROLES = ("mesh_network_policies", "mesh_routing", "mesh_mtls_telemetry")


def options(role, entry="main"):
    return yaml.safe_load((ROLES / role / "meta/argument_specs.yml").read_text())["argument_specs"][entry]["options"]


@pytest.mark.parametrize("role", SPEC_ROLES)
def test_spec_variables_documented_with_the_model_types_and_no_second_default(role):
    opts = options(role)
    documented = {k for k in opts if k in ms.SPEC_TYPES or k.startswith("mesh_") and not k.startswith(role)}
    assert documented - {"mesh_render_dir"} == set(ms.SPEC_TYPES)
    for name, kind in ms.SPEC_TYPES.items():
        assert opts[name]["type"] == kind, name
        assert "default" not in opts[name], "%s: the default lives in mesh_spec.build_spec only" % name


def sync_script():
    spec = importlib.util.spec_from_file_location("sync_schema_docs", ROLES.parent / "scripts/sync_schema_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("role", SPEC_ROLES)
def test_spec_options_are_the_schema_as_the_sync_script_writes_them(role):
    sync = sync_script()
    assert sync.SPEC_ROLES == SPEC_ROLES
    text = (ROLES / role / "meta/argument_specs.yml").read_text()
    assert sync.synced(text) == text, "run scripts/sync_schema_docs.py"
    assert {k: options(role)[k] for k in SPEC_OPTIONS} == SPEC_OPTIONS


def test_the_spec_reference_is_the_schema_as_the_sync_script_writes_it():
    sync = sync_script()
    assert (ROLES.parent / sync.REFERENCE).read_text() == sync.reference(), "run scripts/sync_schema_docs.py"


def test_sync_script_rewrites_a_stale_spec_block():
    sync = sync_script()
    text = (ROLES / "mesh_routing/meta/argument_specs.yml").read_text()
    stale = text.replace("Cross-domain calls", "Calls")
    assert stale != text and sync.synced(stale) == text


def test_bundle_roles_document_the_spec_identically():
    first, *others = (options(r) for r in SPEC_ROLES)
    for other in others:
        assert {k: first[k] for k in ms.SPEC_TYPES} == {k: other[k] for k in ms.SPEC_TYPES}


@pytest.mark.parametrize("role", sorted(p.name for p in ROLES.iterdir() if (p / "defaults/main.yml").is_file()))
def test_argument_spec_defaults_equal_role_defaults(role):
    defaults = yaml.safe_load((ROLES / role / "defaults/main.yml").read_text()) or {}
    opts = options(role)
    for name, value in defaults.items():
        assert name in opts, "%s: default %s is not in meta/argument_specs.yml" % (role, name)
        if "default" in opts[name] and not (isinstance(value, str) and "{{" in value):
            assert opts[name]["default"] == value, "%s: %s" % (role, name)


@pytest.mark.parametrize("role", ["istio_base", "istiod", "istio_gateway", "kiali", "jaeger"])
def test_the_release_a_role_builds_has_the_shape_of_the_release_entry_points(role):
    """The release roles include istio_release's install without validating its argument again
    (rolespec_validate: false): the dict they pass must have the shape that spec declares."""
    release = yaml.safe_load((ROLES / role / "vars/main.yml").read_text())["__%s_release" % role]
    for entry in ("install", "render"):
        spec = options("istio_release", entry)["istio_release"]["options"]
        assert set(release) <= set(spec), (role, entry, set(release) - set(spec))
        assert {k for k, o in spec.items() if o.get("required")} <= set(release), (role, entry)
        assert all(isinstance(v, str) and v.startswith("{{") for v in release.values()), role  # computed from the role's arguments
