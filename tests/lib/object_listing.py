"""A normalised listing of what a converge leaves in the cluster, to compare two clusters: the objects'
identity, labels and spec, without what differs between any two clusters or runs (uids, versions,
timestamps, generated IPs and ports, CA bundles, restart stamps, Helm revision numbers, pods)."""
from __future__ import annotations

import json

# Everything the migration writes or makes Helm write, cluster-wide and namespaced.
KINDS = (
    "namespaces", "customresourcedefinitions", "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
    "clusterroles", "clusterrolebindings", "roles", "rolebindings", "serviceaccounts", "services", "deployments",
    "poddisruptionbudgets", "horizontalpodautoscalers", "configmaps", "secrets", "networkpolicies", "ingresses",
    "gateways.networking.istio.io", "virtualservices.networking.istio.io", "destinationrules.networking.istio.io",
    "envoyfilters.networking.istio.io", "requestauthentications.security.istio.io",
    "authorizationpolicies.security.istio.io", "peerauthentications.security.istio.io",
)
VOLATILE_META = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "ownerReferences",
                 "selfLink", "finalizers", "deletionTimestamp")
VOLATILE_ANNOTATIONS = ("deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration",
                        "meta.helm.sh/release-name", "meta.helm.sh/release-namespace")
# Contents a cluster generates for itself (certificates, tokens, root CA copies).
NAMES_ONLY = ("configmaps", "secrets")


def _clean(obj: dict, kind: str):
    meta = obj["metadata"]
    for key in VOLATILE_META:
        meta.pop(key, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in VOLATILE_ANNOTATIONS}
    meta["annotations"] = annotations
    obj.pop("status", None)
    if kind in NAMES_ONLY:
        return {"metadata": {"name": meta["name"], "namespace": meta.get("namespace")}, "type": obj.get("type")}
    spec = obj.get("spec") or {}
    if kind == "services":
        for key in ("clusterIP", "clusterIPs"):
            spec.pop(key, None)
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
    if kind == "deployments":
        (spec.get("template", {}).get("metadata", {}).get("annotations") or {}).pop("kubectl.kubernetes.io/restartedAt", None)
    for hook in obj.get("webhooks") or []:
        hook.get("clientConfig", {}).pop("caBundle", None)
    if kind == "customresourcedefinitions":
        spec.get("conversion", {}).get("webhook", {}).get("clientConfig", {}).pop("caBundle", None)
    return obj


def listing(kube) -> dict:
    """{"kind namespace/name": normalised object} for every object of KINDS (Helm's release Secrets excluded)."""
    out = {}
    for kind in KINDS:
        items = json.loads(kube.kubectl("get", kind, "-A", "-o", "json").stdout)["items"]
        for obj in items:
            meta = obj["metadata"]
            if kind == "secrets" and obj.get("type") == "helm.sh/release.v1":
                continue
            if kind == "services" and (meta.get("namespace"), meta["name"]) == ("default", "kubernetes"):
                continue  # the API server's own Service: its targetPort is this cluster's port
            out["%s %s/%s" % (kind, meta.get("namespace", ""), meta["name"])] = _clean(obj, kind)
    return out


def differences(ref: dict, got: dict) -> list[str]:
    diff = ["missing: " + k for k in sorted(set(ref) - set(got))]
    diff += ["extra: " + k for k in sorted(set(got) - set(ref))]
    diff += ["differs: %s\n  want %s\n  got  %s" % (k, json.dumps(ref[k], sort_keys=True)[:600],
                                                    json.dumps(got[k], sort_keys=True)[:600])
             for k in sorted(set(ref) & set(got)) if ref[k] != got[k]]
    return diff
