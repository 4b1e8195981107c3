"""The generated cookie-to-header Lua filter, run by a real Lua 5.1 interpreter against a stub request handle.

Decision under test: a header the client sent itself wins over the cookie (the cookie is the fallback
for clients that cannot send headers yet); a malformed cookie sets nothing, so jwt_authn sees no token
rather than a broken one.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth as ma
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

from .test_mesh_spec import inventory_vars

LUA = shutil.which("lua5.1") or shutil.which("luajit")

# Envoy's header map as the filter sees it: case-insensitive get, replace sets one value.
HARNESS = r"""
local store, order = {}, {}
local function lower(k) return string.lower(k) end
local headers = {}
function headers:get(k) return store[lower(k)] end
function headers:replace(k, v)
  if store[lower(k)] == nil then table.insert(order, lower(k)) end
  store[lower(k)] = v
end
function headers:add(k, v) error("the filter must not add a second value for " .. k) end
local handle = {}
function handle:headers() return headers end
for _, kv in ipairs(INPUT) do headers:replace(kv[1], kv[2]) end
envoy_on_request(handle)
for _, k in ipairs(order) do io.write(k, "\t", store[k], "\n") end
"""


def lua_string(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def run_filter(request_headers):
    spec = ms.build_spec(inventory_vars("dev"))
    ef = next(o for o in ma.auth_objects(spec) if o["kind"] == "EnvoyFilter")
    code = ef["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["inlineCode"]
    rows = ", ".join("{%s, %s}" % (lua_string(k), lua_string(v)) for k, v in request_headers)
    script = code + "\nINPUT = {%s}\n" % rows + HARNESS
    out = subprocess.run([LUA, "-"], input=script, capture_output=True, text=True, check=True, timeout=30)
    return dict(line.split("\t", 1) for line in out.stdout.splitlines())


pytestmark = pytest.mark.skipif(LUA is None, reason="needs lua5.1 (scripts/debian-packages.txt)")

ACCESS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_x"
REFRESH = "r3fr3sh.t0k3n"


def test_both_cookies():
    h = run_filter([("cookie", "s_access=%s; s_refresh=%s" % (ACCESS, REFRESH))])
    assert h["authorization"] == "Bearer " + ACCESS
    assert h["x-refresh-token"] == "Bearer " + REFRESH


def test_one_cookie_among_others():
    h = run_filter([("Cookie", "theme=dark;s_refresh=%s ; lang=ko" % REFRESH)])
    assert h["x-refresh-token"] == "Bearer " + REFRESH
    assert "authorization" not in h


def test_no_auth_cookie():
    h = run_filter([("cookie", "theme=dark; lang=ko"), ("x-request-id", "abc")])
    assert h == {"cookie": "theme=dark; lang=ko", "x-request-id": "abc"}


def test_no_cookie_header():
    assert run_filter([("x-request-id", "abc")]) == {"x-request-id": "abc"}


@pytest.mark.parametrize("cookie", [
    "s_access", "s_access=", "s_access=\"\"", "s_access=a b", "s_access=tok\"en", "s_access=\"tok", "=s_access",
    "s_access=<script>", ";;;", "s_accessX=%s" % ACCESS,
])
def test_malformed_cookie_sets_nothing(cookie):
    h = run_filter([("cookie", cookie)])
    assert "authorization" not in h, h


def test_quoted_cookie_value_is_unquoted():
    h = run_filter([("cookie", 's_access="%s"' % ACCESS)])
    assert h["authorization"] == "Bearer " + ACCESS


def test_header_sent_by_the_client_wins_over_the_cookie():
    h = run_filter([("Authorization", "Bearer from-header"),
                    ("cookie", "s_access=%s; s_refresh=%s" % (ACCESS, REFRESH))])
    assert h["authorization"] == "Bearer from-header"
    assert h["x-refresh-token"] == "Bearer " + REFRESH


def test_empty_authorization_header_is_filled_from_the_cookie():
    h = run_filter([("authorization", ""), ("cookie", "s_access=%s" % ACCESS)])
    assert h["authorization"] == "Bearer " + ACCESS


def test_repeated_cookie_headers_joined_by_envoy():
    h = run_filter([("cookie", "theme=dark,s_access=%s; s_refresh=%s" % (ACCESS, REFRESH))])
    assert h["authorization"] == "Bearer " + ACCESS
    assert h["x-refresh-token"] == "Bearer " + REFRESH
