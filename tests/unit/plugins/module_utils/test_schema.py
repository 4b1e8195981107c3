"""The declarative schema engine, and the mesh model's values coming from the schema alone."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec_schema as schema_of_mesh
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import DNS1123_LABEL
from ansible_collections.eco2.mesh.plugins.module_utils.schema import (
    Bool, Checker, Choice, Derived, Dict, List, Port, Raw, Scope, Str, defaults, rows)

REPO = Path(__file__).resolve().parents[4]
ITEM = Dict({
    "name": Str(DNS1123_LABEL, "DNS-1123 label"),
    "namespace": Str(DNS1123_LABEL, "namespace name", default=Derived(lambda s: s["name"], "the name")),
    "port": Port(default=8000),
    "mode": Choice(("a", "b"), lower=True, default="a"),
    "on": Bool(default=True),
    "ports": List(Port(), min_message="must list at least one port", default=[80]),
})


def check(node, value, context=None):
    c = Checker()
    out = node.check(c, "v", value, Scope(dict(context or {})))
    return out, c.errors


def test_absent_keys_take_their_defaults_and_a_derived_default_reads_the_enclosing_item():
    out, errors = check(ITEM, {"name": "auth", "mode": "B"})
    assert errors == []
    assert out == {"name": "auth", "namespace": "auth", "port": 8000, "mode": "b", "on": True, "ports": [80]}


def test_every_problem_is_reported_with_its_path_and_the_allowed_values():
    out, errors = check(ITEM, {"name": "Auth", "port": 0, "mode": "c", "on": "yes", "ports": [], "extra": 1})
    assert errors == [
        "v.extra: unknown key; allowed keys: mode, name, namespace, on, port, ports",
        "v.name: 'Auth' is not a valid DNS-1123 label",
        "v.port: 0 is not a port number (1-65535)",
        "v.mode: 'c' is not one of a, b",
        "v.on: 'yes' is not one of true, false",
        "v.ports: must list at least one port",
    ]
    # an invalid value falls back to the fixed default; a derivation from an invalid value is left unset
    assert out["port"] == 8000 and out["mode"] == "a" and out["namespace"] is None


def test_a_keyed_list_leaves_out_a_taken_or_invalid_key_and_shares_names_through_the_context():
    routes = List(Dict({"name": Str(DNS1123_LABEL, "name"), "port": Port(default=80)}), key="name", taken="names",
                  taken_message="%r already has a route")
    context = {"names": ["argocd"]}
    out, errors = check(routes, [{"name": "a"}, {"name": "a", "port": 0}, {"name": "argocd"}, {"port": 1}], context)
    assert out == [{"name": "a", "port": 80}]
    # the second 'a' is left out before its port is checked (claimed as soon as its key is)
    assert errors == ["v[1].name: 'a' already has a route", "v[2].name: 'argocd' already has a route",
                      "v[3].name: is required"]
    assert context["names"] == ["argocd", "a"]


def test_a_keyed_list_claiming_last_checks_the_whole_item_first():
    items = List(Dict({"name": Str(), "port": Port()}), key="name", claim_first=False)
    out, errors = check(items, [{"name": "a", "port": 1}, {"name": "a", "port": 0, "x": 1}])
    assert out == [{"name": "a", "port": 1}]
    assert errors == ["v[1].x: unknown key; allowed keys: name, port", "v[1].port: 0 is not a port number (1-65535)",
                      "v[1].name: 'a' is declared twice"]


def test_exactly_one_of_and_the_rules_between_fields():
    peer = Dict({"name": Str(), "namespace": Str(), "cidr": Str()}, one_of=("namespace", "cidr"),
                one_of_message="needs exactly one of namespace or cidr",
                post=lambda c, path, item, scope: dict(item, kind="pod" if item["namespace"] else "ip"))
    assert check(peer, {"name": "p", "cidr": "10.0.0.0/8"}) == (
        {"name": "p", "namespace": None, "cidr": "10.0.0.0/8", "kind": "ip"}, [])
    assert check(peer, {"name": "p", "namespace": "db", "cidr": "10.0.0.0/8"}) == (
        None, ["v: needs exactly one of namespace or cidr"])
    assert check(peer, {"name": None, "namespace": None}) == (
        {"name": None, "namespace": None, "cidr": None, "kind": "ip"}, ["v.name: is required", "v.namespace: is required"])


def test_an_optional_mapping_is_absent_when_null_and_a_list_may_demand_a_valid_item():
    section = Dict({"paths": List(Str(), min_message="must list a path", min_valid=True)}, optional=True)
    assert check(section, None) == (None, [])
    expected = ["v.paths[0]: '' must be a non-empty string", "v.paths: must list a path"]
    assert check(section, {"paths": [""]}) == ({"paths": []}, expected)


def test_rows_document_nested_keys_with_their_defaults():
    documented = {row[0]: row[1:3] for row in rows(List(ITEM, doc="x"), "items")}
    assert documented["items[].namespace"] == ("str", "the name")
    assert documented["items[].port"] == ("int", "`8000`")
    assert documented["items[].name"] == ("str", "required")
    assert documented["items[].ports"] == ("list of int", "`[80]`")


def test_the_models_defaults_are_the_schemas():
    spec = ms.build_spec({"mesh_zone": "dev.growbin.app", "mesh_domains": ["auth"],
                          "mesh_alb_certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc-123"})
    alb = defaults(schema_of_mesh.ALB)
    assert {k: spec["alb"][k] for k in alb if k != "certificate_arn"} == {k: v for k, v in alb.items() if k != "certificate_arn"}
    assert spec["istiod"] == defaults(schema_of_mesh.ISTIOD)
    assert spec["dns"] == defaults(schema_of_mesh.DNS)
    gateway = defaults(schema_of_mesh.GATEWAY)
    assert {k: spec["gateway"][k] for k in gateway} == gateway
    # the derivations read the same defaults when the model has no section
    assert ms.istiod_endpoint({})["labels"] == spec["istiod"]["pod_labels"]
    assert ms.dns_endpoint({}) == ms.dns_endpoint(spec)


@pytest.mark.parametrize("variable", sorted(schema_of_mesh.SPEC))
def test_every_variable_and_key_is_documented_in_the_reference(variable):
    reference = REPO / "docs/spec-reference.md"
    text = reference.read_text()
    for row in rows(schema_of_mesh.SPEC[variable], variable):
        assert "| `%s` |" % row[0] in text, row[0]


def test_a_field_never_hides_the_context_and_null_may_mean_derive_it():
    section = Dict({
        "domains": Raw(),  # a field named like a context value
        "hosts": List(Str(), default=Derived(lambda s: [d + ".example" for d in s.context["domains"]], "derived",
                                             when_null=True)),
    })
    context = {"domains": ["auth", "chat"]}
    assert check(section, {"domains": {"x": 1}}, context)[0]["hosts"] == ["auth.example", "chat.example"]
    assert check(section, {"hosts": None}, context)[0]["hosts"] == ["auth.example", "chat.example"]
    assert check(section, {"hosts": []}, context)[0]["hosts"] == []


def test_a_list_claiming_last_claims_only_items_that_passed():
    items = List(Dict({"name": Str(), "mode": Choice(("a",))}, post=lambda c, p, item, s: item if item["mode"] else None),
                 key="name", claim_first=False)
    out, errors = check(items, [{"name": "x", "mode": "b"}, {"name": "x", "mode": "a"}, {"name": "x", "mode": "a"}])
    assert out == [{"name": "x", "mode": "a"}]
    assert errors == ["v[0].mode: 'b' is not one of a", "v[2].name: 'x' is declared twice"]
