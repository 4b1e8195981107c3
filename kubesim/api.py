"""The API semantics behind the HTTP layer: create, update, patch, apply, delete, with admission."""
from __future__ import annotations

import copy
import json
import random
from typing import Any, Callable

import yaml

from . import admission, patch as patches, ssa
from .errors import ApiError, already_exists, bad_request, conflict, invalid, not_found
from .objects import new_uid, now, random_suffix
from .resources import VIRTUAL, Registry, ResourceType
from .selectors import matches_requirements, parse_field_selector, parse_label_selector
from .store import Store

# (operation, resource type, new object, old object or None) -> None; may mutate the object or raise ApiError
AdmissionHook = Callable[[str, ResourceType, dict, "dict | None"], None]

_SERVER_META = ("uid", "creationTimestamp", "generation", "resourceVersion", "selfLink", "deletionTimestamp",
                "deletionGracePeriodSeconds")


def _spec_part(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _sans_volatile(obj: dict) -> dict:
    o = {k: v for k, v in obj.items() if k not in ("apiVersion",)}
    o["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion",
                                                                                     "managedFields")}
    return o


class Api:
    def __init__(self, registry: Registry, store: Store) -> None:
        self.registry = registry
        self.store = store
        self.admission: list[AdmissionHook] = []
        self._rand = random.Random(20241)

    # ------------------------------------------------------------------ helpers
    def out(self, rt: ResourceType, obj: dict, version: str | None = None) -> dict:
        o = copy.deepcopy(obj)
        if version:
            o["apiVersion"] = rt.api_version(version)
        return o

    def namespace_exists(self, ns: str) -> dict | None:
        return self.store.get(("", "namespaces"), None, ns)

    def require_namespace(self, rt: ResourceType, ns: str | None, creating: bool = False) -> None:
        if not rt.namespaced or not ns:
            return
        nsobj = self.namespace_exists(ns)
        if nsobj is None:
            raise not_found("", "namespaces", ns)
        if creating and (nsobj.get("metadata") or {}).get("deletionTimestamp"):
            raise ApiError(403, "Forbidden", f"{rt.plural} \"\" is forbidden: unable to create new content in "
                                             f"namespace {ns} because it is being terminated",
                           {"group": rt.group, "kind": rt.plural,
                            "causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                        "message": f"namespace {ns} is being terminated"}]})

    def get(self, rt: ResourceType, ns: str | None, name: str) -> dict:
        obj = self.store.get(rt.key, ns if rt.namespaced else None, name)
        if obj is None:
            raise not_found(rt.group, rt.plural, name)
        return obj

    def list(self, rt: ResourceType, ns: str | None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        reqs = parse_label_selector(label_selector)
        fpred = parse_field_selector(field_selector)
        return [o for o in self.store.list(rt.key, ns if rt.namespaced else None)
                if matches_requirements((o.get("metadata") or {}).get("labels"), reqs) and fpred(o)]

    # ------------------------------------------------------------------ allocation
    def _services(self) -> list[dict]:
        return self.store.list(("", "services"))

    def allocate_cluster_ip(self) -> str:
        used = {(s.get("spec") or {}).get("clusterIP") for s in self._services()}
        net = admission.SERVICE_CIDR
        for _ in range(10000):
            ip = str(net[self._rand.randrange(16, 65000)])
            if ip not in used:
                return ip
        raise ApiError(500, "InternalError", "no cluster IPs left")

    def node_port_in_use(self, port: int, svc: dict) -> bool:
        me = (svc["metadata"].get("namespace"), svc["metadata"].get("name"))
        for s in self._services():
            if (s["metadata"].get("namespace"), s["metadata"]["name"]) == me:
                continue
            if any(p.get("nodePort") == port for p in (s.get("spec") or {}).get("ports") or []):
                return True
        return False

    def cluster_ip_in_use(self, ip: str, svc: dict) -> bool:
        me = (svc["metadata"].get("namespace"), svc["metadata"].get("name"))
        return any((s.get("spec") or {}).get("clusterIP") == ip and
                   (s["metadata"].get("namespace"), s["metadata"]["name"]) != me for s in self._services())

    def allocate_node_port(self, exclude_obj: dict) -> int:
        taken = {p.get("nodePort") for s in self._services() for p in (s.get("spec") or {}).get("ports") or []}
        taken |= {p.get("nodePort") for p in (exclude_obj.get("spec") or {}).get("ports") or []}
        lo, hi = admission.NODE_PORT_RANGE
        for _ in range(10000):
            port = self._rand.randint(lo, hi)
            if port not in taken:
                return port
        raise ApiError(500, "InternalError", "no node ports left")

    # ------------------------------------------------------------------ admission
    def _prepare(self, op: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        admission.apply_defaults(self, rt.plural, rt.group, obj, old)
        admission.validate_meta(self, rt.group, rt.plural, rt.kind, obj)
        admission.validate_required(rt.group, rt.plural, rt.kind, obj)
        if old is not None:
            admission.check_immutable(rt.group, rt.plural, rt.kind, old, obj)
        if rt.key == ("", "services"):
            admission.validate_service(self, obj)
        for hook in self.admission:
            hook(op, rt, obj, old)

    def _check_identity(self, rt: ResourceType, body: Any, ns: str | None, name: str | None) -> dict:
        if not isinstance(body, dict):
            raise bad_request("the body of the request was in an unknown format")
        kind = body.get("kind")
        if kind and kind != rt.kind:
            raise bad_request(f"the API version in the data ({body.get('apiVersion')}) does not match the expected "
                              f"API version ({rt.api_version()})" if kind is None else
                              f"{kind} in version \"{body.get('apiVersion', '')}\" cannot be handled as a "
                              f"{rt.kind}: no kind \"{kind}\" is registered")
        meta = body.setdefault("metadata", {}) if isinstance(body.get("metadata"), dict) or \
            body.get("metadata") is None else None
        if meta is None:
            raise bad_request("metadata must be an object")
        if rt.namespaced:
            if meta.get("namespace") and ns and meta["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on "
                                  "the request")
            if ns:
                meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") and meta["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                              % (meta["name"], name))
        if name is not None and not meta.get("name"):
            meta["name"] = name
        return body

    # ------------------------------------------------------------------ create
    def create(self, rt: ResourceType, ns: str | None, body: Any, *, dry_run: bool = False,
               manager: str = "kubesim", version: str | None = None, internal: bool = False) -> dict:
        body = copy.deepcopy(body)
        body = self._check_identity(rt, body, ns, None)
        if rt.key in VIRTUAL:
            return self._virtual(rt, body)
        meta = body["metadata"]
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + random_suffix()
            else:
                raise invalid(rt.group, rt.kind, "", [("metadata.name",
                                                       "Required value: name or generateName is required")])
        ns = meta.get("namespace") if rt.namespaced else None
        if rt.namespaced and not ns:
            raise bad_request("the server could not find the requested resource (namespace required)")
        self.require_namespace(rt, ns, creating=True)
        if self.store.get(rt.key, ns, meta["name"]) is not None:
            raise already_exists(rt.group, rt.plural, meta["name"])
        for k in _SERVER_META:
            meta.pop(k, None)
        meta.pop("managedFields", None)
        body["apiVersion"] = rt.api_version(version)
        body["kind"] = rt.kind
        if "status" in rt.subresources and rt.key not in (("", "nodes"),):
            body.pop("status", None)
        self._prepare("CREATE", rt, body, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now()
        if _spec_part(body) and rt.key not in (("", "configmaps"), ("", "secrets"), ("", "serviceaccounts")):
            meta["generation"] = 1
        if not internal:
            ssa.track_update(None, body, manager, body["apiVersion"], meta["creationTimestamp"])
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self._crd_status(body)
        if dry_run:
            return body
        stored = self.store.put(rt.key, body, "ADDED")
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.registry.register_crd(stored)
        return copy.deepcopy(stored)

    def _virtual(self, rt: ResourceType, body: dict) -> dict:
        if rt.plural == "selfsubjectaccessreviews":
            body["status"] = {"allowed": True, "reason": "kubesim allows everything"}
        elif rt.plural == "selfsubjectrulesreviews":
            body["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                              "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
        else:
            body["status"] = {"userInfo": {"username": "kubesim-admin", "groups": ["system:masters",
                                                                                 "system:authenticated"]}}
        body["apiVersion"] = rt.api_version()
        body["kind"] = rt.kind
        return body

    def _crd_status(self, crd: dict) -> None:
        names = (crd.get("spec") or {}).get("names") or {}
        accepted = dict(names)
        accepted.setdefault("singular", names.get("kind", "").lower())
        accepted.setdefault("listKind", names.get("kind", "") + "List")
        t = now()
        crd["status"] = {
            "acceptedNames": accepted,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": t},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": t}],
            "storedVersions": [v["name"] for v in (crd.get("spec") or {}).get("versions", []) if v.get("storage")]}

    # ------------------------------------------------------------------ update
    def update(self, rt: ResourceType, ns: str | None, name: str, body: Any, *, dry_run: bool = False,
               manager: str = "kubesim", version: str | None = None, subresource: str | None = None,
               managed_override: list | None = None, internal: bool = False) -> dict:
        body = copy.deepcopy(body)
        body = self._check_identity(rt, body, ns, name)
        ns = ns if rt.namespaced else None
        self.require_namespace(rt, ns)
        old = self.get(rt, ns, name)
        rv = body["metadata"].get("resourceVersion")
        if rv and rv != old["metadata"].get("resourceVersion"):
            raise conflict(rt.group, rt.plural, name,
                           "the object has been modified; please apply your changes to the latest version and "
                           "try again")
        if body["metadata"].get("uid") and body["metadata"]["uid"] != old["metadata"].get("uid"):
            raise conflict(rt.group, rt.plural, name, "Precondition failed: UID in precondition does not match")
        sent_managed = body["metadata"].get("managedFields")
        if managed_override is None and sent_managed and sent_managed != old["metadata"].get("managedFields"):
            # clients may rewrite ownership explicitly (kubectl's client-side -> server-side apply migration);
            # [{}] is the documented way to clear it
            managed_override = [] if sent_managed == [{}] else sent_managed
        new = self._merge_server_fields(rt, old, body, subresource)
        new["apiVersion"] = old.get("apiVersion") if version is None else rt.api_version(version)
        new["kind"] = rt.kind
        if subresource != "status":
            self._prepare("UPDATE", rt, new, old)
        if _spec_part(new) != _spec_part(old) and "generation" in old["metadata"]:
            new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions") and subresource != "status":
            self._crd_status(new)
            new["status"]["conditions"] = old.get("status", {}).get("conditions", new["status"]["conditions"])
        if _sans_volatile(new) == _sans_volatile(old) and managed_override is None:
            return copy.deepcopy(old)
        if managed_override is not None:
            new["metadata"]["managedFields"] = managed_override
            if not managed_override:
                new["metadata"].pop("managedFields")
        elif not internal:
            ssa.track_update(old, new, manager, new["apiVersion"], now(), subresource)
        if _sans_volatile(new) == _sans_volatile(old) and \
                new["metadata"].get("managedFields") == old["metadata"].get("managedFields"):
            return copy.deepcopy(old)
        if dry_run:
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers") and \
                rt.key != ("", "namespaces"):
            return self._remove(rt, ns, name)
        stored = self.store.put(rt.key, new, "MODIFIED")
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.registry.register_crd(stored)
        return copy.deepcopy(stored)

    def _merge_server_fields(self, rt: ResourceType, old: dict, body: dict, subresource: str | None) -> dict:
        if subresource == "status":
            new = copy.deepcopy(old)
            new["status"] = copy.deepcopy(body.get("status"))
            if new["status"] is None:
                new.pop("status")
            return new
        if subresource == "scale":
            new = copy.deepcopy(old)
            new.setdefault("spec", {})["replicas"] = (body.get("spec") or {}).get("replicas", 0)
            return new
        new = body
        meta = new["metadata"]
        ometa = old["metadata"]
        for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if k in ometa:
                meta[k] = ometa[k]
            else:
                meta.pop(k, None)
        meta["resourceVersion"] = ometa["resourceVersion"]
        meta["managedFields"] = copy.deepcopy(ometa.get("managedFields") or [])
        if not meta["managedFields"]:
            meta.pop("managedFields")
        if "status" in rt.subresources or rt.key in (("", "namespaces"),):
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        return new

    # ------------------------------------------------------------------ patch / apply
    def patch(self, rt: ResourceType, ns: str | None, name: str, content_type: str, raw: bytes, *,
              dry_run: bool = False, manager: str | None = None, force: bool = False, version: str | None = None,
              subresource: str | None = None, default_manager: str = "kubesim") -> tuple[dict, bool]:
        """Returns (object, created)."""
        ctype = content_type.split(";")[0].strip()
        ns = ns if rt.namespaced else None
        if ctype == "application/apply-patch+yaml" or ctype == "application/apply-patch+cbor":
            return self.apply(rt, ns, name, raw, dry_run=dry_run, manager=manager, force=force, version=version,
                              subresource=subresource)
        try:
            body = json.loads(raw or b"null")
        except ValueError as e:
            raise bad_request(f"error decoding patch: {e}")
        self.require_namespace(rt, ns)
        old = self.get(rt, ns, name)
        if ctype == "application/json-patch+json":
            new = patches.json_patch(old, body)
        elif ctype == "application/merge-patch+json":
            if not isinstance(body, dict):
                raise bad_request("merge patch must be a JSON object")
            new = patches.merge_patch(old, body)
        elif ctype == "application/strategic-merge-patch+json":
            if rt.crd:
                raise ApiError(415, "UnsupportedMediaType",
                               f"the body of the request was in an unknown format - accepted media types include: "
                               f"application/json-patch+json, application/merge-patch+json, "
                               f"application/apply-patch+yaml")
            if not isinstance(body, dict):
                raise bad_request("strategic merge patch must be a JSON object")
            new = patches.strategic_merge(old, body)
        else:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                                                        f"accepted media types include: application/json-patch+json, "
                                                        f"application/merge-patch+json, "
                                                        f"application/apply-patch+yaml, "
                                                        f"application/strategic-merge-patch+json")
        if not isinstance(new, dict):
            raise bad_request("patch did not produce an object")
        new.setdefault("metadata", {})
        if new["metadata"].get("resourceVersion") is None:
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if subresource == "status":
            out = self.update(rt, ns, name, new, dry_run=dry_run, manager=manager or default_manager,
                              version=version, subresource="status")
        else:
            out = self.update(rt, ns, name, new, dry_run=dry_run, manager=manager or default_manager,
                              version=version, subresource=subresource if subresource == "scale" else None)
        return out, False

    def apply(self, rt: ResourceType, ns: str | None, name: str, raw: bytes, *, dry_run: bool, manager: str | None,
              force: bool, version: str | None, subresource: str | None) -> tuple[dict, bool]:
        if not manager:
            raise bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be specified")
        try:
            try:
                applied = json.loads(raw)
            except ValueError:
                applied = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise bad_request(f"error decoding YAML: {e}")
        if not isinstance(applied, dict):
            raise bad_request("apply patch must be an object")
        if applied.get("kind") != rt.kind:
            raise bad_request(f"apply patch kind {applied.get('kind')!r} does not match the resource {rt.kind!r}")
        if not applied.get("apiVersion"):
            raise bad_request("invalid object type: /, Kind=")
        meta = applied.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        meta["name"] = name
        if meta.get("managedFields"):
            raise bad_request("metadata.managedFields must be nil")
        self.require_namespace(rt, ns)
        old = self.store.get(rt.key, ns, name)
        api_version = rt.api_version(version)
        if old is None:
            body = copy.deepcopy(applied)
            created = self.create(rt, ns, body, dry_run=True, manager=manager, version=version, internal=True)
            created["metadata"]["managedFields"] = [{
                "manager": manager, "operation": "Apply", "apiVersion": api_version,
                "time": created["metadata"]["creationTimestamp"], "fieldsType": "FieldsV1",
                "fieldsV1": ssa.to_fields_v1(ssa.field_paths(applied))}]
            if dry_run:
                return created, True
            stored = self.store.put(rt.key, created, "ADDED")
            if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
                self.registry.register_crd(stored)
            return copy.deepcopy(stored), True
        new = ssa.server_side_apply(old, applied, manager, force, api_version, now(), rt.group, rt.plural)
        if new is old:
            return copy.deepcopy(old), False
        managed = new["metadata"].get("managedFields")
        out = self.update(rt, ns, name, new, dry_run=dry_run, manager=manager, version=None,
                          subresource=subresource, managed_override=managed)
        return out, False

    # ------------------------------------------------------------------ delete
    def delete(self, rt: ResourceType, ns: str | None, name: str, opts: dict | None = None, *,
               dry_run: bool = False) -> dict:
        opts = opts or {}
        ns = ns if rt.namespaced else None
        self.require_namespace(rt, ns)
        obj = self.get(rt, ns, name)
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != obj["metadata"].get("uid"):
            raise conflict(rt.group, rt.plural, name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                                                      f"UID in object meta: {obj['metadata'].get('uid')}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != obj["metadata"].get("resourceVersion"):
            raise conflict(rt.group, rt.plural, name, "Precondition failed: ResourceVersion in precondition: "
                                                      f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                                      f"{obj['metadata'].get('resourceVersion')}")
        policy = opts.get("propagationPolicy")
        if policy is None and opts.get("orphanDependents") is True:
            policy = "Orphan"
        if dry_run:
            return copy.deepcopy(obj)
        if rt.key == ("", "namespaces"):
            if name in ("default", "kube-system", "kube-public"):
                raise ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be '
                                                 f"deleted", {"name": name, "kind": "namespaces"})
            if obj["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(obj)
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating"}
            return copy.deepcopy(self.store.put(rt.key, new, "MODIFIED"))
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers and not finalizers:
            self._orphan(obj)
        if finalizers:
            if obj["metadata"].get("deletionTimestamp") and finalizers == obj["metadata"].get("finalizers"):
                return copy.deepcopy(obj)
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = new["metadata"].get("deletionTimestamp") or now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["metadata"]["finalizers"] = finalizers
            return copy.deepcopy(self.store.put(rt.key, new, "MODIFIED"))
        return self._remove(rt, ns, name)

    def _remove(self, rt: ResourceType, ns: str | None, name: str) -> dict:
        gone = self.store.remove(rt.key, ns, name)
        if gone is None:
            raise not_found(rt.group, rt.plural, name)
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            spec = gone.get("spec") or {}
            self.store.drop_kind((spec.get("group", ""), (spec.get("names") or {}).get("plural", "")))
            self.registry.unregister_crd(gone)
        return gone

    def _orphan(self, owner: dict) -> None:
        uid = owner["metadata"].get("uid")
        for key, obj in list(self.store.all_items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(r.get("uid") == uid for r in refs):
                new = copy.deepcopy(obj)
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                self.store.put(key, new, "MODIFIED")

    def deletecollection(self, rt: ResourceType, ns: str | None, label_selector: str | None,
                         field_selector: str | None, opts: dict | None = None, *, dry_run: bool = False) -> list[dict]:
        out = []
        for obj in self.list(rt, ns, label_selector, field_selector):
            out.append(self.delete(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"], opts,
                                   dry_run=dry_run))
        return out

    def evict(self, ns: str | None, name: str, *, dry_run: bool = False) -> None:
        """The pods/eviction subresource: a delete that honours PodDisruptionBudgets (as `kubectl drain` uses)."""
        from .selectors import match_label_selector
        pods = self.registry.types[("", "pods")]
        pod = self.get(pods, ns, name)
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (pod.get("status") or {}).get("conditions") or [])
        for pdb in self.store.list(("policy", "poddisruptionbudgets"), ns):
            if not match_label_selector((pdb.get("spec") or {}).get("selector"),
                                        (pod.get("metadata") or {}).get("labels")):
                continue
            st = pdb.get("status") or {}
            if ready and int(st.get("disruptionsAllowed", 0)) <= 0:
                raise ApiError(429, "TooManyRequests",
                               "Cannot evict pod as it would violate the pod's disruption budget.",
                               {"causes": [{"reason": "DisruptionBudget", "message":
                                            f"The disruption budget {pdb['metadata']['name']} needs "
                                            f"{st.get('desiredHealthy', 0)} healthy pods and has "
                                            f"{st.get('currentHealthy', 0)} currently"}]})
        if not dry_run:
            self.delete(pods, ns, name, {})

    # ------------------------------------------------------------------ controller helpers
    def write_status(self, rt: ResourceType, obj: dict, status: dict) -> dict | None:
        """Set status on a stored object if it differs; controllers use this (no managedFields churn)."""
        cur = self.store.get(rt.key, obj["metadata"].get("namespace") if rt.namespaced else None,
                             obj["metadata"]["name"])
        if cur is None or cur.get("status") == status:
            return None
        new = copy.deepcopy(cur)
        new["status"] = status
        return self.store.put(rt.key, new, "MODIFIED")

    def write_object(self, rt: ResourceType, new: dict) -> dict | None:
        """Store a controller-modified object if it differs from the stored one."""
        cur = self.store.get(rt.key, new["metadata"].get("namespace") if rt.namespaced else None,
                             new["metadata"]["name"])
        if cur is None:
            return None
        if _sans_volatile(cur) == _sans_volatile(new):
            return None
        new = copy.deepcopy(new)
        if _spec_part(new) != _spec_part(cur) and "generation" in cur["metadata"]:
            new["metadata"]["generation"] = cur["metadata"]["generation"] + 1
        return self.store.put(rt.key, new, "MODIFIED")

