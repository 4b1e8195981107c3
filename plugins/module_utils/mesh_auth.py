# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auth offloading at the ingress gateway: the `mesh_auth` spec section and its objects (pure).

`auth_spec(c, raw, enabled, domains, gateway)` validates `mesh_auth` (called by
mesh_spec.build_spec, errors collected in its checker); `auth_objects(spec)` gives
the routing bundle's RequestAuthentication, CUSTOM AuthorizationPolicy and
cookie-to-header EnvoyFilter; `extension_providers(raw)` gives istiod's
`meshConfig.extensionProviders` from the same section, so the provider is
declared once; `auth_flows(spec)` the connections the NetworkPolicy bundle opens.

Order of the gateway's HTTP filters for a request: cookie-to-header (Lua, inserted
before jwt_authn) -> jwt_authn (RequestAuthentication) -> ext_authz (CUSTOM) ->
router. A header the client sent itself wins over the cookie.
"""
from __future__ import annotations

import copy

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import managed_labels
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import (
    COOKIE_NAME, DECIMAL_DURATION, DNS1123_LABEL, DNS1123_SUBDOMAIN, HEADER_NAME, HTTP_URL_PARTS, REQUEST_PATH)

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
PROVIDER_TYPES = ("envoyExtAuthzGrpc", "envoyExtAuthzHttp")

DEFAULT_PROVIDER = {
    "name": "eco2-ext-authz",
    "type": "envoyExtAuthzGrpc",
    "service": None,
    "namespace": None,
    "port": 9001,
    "timeout": "2s",
    "fail_open": False,
    "check_headers": [],
    "pod_labels": {},
}
DEFAULT_AUTH = {
    "provider": {},
    "jwt": [],
    "hosts": None,
    "protected_paths": ["/api/v1/*"],
    "domain_public_paths": ["docs", "openapi.json", "health", "ready", "metrics"],
    "public_paths": ["/health", "/ready", "/metrics"],
    "domains": {},
    "cookie_to_header": True,
    "cookies": [],
    "names": {},
}
DEFAULT_NAMES = {
    "request_authentication": "eco2-jwt",
    "authorization_policy": "eco2-ext-authz",
    "envoy_filter": "eco2-cookie-to-header",
}
JWT_KEYS = {"issuer", "jwks_uri", "forward_original_token", "audiences", "from_headers", "from_cookies",
            "jwks_port"}
COOKIE_KEYS = {"cookie", "header", "prefix"}
DOMAIN_KEYS = {"public_paths", "protected"}


def _svc_parts(host):
    """('auth-api', 'auth') from 'auth-api.auth.svc.cluster.local' (or 'auth-api.auth'); None otherwise."""
    parts = host.split(".")
    if len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
        return parts[0], parts[1]
    return None


def _join(prefix, rel):
    return prefix.rstrip("/") + "/" + rel.lstrip("/")


def _expand(path):
    """'a/*' is the path itself and everything below it: both patterns."""
    return [path[:-2], path] if path.endswith("/*") else [path]


def _provider(c, raw):
    raw = c.dict_("mesh_auth.provider", raw, set(DEFAULT_PROVIDER))
    p = copy.deepcopy(DEFAULT_PROVIDER)
    p.update(raw)
    c.str_("mesh_auth.provider.name", p["name"], DNS1123_LABEL, "provider name (DNS-1123 label)")
    c.choice("mesh_auth.provider.type", p["type"], PROVIDER_TYPES)
    svc = c.str_("mesh_auth.provider.service", p["service"], DNS1123_SUBDOMAIN,
                 "Service host (<service>.<namespace>.svc.cluster.local)")
    if svc:
        parts = _svc_parts(svc)
        if not parts:
            c.err("mesh_auth.provider.service", "%r is not an in-cluster Service host "
                  "(<service>.<namespace>.svc.cluster.local)" % svc)
        else:
            p["service_name"], p["service_namespace"] = parts
            if p["namespace"] not in (None, parts[1]):
                c.err("mesh_auth.provider.namespace", "%r differs from the namespace %r of mesh_auth.provider.service"
                      % (p["namespace"], parts[1]))
            p["namespace"] = parts[1]
            p["service"] = "%s.%s.svc.cluster.local" % parts
    p["port"] = c.port("mesh_auth.provider.port", p["port"])
    if not isinstance(p["timeout"], str) or not DECIMAL_DURATION.match(p["timeout"]):
        c.err("mesh_auth.provider.timeout", "%r is not a duration like 2s, 500ms, 1m" % (p["timeout"],))
    p["fail_open"] = c.bool_("mesh_auth.provider.fail_open", p["fail_open"], False)
    headers = c.list_("mesh_auth.provider.check_headers", p["check_headers"])
    p["check_headers"] = [h.lower() for i, h in enumerate(headers) if c.str_(
        "mesh_auth.provider.check_headers[%d]" % i, h.lower() if isinstance(h, str) else h, HEADER_NAME,
        "HTTP header name")]
    p["pod_labels"] = c.labels("mesh_auth.provider.pod_labels", p["pod_labels"])
    return p


def _jwt_rules(c, raw):
    rules = []
    items = c.list_("mesh_auth.jwt", raw)
    if not items:
        c.err("mesh_auth.jwt", "must list at least one rule {issuer, jwks_uri}")
    for path, item in c.mappings("mesh_auth.jwt", items, JWT_KEYS):
        issuer = c.str_(path + ".issuer", item.get("issuer"))
        uri = c.str_(path + ".jwks_uri", item.get("jwks_uri"), HTTP_URL_PARTS, "http(s) URL")
        rule = {"issuer": issuer, "jwks_uri": uri,
                "forward_original_token": c.bool_(path + ".forward_original_token",
                                                  item.get("forward_original_token"), True),
                "audiences": [a for a in c.list_(path + ".audiences", item.get("audiences")) if isinstance(a, str)],
                "jwks_service": None}
        if uri:
            m = HTTP_URL_PARTS.match(uri)
            parts = _svc_parts(m.group(1))
            if parts:
                default_port = 443 if uri.startswith("https") else 80
                rule["jwks_service"] = {"service": parts[0], "namespace": parts[1],
                                        "port": int(m.group(3)) if m.group(3) else default_port}
        rules.append(rule)
    return rules


def _cookies(c, raw):
    out = []
    for path, item in c.mappings("mesh_auth.cookies", raw, COOKIE_KEYS):
        cookie = c.str_(path + ".cookie", item.get("cookie"), COOKIE_NAME, "cookie name")
        header = item.get("header")
        header = c.str_(path + ".header", header.lower() if isinstance(header, str) else header, HEADER_NAME,
                        "HTTP header name")
        prefix = item.get("prefix", "Bearer ")
        if not isinstance(prefix, str) or "\n" in prefix or '"' in prefix or "\\" in prefix:
            c.err(path + ".prefix", "%r must be a one-line string without quotes or backslashes" % (prefix,))
            continue
        if cookie and header:
            if header in [o["header"] for o in out]:
                c.err(path + ".header", "%r is set by two cookies" % header)
                continue
            out.append({"cookie": cookie, "header": header, "prefix": prefix})
    return out


def _paths(c, path, raw):
    out = []
    for i, p in enumerate(c.list_(path, raw)):
        if not isinstance(p, str) or not REQUEST_PATH.match(p):
            c.err("%s[%d]" % (path, i), "%r must be a path starting with '/' (a trailing '*' matches a prefix)" % (p,))
            continue
        out.append(p)
    return out


def _relative(c, path, raw):
    out = []
    for i, p in enumerate(c.list_(path, raw)):
        if not isinstance(p, str) or not p or p.startswith("/") or " " in p or "*" in p.rstrip("*"):
            c.err("%s[%d]" % (path, i), "%r must be a path relative to the domain prefix, like 'docs' or 'kakao/*'"
                  % (p,))
            continue
        out.append(p)
    return out


def auth_spec(c, raw, enabled, domains, api_host):
    """The normalised auth section, or None when it is absent or switched off (mesh_auth_enabled: false)."""
    if raw is None or not enabled:
        return None
    raw = c.dict_("mesh_auth", raw, set(DEFAULT_AUTH))
    a = copy.deepcopy(DEFAULT_AUTH)
    a.update(raw)
    spec = {"provider": _provider(c, a["provider"]), "jwt": _jwt_rules(c, a["jwt"])}
    hosts = a["hosts"]
    if hosts is None:
        hosts = []
        for d in domains:
            hosts += [h for h in d["hosts"] if h not in hosts]
        hosts = hosts or [api_host]
    spec["hosts"] = [h for i, h in enumerate(c.list_("mesh_auth.hosts", hosts))
                     if c.str_("mesh_auth.hosts[%d]" % i, h)]
    spec["protected_paths"] = _paths(c, "mesh_auth.protected_paths", a["protected_paths"])
    if not spec["protected_paths"]:
        c.err("mesh_auth.protected_paths", "must list at least one path, e.g. /api/v1/*")
    common = _relative(c, "mesh_auth.domain_public_paths", a["domain_public_paths"])
    public = _paths(c, "mesh_auth.public_paths", a["public_paths"])
    names = [d["name"] for d in domains]
    per_domain = c.dict_("mesh_auth.domains", a["domains"], set(names))
    spec["unprotected_domains"] = []
    for d in domains:
        own = per_domain.get(d["name"]) or {}
        dpath = "mesh_auth.domains.%s" % d["name"]
        own = c.dict_(dpath, own, DOMAIN_KEYS)
        rel = common + _relative(c, dpath + ".public_paths", own.get("public_paths"))
        if not c.bool_(dpath + ".protected", own.get("protected"), True):
            spec["unprotected_domains"].append(d["name"])
            rel = ["*"]
        for route in d["routes"]:
            for r in rel:
                for p in _expand(_join(route["prefix"], r)):
                    if p not in public:
                        public.append(p)
    spec["public_paths"] = public
    spec["cookie_to_header"] = c.bool_("mesh_auth.cookie_to_header", a["cookie_to_header"], True)
    spec["cookies"] = _cookies(c, a["cookies"])
    if spec["cookie_to_header"] and not spec["cookies"]:
        c.err("mesh_auth.cookies", "must list at least one {cookie, header} while mesh_auth.cookie_to_header is true")
    names_in = c.dict_("mesh_auth.names", a["names"], set(DEFAULT_NAMES))
    spec["names"] = dict(DEFAULT_NAMES, **names_in)
    for key, value in spec["names"].items():
        c.str_("mesh_auth.names." + key, value, DNS1123_LABEL, "object name")
    return spec


def validate_provider(raw, enabled=True):
    """meshConfig.extensionProviders entries for istiod, from `mesh_auth` alone (no domains needed)."""
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import MeshSpecError, _Checker
    if raw is None or not enabled:
        return []
    c = _Checker()
    raw = raw if isinstance(raw, dict) else {}
    provider = _provider(c, raw.get("provider") or {})
    if c.errors:
        raise MeshSpecError(c.errors)
    return [extension_provider(provider)]


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
