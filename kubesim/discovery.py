"""Discovery documents: legacy (/api, /apis, group-version lists) and aggregated (apidiscovery.k8s.io/v2)."""
from __future__ import annotations

from typing import Any

from .resources import Registry, ResourceType

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

_SUB_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
              "eviction": ["create"], "binding": ["create"], "log": ["get"], "token": ["create"],
              "finalize": ["update"]}
_SUB_KIND = {"scale": ("autoscaling", "v1", "Scale"), "eviction": ("policy", "v1", "Eviction"),
             "binding": ("", "v1", "Binding"), "token": ("authentication.k8s.io", "v1", "TokenRequest"),
             "log": ("", "v1", "Pod")}


def wants_aggregated(accept: str) -> str | None:
    """The aggregated media type to answer with, if the client asked for one."""
    for part in accept.split(","):
        p = part.replace(" ", "")
        if "as=APIGroupDiscoveryList" in p and "g=apidiscovery.k8s.io" in p:
            if "v=v2beta1" in p:
                return AGGREGATED_V2BETA1
            if "v=v2" in p:
                return AGGREGATED_V2
    return None


def api_versions(address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}


def _group_doc(group: str, versions: list[str]) -> dict:
    return {"name": group, "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]}}


def api_group_list(reg: Registry) -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in reg.groups().items() if g]}


def api_group(reg: Registry, group: str) -> dict | None:
    vs = reg.groups().get(group)
    if not vs:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, vs)}


def resource_list(reg: Registry, group: str, version: str) -> dict | None:
    types = reg.in_group_version(group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in sorted(types, key=lambda r: r.plural):
        doc: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                               "kind": rt.kind, "verbs": rt.verbs}
        if rt.short_names:
            doc["shortNames"] = rt.short_names
        if rt.categories:
            doc["categories"] = rt.categories
        resources.append(doc)
        for sub in rt.subresources:
            sdoc: dict[str, Any] = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                                    "kind": rt.kind, "verbs": _SUB_VERBS.get(sub, ["get"])}
            if sub in _SUB_KIND:
                g, v, k = _SUB_KIND[sub]
                sdoc["kind"] = k
                if g:
                    sdoc["group"] = g
                sdoc["version"] = v
            resources.append(sdoc)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _agg_resource(rt: ResourceType, version: str) -> dict:
    doc: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": rt.verbs,
    }
    if rt.short_names:
        doc["shortNames"] = rt.short_names
    if rt.categories:
        doc["categories"] = rt.categories
    subs = []
    for sub in rt.subresources:
        g, v, k = _SUB_KIND.get(sub, (rt.group, version, rt.kind))
        subs.append({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": k},
                     "verbs": _SUB_VERBS.get(sub, ["get"])})
    if subs:
        doc["subresources"] = subs
    return doc


def aggregated(reg: Registry, core: bool, media_type: str) -> dict:
    api_version = "apidiscovery.k8s.io/v2" if media_type == AGGREGATED_V2 else "apidiscovery.k8s.io/v2beta1"
    items = []
    for group, versions in reg.groups().items():
        if core != (group == ""):
            continue
        vdocs = []
        for v in versions:
            types = sorted(reg.in_group_version(group, v), key=lambda r: r.plural)
            vdocs.append({"version": v, "resources": [_agg_resource(rt, v) for rt in types],
                          "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": vdocs})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}


def version_doc(git_version: str) -> dict:
    core = git_version.lstrip("v").split("-")[0].split("+")[0]
    major, minor = core.split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": git_version,
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2024-10-22T20:00:00Z", "goVersion": "go1.22.8", "compiler": "gc",
            "platform": "linux/amd64"}
