# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auth offloading at the ingress gateway: the `mesh_auth` spec section and its objects (pure).

`auth_spec(c, section, domains)` completes the `mesh_auth` section checked against
mesh_spec_schema.AUTH (called by mesh_spec.build_spec, errors collected in its checker); `auth_objects(spec)` gives
the routing bundle's RequestAuthentication, CUSTOM AuthorizationPolicy and
cookie-to-header EnvoyFilter; `extension_providers(raw)` gives istiod's
`meshConfig.extensionProviders` from the same section, so the provider is
declared once; `auth_flows(spec)` the connections the NetworkPolicy bundle opens.

Order of the gateway's HTTP filters for a request: cookie-to-header (Lua, inserted
before jwt_authn) -> jwt_authn (RequestAuthentication) -> ext_authz (CUSTOM) ->
router. A header the client sent itself wins over the cookie.
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import check_section, managed_labels
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import AUTH_DOMAIN, AUTH_PROVIDER, svc_parts
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import HTTP_URL_PARTS
from ansible_collections.eco2.mesh.plugins.module_utils.schema import defaults

SECURITY_API = "security.istio.io/v1"
ENVOY_FILTER_API = "networking.istio.io/v1alpha3"
BUNDLE = "routing"
JWT_FILTER = "envoy.filters.http.jwt_authn"
HCM_FILTER = "envoy.filters.network.http_connection_manager"
LUA_TYPE = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
COOKIE_FILTER_NAME = "eco2.cookie_to_header"
# A relative patch (INSERT_BEFORE) needs an explicit priority to be ordered among EnvoyFilters (istioctl IST0151);
# positive: applied after default-priority filters, so it lands before jwt_authn wherever they moved it.
COOKIE_FILTER_PRIORITY = 10


def _join(prefix, rel):
    return prefix.rstrip("/") + "/" + rel.lstrip("/")


def _expand(path):
    """'a/*' is the path itself and everything below it: both patterns."""
    return [path[:-2], path] if path.endswith("/*") else [path]


def _jwt_rule(item):
    rule = {"issuer": item["issuer"], "jwks_uri": item["jwks_uri"],
            "forward_original_token": item["forward_original_token"],
            "audiences": [a for a in item["audiences"] if isinstance(a, str)], "jwks_service": None,
            "from_headers": item["from_headers"], "from_cookies": item["from_cookies"]}
    if rule["jwks_uri"]:
        m = HTTP_URL_PARTS.match(rule["jwks_uri"])
        parts = svc_parts(m.group(1))
        if parts:
            default_port = 443 if rule["jwks_uri"].startswith("https") else 80
            rule["jwks_service"] = {"service": parts[0], "namespace": parts[1],
                                    "port": int(m.group(3)) if m.group(3) else default_port}
    return rule


def auth_spec(c, a, domains):
    """The normalised auth section from the checked one (mesh_spec_schema.AUTH), or None when it is absent."""
    if a is None:
        return None
    spec = {"provider": a["provider"], "jwt": [_jwt_rule(item) for item in a["jwt"]],
            "hosts": a["hosts"], "protected_paths": a["protected_paths"]}
    public = list(a["public_paths"])
    spec["unprotected_domains"] = []
    for d in domains:
        own = a["domains"].get(d["name"]) or defaults(AUTH_DOMAIN)
        rel = a["domain_public_paths"] + own["public_paths"]
        if not own["protected"]:
            spec["unprotected_domains"].append(d["name"])
            rel = ["*"]
        for route in d["routes"]:
            for r in rel:
                for p in _expand(_join(route["prefix"], r)):
                    if p not in public:
                        public.append(p)
    spec["public_paths"] = public
    spec["cookie_to_header"] = a["cookie_to_header"]
    spec["cookies"] = a["cookies"]
    if spec["cookie_to_header"] and not spec["cookies"]:
        c.err("mesh_auth.cookies", "must list at least one {cookie, header} while mesh_auth.cookie_to_header is true")
    spec["names"] = a["names"]
    return spec


def validate_provider(raw, enabled=True):
    """meshConfig.extensionProviders entries for istiod, from `mesh_auth` alone (no domains needed)."""
    if raw is None or not enabled:
        return []
    raw = raw if isinstance(raw, dict) else {}
    return [extension_provider(check_section(AUTH_PROVIDER, "mesh_auth.provider", raw.get("provider") or {}))]


def extension_provider(provider):
    body = {"service": provider["service"], "port": provider["port"], "timeout": provider["timeout"],
            "failOpen": provider["fail_open"]}
    if provider["type"] == "envoyExtAuthzHttp" and provider["check_headers"]:
        body["includeRequestHeadersInCheck"] = list(provider["check_headers"])
    # envoyExtAuthzGrpc has no header list: its CheckRequest carries every request header.
    return {"name": provider["name"], provider["type"]: body}


# -- objects -----------------------------------------------------------------------
def _gateway_object(spec, api_version, kind, name_key, body):
    """An object of the routing bundle in the gateway's namespace, named by mesh_auth.names[name_key]."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": spec["auth"]["names"][name_key], "namespace": spec["gateway"]["namespace"],
                     "labels": managed_labels(BUNDLE)},
        "spec": body,
    }


def request_authentication(spec):
    auth, gw = spec["auth"], spec["gateway"]
    rules = []
    for r in auth["jwt"]:
        rule = {"issuer": r["issuer"], "jwksUri": r["jwks_uri"], "forwardOriginalToken": r["forward_original_token"]}
        if r["audiences"]:
            rule["audiences"] = list(r["audiences"])
        if r["from_headers"]:
            rule["fromHeaders"] = [dict({"name": h["name"]}, **({"prefix": h["prefix"]} if h["prefix"] else {}))
                                   for h in r["from_headers"]]
        if r["from_cookies"]:
            rule["fromCookies"] = list(r["from_cookies"])
        rules.append(rule)
    return _gateway_object(spec, SECURITY_API, "RequestAuthentication", "request_authentication",
                           {"selector": {"matchLabels": dict(gw["selector"])}, "jwtRules": rules})


def authorization_policy(spec):
    auth, gw = spec["auth"], spec["gateway"]
    operation = {"hosts": list(auth["hosts"]), "paths": list(auth["protected_paths"])}
    if auth["public_paths"]:
        operation["notPaths"] = list(auth["public_paths"])
    return _gateway_object(spec, SECURITY_API, "AuthorizationPolicy", "authorization_policy", {
        "selector": {"matchLabels": dict(gw["selector"])},
        "action": "CUSTOM",
        "provider": {"name": auth["provider"]["name"]},
        "rules": [{"to": [{"operation": operation}]}],
    })


LUA_TEMPLATE = """-- Generated by eco2.mesh: cookies -> request headers, before jwt_authn.
-- A header the client sent itself wins; a malformed or empty cookie sets nothing.
local MAPPINGS = {
%(mappings)s}

-- Envoy joins repeated headers with ','; a cookie value never holds ',' or ';' (RFC 6265 cookie-octet).
local function cookie_value(cookie_header, name)
  for pair in string.gmatch(cookie_header, "[^;,]+") do
    local key, value = string.match(pair, "^%%s*([^=%%s]+)%%s*=%%s*(.-)%%s*$")
    if key == name then
      value = string.match(value, '^"(.*)"$') or value
      if string.match(value, "^[%%w%%-%%._~%%+/=]+$") then
        return value
      end
      return nil
    end
  end
  return nil
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local cookie_header = headers:get("cookie")
  if cookie_header == nil or cookie_header == "" then
    return
  end
  for _, m in ipairs(MAPPINGS) do
    local existing = headers:get(m.header)
    if existing == nil or existing == "" then
      local value = cookie_value(cookie_header, m.cookie)
      if value ~= nil then
        headers:replace(m.header, m.prefix .. value)
      end
    end
  end
end
"""


def lua_code(cookies):
    rows = "".join('  {cookie = "%s", header = "%s", prefix = "%s"},\n' % (m["cookie"], m["header"], m["prefix"])
                   for m in cookies)
    return LUA_TEMPLATE % {"mappings": rows}


def cookie_envoy_filter(spec):
    auth, gw = spec["auth"], spec["gateway"]
    return _gateway_object(spec, ENVOY_FILTER_API, "EnvoyFilter", "envoy_filter", {
        "workloadSelector": {"labels": dict(gw["selector"])},
        "priority": COOKIE_FILTER_PRIORITY,
        "configPatches": [{
            "applyTo": "HTTP_FILTER",
            "match": {"context": "GATEWAY", "listener": {"filterChain": {"filter": {
                "name": HCM_FILTER, "subFilter": {"name": JWT_FILTER}}}}},
            "patch": {"operation": "INSERT_BEFORE", "value": {
                "name": COOKIE_FILTER_NAME,
                "typed_config": {"@type": LUA_TYPE, "inlineCode": lua_code(auth["cookies"])},
            }},
        }],
    })


def auth_objects(spec):
    """The auth objects of the routing bundle (none without an enabled mesh_auth)."""
    if not spec.get("auth"):
        return []
    objs = [request_authentication(spec), authorization_policy(spec)]
    if spec["auth"]["cookie_to_header"]:
        objs.append(cookie_envoy_filter(spec))
    return objs


def auth_flows(spec):
    """Connections auth offloading needs: gateway -> ext_authz port, istiod -> each in-cluster JWKS port.

    Each: {name, from: {namespace, pod_labels}, to: {namespace, pod_labels}, port, protocol}.
    """
    auth = spec.get("auth")
    if not auth:
        return []
    provider, gw, istiod = auth["provider"], spec["gateway"], spec["istiod"]
    to_auth = {"namespace": provider["namespace"], "pod_labels": dict(provider["pod_labels"])}
    flows = [{"name": "ext-authz", "from": {"namespace": gw["namespace"], "pod_labels": dict(gw["pod_labels"])},
              "to": to_auth, "port": provider["port"], "protocol": "TCP"}]
    for rule in auth["jwt"]:
        jwks = rule["jwks_service"]
        if not jwks:
            continue
        to = to_auth if jwks["namespace"] == provider["namespace"] else {"namespace": jwks["namespace"], "pod_labels": {}}
        flow = {"name": "jwks", "from": {"namespace": istiod["namespace"], "pod_labels": dict(istiod["pod_labels"])},
                "to": to, "port": jwks["port"], "protocol": "TCP"}
        if all((f["to"], f["port"]) != (to, jwks["port"]) or f["name"] != "jwks" for f in flows):
            flows.append(flow)
    return flows
