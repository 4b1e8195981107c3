"""The table of built-in kinds kubesim serves, and the registry CRDs extend."""
from __future__ import annotations

from dataclasses import dataclass, field

VERBS_ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass
class ResourceType:
    group: str           # "" for the core group
    versions: list[str]  # served versions, preferred first
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: list[str] = field(default_factory=list)
    subresources: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=lambda: list(VERBS_ALL))
    categories: list[str] = field(default_factory=list)
    crd: bool = False
    # For CRDs: name of the status subresource field, printer columns per version
    printer_columns: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    def api_version(self, version: str | None = None) -> str:
        v = version or self.versions[0]
        return f"{self.group}/{v}" if self.group else v


def _r(group: str, versions: list[str] | str, plural: str, kind: str, namespaced: bool,
       short: list[str] | None = None, sub: list[str] | None = None, verbs: list[str] | None = None,
       categories: list[str] | None = None) -> ResourceType:
    if isinstance(versions, str):
        versions = [versions]
    return ResourceType(group, versions, plural, kind.lower(), kind, namespaced, short or [], sub or [],
                        verbs or list(VERBS_ALL), categories or [])


ALL = ["all"]
BUILTINS: list[ResourceType] = [
    _r("", "v1", "namespaces", "Namespace", False, ["ns"], ["status", "finalize"],
       ["create", "delete", "get", "list", "patch", "update", "watch"]),
    _r("", "v1", "nodes", "Node", False, ["no"], ["status"]),
    _r("", "v1", "pods", "Pod", True, ["po"], ["status", "eviction", "log", "binding"], categories=ALL),
    _r("", "v1", "services", "Service", True, ["svc"], ["status"],
       ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], ALL),
    _r("", "v1", "endpoints", "Endpoints", True, ["ep"]),
    _r("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    _r("", "v1", "secrets", "Secret", True),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"], ["token"]),
    _r("", "v1", "events", "Event", True, ["ev"]),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], ["status"]),
    _r("", "v1", "persistentvolumes", "PersistentVolume", False, ["pv"], ["status"]),
    _r("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"], ["status"]),
    _r("", "v1", "limitranges", "LimitRange", True, ["limits"]),
    _r("", "v1", "replicationcontrollers", "ReplicationController", True, ["rc"], ["status", "scale"],
       categories=ALL),
    _r("apps", "v1", "deployments", "Deployment", True, ["deploy"], ["status", "scale"], categories=ALL),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], ["status", "scale"], categories=ALL),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], ["status"], categories=ALL),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], ["status", "scale"], categories=ALL),
    _r("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    _r("batch", "v1", "jobs", "Job", True, [], ["status"], categories=ALL),
    _r("batch", "v1", "cronjobs", "CronJob", True, ["cj"], ["status"], categories=ALL),
    _r("autoscaling", ["v2", "v1"], "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"],
       ["status"], categories=ALL),
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], ["status"]),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _r("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
       "MutatingWebhookConfiguration", False),
    _r("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
       "ValidatingWebhookConfiguration", False),
    _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
       ["crd", "crds"], ["status"]),
    _r("networking.k8s.io", "v1", "ingresses", "Ingress", True, ["ing"], ["status"]),
    _r("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _r("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"]),
    _r("coordination.k8s.io", "v1", "leases", "Lease", True),
    _r("events.k8s.io", "v1", "events", "Event", True, ["ev"]),
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ["sc"]),
    _r("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    _r("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ["pc"]),
    _r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
       verbs=["create"]),
    _r("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
       verbs=["create"]),
    _r("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, verbs=["create"]),
]

# Resources whose create is answered without storing anything (reviews).
VIRTUAL = {("authorization.k8s.io", "selfsubjectaccessreviews"), ("authorization.k8s.io", "selfsubjectrulesreviews"),
           ("authentication.k8s.io", "selfsubjectreviews")}

# Groups whose preferred order in /apis mirrors a real server.
GROUP_ORDER = ["", "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
               "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io",
               "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
               "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
               "discovery.k8s.io", "flowcontrol.apiserver.k8s.io"]


class Registry:
    """Resolves (group, version, plural) to a ResourceType; CRDs add and remove entries."""

    def __init__(self) -> None:
        self.types: dict[tuple[str, str], ResourceType] = {}
        for rt in BUILTINS:
            self.types[rt.key] = rt

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        rt = self.types.get((group, plural))
        if rt and version in rt.versions:
            return rt
        return None

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        for rt in self.types.values():
            if rt.group == group and rt.kind == kind:
                return rt
        return None

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions (preferred first), builtins in real-server order, CRDs after."""
        out: dict[str, list[str]] = {}
        for rt in self.types.values():
            vs = out.setdefault(rt.group, [])
            for v in rt.versions:
                if v not in vs:
                    vs.append(v)
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.types.values() if rt.group == group and version in rt.versions]

    def register_crd(self, crd: dict) -> ResourceType | None:
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        served = [v for v in spec.get("versions", []) if v.get("served", True)]
        if not served or not names.get("plural"):
            return None
        # Preferred version: the storage version first, like kube-apiserver's version priority (roughly)
        served.sort(key=lambda v: (not v.get("storage", False)))
        versions = [v["name"] for v in served]
        versions = sorted(versions, key=_version_priority)
        subs = []
        cols: dict[str, list[dict]] = {}
        for v in served:
            if (v.get("subresources") or {}).get("status") is not None:
                subs.append("status")
            if (v.get("subresources") or {}).get("scale") is not None:
                subs.append("scale")
            cols[v["name"]] = v.get("additionalPrinterColumns") or []
        rt = ResourceType(
            group=spec.get("group", ""), versions=versions, plural=names["plural"],
            singular=names.get("singular") or names.get("kind", "").lower(), kind=names.get("kind", ""),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced", short_names=names.get("shortNames") or [],
            subresources=sorted(set(subs)), categories=names.get("categories") or [], crd=True,
            printer_columns=cols)
        self.types[rt.key] = rt
        return rt

    def unregister_crd(self, crd: dict) -> None:
        spec = crd.get("spec", {})
        key = (spec.get("group", ""), spec.get("names", {}).get("plural", ""))
        rt = self.types.get(key)
        if rt and rt.crd:
            del self.types[key]


def _version_priority(v: str) -> tuple:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first, then non-matching names."""
    import re
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
    if not m:
        return (3, 0, 0, v)
    major = int(m.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, v)
