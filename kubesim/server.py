"""HTTP layer (aiohttp): routing, content negotiation, request log, faults, watch streams."""
from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import discovery, protobuf, tables
from .api import Api
from .errors import ApiError, bad_request, gone, method_not_allowed, not_found
from .resources import Registry, ResourceType
from .selectors import matches_requirements, parse_field_selector, parse_label_selector
from .store import Store, Watcher, dumps

log = logging.getLogger("kubesim")

CONTROL = "/_kubesim"
REQUEST_LOG_LIMIT = 100_000  # oldest entries are dropped beyond this (long `make demo` sessions)
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


@dataclass
class Fault:
    verb: str | None = None
    resource: str | None = None
    status: int | None = None
    delay_s: float | None = None
    count: int = 1
    namespace: str | None = None
    name: str | None = None

    def matches(self, verb: str | None, resource: str | None, namespace: str | None, name: str | None) -> bool:
        if self.verb and self.verb != verb:
            return False
        if self.resource and self.resource not in (resource, (resource or "").split("/")[0]):
            return False
        if self.namespace and self.namespace != namespace:
            return False
        if self.name and self.name != name:
            return False
        return True


@dataclass
class Target:
    """What a resource URL addresses."""
    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    rt: ResourceType | None = None
    extra: list[str] = field(default_factory=list)
    watch: bool = False  # the deprecated /watch/ path prefix


_REASONS = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed", 409: "Conflict",
            410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}


def parse_target(path: str) -> Target | None:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    if parts[0] == "api" and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    legacy_watch = rest[0] == "watch" and len(rest) > 1
    if legacy_watch:
        rest = rest[1:]
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        t = Target(group, version, rest[2], namespace=rest[1])
        tail = rest[3:]
    else:
        t = Target(group, version, rest[0])
        tail = rest[1:]
    if tail:
        t.name = tail[0]
    if len(tail) > 1:
        t.subresource = tail[1]
        t.extra = tail[2:]
    t.watch = legacy_watch
    return t


class Server:
    def __init__(self, registry: Registry, store: Store, api: Api, kube_version: str) -> None:
        self.registry = registry
        self.store = store
        self.api = api
        self.kube_version = kube_version
        self.request_log: list[dict] = []
        self.faults: list[Fault] = []
        self.address = "127.0.0.1:0"
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.dispatch)

    # ------------------------------------------------------------------ plumbing
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(CONTROL):
            return await handler(request)
        entry = self._log_entry(request)
        fault = self._take_fault(entry)
        if fault is not None and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault is not None and fault.status:
            code = int(fault.status)
            err = ApiError(code, _REASONS.get(code, "Unknown"), f"kubesim injected fault ({code})")
            resp: web.StreamResponse = self._json(err.status(), code)
            entry["status"] = code
            self.request_log.append(entry)
            return resp
        self.request_log.append(entry)
        if len(self.request_log) > REQUEST_LOG_LIMIT:
            del self.request_log[: len(self.request_log) - REQUEST_LOG_LIMIT]
        request["log_entry"] = entry
        rv_before = self.store.rv
        try:
            resp = await handler(request)
        except ApiError as e:
            resp = self._json(e.status(), e.code)
        except web.HTTPException:
            raise
        except Exception as e:  # a bug in kubesim: answer like the API server would, keep serving
            log.exception("internal error on %s %s", request.method, request.path_qs)
            resp = self._json(ApiError(500, "InternalError", f"kubesim internal error: {e}").status(), 500)
        entry["status"] = resp.status
        if entry["verb"] in WRITE_VERBS:
            # whether this request changed stored state (a no-op apply/patch/update leaves it untouched)
            entry["changed"] = self.store.rv != rv_before
        return resp

    def _log_entry(self, request: web.Request) -> dict:
        t = parse_target(request.path)
        q = request.query
        verb = None
        if t is not None:
            m = request.method
            if m == "GET":
                verb = "watch" if t.watch or q.get("watch") in ("true", "1") else ("get" if t.name else "list")
            elif m == "POST":
                verb = "create"
            elif m == "PUT":
                verb = "update"
            elif m == "PATCH":
                verb = "patch"
            elif m == "DELETE":
                verb = "delete" if t.name else "deletecollection"
        resource = None
        if t is not None:
            resource = t.plural + (f"/{t.subresource}" if t.subresource else "")
        return {"method": request.method, "path": request.path_qs, "verb": verb, "resource": resource,
                "namespace": t.namespace if t else None, "name": t.name if t else None, "status": None,
                "dry_run": "All" in q.getall("dryRun", []), "user_agent": request.headers.get("User-Agent", ""),
                "field_manager": q.get("fieldManager"), "time": time.time()}

    def _take_fault(self, entry: dict) -> Fault | None:
        for f in self.faults:
            if f.count > 0 and f.matches(entry["verb"], entry["resource"], entry["namespace"], entry["name"]):
                f.count -= 1
                if f.count <= 0:
                    self.faults.remove(f)
                return f
        return None

    @staticmethod
    def _json(body: Any, status: int = 200, content_type: str = "application/json") -> web.Response:
        return web.Response(body=dumps(body).encode(), status=status, headers={"Content-Type": content_type})

    # ------------------------------------------------------------------ routing
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path.startswith(CONTROL):
            return await self.control(request, path)
        if path in ("/healthz", "/readyz", "/livez") or re.match(r"^/(healthz|readyz|livez)/", path):
            return web.Response(text="ok", content_type="text/plain")
        if path == "/version":
            return self._json(discovery.version_doc(self.kube_version))
        if path == "/openapi/v2":
            # An empty protobuf document: clients read it as "no schema" and skip client-side validation.
            return web.Response(body=b"", headers={"Content-Type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"})
        if path == "/openapi/v3":
            return self._json({"paths": {}})
        if path.startswith("/openapi/v3/"):
            return self._json({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": self.kube_version},
                               "paths": {}, "components": {"schemas": {}}})
        accept = request.headers.get("Accept", "")
        if path == "/api":
            agg = discovery.wants_aggregated(accept)
            if agg:
                return self._json(discovery.aggregated(self.registry, True, agg), content_type=agg)
            return self._json(discovery.api_versions(self.address))
        if path == "/apis":
            agg = discovery.wants_aggregated(accept)
            if agg:
                return self._json(discovery.aggregated(self.registry, False, agg), content_type=agg)
            return self._json(discovery.api_group_list(self.registry))
        parts = [p for p in path.split("/") if p]
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.resource_list(self.registry, "", parts[1])
            if doc is None:
                raise not_found("", "", path)
            return self._json(doc)
        if parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(self.registry, parts[1])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._json(doc)
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.resource_list(self.registry, parts[1], parts[2])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._json(doc)
        t = parse_target(path)
        if t is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        t.rt = self.registry.lookup(t.group, t.version, t.plural)
        if t.rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if t.namespace and not t.rt.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if t.subresource and t.subresource not in t.rt.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return await self.resource(request, t)

    # ------------------------------------------------------------------ control endpoints
    async def control(self, request: web.Request, path: str) -> web.Response:
        if path == f"{CONTROL}/requests":
            if request.method == "GET":
                return self._json(self.request_log)
            if request.method == "DELETE":
                self.request_log.clear()
                return self._json({"cleared": True})
        if path == f"{CONTROL}/faults":
            if request.method == "POST":
                spec = await request.json()
                self.faults.append(Fault(verb=spec.get("verb"), resource=spec.get("resource"),
                                         status=spec.get("status"), delay_s=spec.get("delay_s"),
                                         count=int(spec.get("count", 1)), namespace=spec.get("namespace"),
                                         name=spec.get("name")))
                return self._json({"faults": len(self.faults)})
            if request.method == "GET":
                return self._json([f.__dict__ for f in self.faults])
            if request.method == "DELETE":
                self.faults.clear()
                return self._json({"cleared": True})
        if path == f"{CONTROL}/state" and request.method == "GET":
            return self._json(self.store.dump())
        return self._json({"error": "unknown control endpoint"}, 404)

    # ------------------------------------------------------------------ resources
    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        ctype = request.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if not raw:
            return None
        if ctype == "application/vnd.kubernetes.protobuf":
            return protobuf.decode(raw)
        if ctype in ("application/yaml", "application/apply-patch+yaml"):
            import yaml
            return yaml.safe_load(raw)
        try:
            return json.loads(raw)
        except ValueError as e:
            raise bad_request(f"couldn't get version/kind; json parse error: {e}")

    async def resource(self, request: web.Request, t: Target) -> web.StreamResponse:
        rt = t.rt
        assert rt is not None
        q = request.query
        m = request.method
        dry_run = "All" in q.getall("dryRun", [])
        manager = q.get("fieldManager")
        ua = request.headers.get("User-Agent", "")
        default_manager = ua.split("/")[0] if ua else "unknown"
        sub = t.subresource
        if m == "GET" and (t.watch or (not t.name and q.get("watch") in ("true", "1"))):
            return await self.watch(request, t)
        if m == "GET" and not t.name:
            return self._list_response(request, t)
        if m == "GET" and sub == "log":
            self.api.get(rt, t.namespace, t.name)
            return web.Response(text="", content_type="text/plain")  # nothing runs, so nothing was logged
        if m == "GET":
            obj = self.api.get(rt, t.namespace, t.name)
            if sub == "scale":
                return self._json(self._scale(rt, obj))
            return self._object_response(request, t, obj)
        if m == "POST" and not t.name:
            body = await self._body(request)
            obj = self.api.create(rt, t.namespace, body, dry_run=dry_run, manager=manager or default_manager,
                                  version=t.version)
            return self._json(self.api.out(rt, obj, t.version), 201)
        if m == "POST" and sub == "eviction":
            body = await self._body(request) or {}
            opts = body.get("deleteOptions") or {}
            self.api.evict(t.namespace, t.name, dry_run=dry_run or "All" in (opts.get("dryRun") or []))
            return self._json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "code": 201}, 201)
        if m == "POST" and sub == "token":
            body = await self._body(request) or {}
            body.setdefault("status", {})["token"] = "kubesim-token." + base64.urlsafe_b64encode(
                f"{t.namespace}:{t.name}".encode()).decode().rstrip("=")
            body["status"]["expirationTimestamp"] = "2099-01-01T00:00:00Z"
            body.update({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1"})
            return self._json(body, 201)
        if m == "PUT" and t.name:
            body = await self._body(request)
            if sub == "scale":  # the body is an autoscaling/v1 Scale; only spec.replicas matters
                cur = copy.deepcopy(self.api.get(rt, t.namespace, t.name))
                cur.setdefault("spec", {})["replicas"] = ((body or {}).get("spec") or {}).get("replicas", 0)
                rv = ((body or {}).get("metadata") or {}).get("resourceVersion")
                if rv:
                    cur["metadata"]["resourceVersion"] = rv
                obj = self.api.update(rt, t.namespace, t.name, cur, dry_run=dry_run,
                                      manager=manager or default_manager, subresource="scale")
                return self._json(self._scale(rt, obj))
            obj = self.api.update(rt, t.namespace, t.name, body, dry_run=dry_run, manager=manager or default_manager,
                                  version=t.version, subresource=sub if sub in ("status",) else None)
            return self._json(self.api.out(rt, obj, t.version))
        if m == "PATCH" and t.name:
            raw = await request.read()
            ctype = request.headers.get("Content-Type", "")
            force = q.get("force") in ("true", "1")
            obj, created = self.api.patch(rt, t.namespace, t.name, ctype, raw, dry_run=dry_run, manager=manager,
                                          force=force, version=t.version, subresource=sub,
                                          default_manager=default_manager)
            if sub == "scale":
                return self._json(self._scale(rt, obj))
            return self._json(self.api.out(rt, obj, t.version), 201 if created else 200)
        if m == "DELETE" and t.name:
            opts = self._delete_options(q, await self._body(request))
            dry_run = dry_run or "All" in (opts.get("dryRun") or [])
            obj = self.api.delete(rt, t.namespace, t.name, opts, dry_run=dry_run)
            return self._json(self.api.out(rt, obj, t.version))
        if m == "DELETE":
            if "deletecollection" not in rt.verbs:
                raise method_not_allowed()
            opts = self._delete_options(q, await self._body(request))
            items = self.api.deletecollection(rt, t.namespace, q.get("labelSelector"), q.get("fieldSelector"), opts,
                                              dry_run=dry_run or "All" in (opts.get("dryRun") or []))
            return self._json({"kind": rt.kind + "List", "apiVersion": rt.api_version(t.version),
                               "metadata": {"resourceVersion": str(self.store.rv)},
                               "items": [self.api.out(rt, o, t.version) for o in items]})
        raise method_not_allowed()

    @staticmethod
    def _delete_options(q: Any, body: Any) -> dict:
        opts = dict(body) if isinstance(body, dict) else {}
        if q.get("propagationPolicy"):
            opts["propagationPolicy"] = q["propagationPolicy"]
        if q.get("orphanDependents"):
            opts["orphanDependents"] = q["orphanDependents"] == "true"
        if q.getall("dryRun", []):
            opts["dryRun"] = q.getall("dryRun")
        return opts

    def _scale(self, rt: ResourceType, obj: dict) -> dict:
        from .selectors import selector_to_string
        spec, st = obj.get("spec") or {}, obj.get("status") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: obj["metadata"].get(k) for k in ("name", "namespace", "uid", "resourceVersion",
                                                                 "creationTimestamp")},
                "spec": {"replicas": spec.get("replicas", 0)},
                "status": {"replicas": st.get("replicas", 0), "selector": selector_to_string(spec.get("selector"))}}

    def _object_response(self, request: web.Request, t: Target, obj: dict) -> web.Response:
        assert t.rt is not None
        out = self.api.out(t.rt, obj, t.version)
        if tables.wants_table(request.headers.get("Accept", "")):
            return self._json(tables.table(t.rt, t.version, [out], request.query.get("includeObject", "Metadata"),
                                           {"resourceVersion": obj["metadata"].get("resourceVersion", "")}))
        return self._json(out)

    def _list_response(self, request: web.Request, t: Target) -> web.Response:
        rt = t.rt
        assert rt is not None
        q = request.query
        items = self.api.list(rt, t.namespace, q.get("labelSelector"), q.get("fieldSelector"))
        list_rv = str(self.store.rv)
        meta: dict[str, Any] = {"resourceVersion": list_rv}
        cont = q.get("continue")
        if cont:
            try:
                token = json.loads(base64.urlsafe_b64decode(cont.encode() + b"=="))
                start = tuple(token["start"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                  "(version meta.k8s.io/v1)")
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
            meta["resourceVersion"] = str(token.get("rv", list_rv))
        limit = int(q.get("limit") or 0)
        if limit and len(items) > limit:
            last = items[limit - 1]
            rest = len(items) - limit
            items = items[:limit]
            token = {"rv": int(meta["resourceVersion"]),
                     "start": [last["metadata"].get("namespace", ""), last["metadata"]["name"]]}
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")
            meta["remainingItemCount"] = rest
        out = [self.api.out(rt, o, t.version) for o in items]
        if tables.wants_table(request.headers.get("Accept", "")):
            return self._json(tables.table(rt, t.version, out, q.get("includeObject", "Metadata"), meta))
        return self._json({"kind": rt.kind + "List", "apiVersion": rt.api_version(t.version), "metadata": meta,
                           "items": out})

    # ------------------------------------------------------------------ watch
    async def watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        rt = t.rt
        assert rt is not None
        q = request.query
        reqs = parse_label_selector(q.get("labelSelector"))
        fpred = parse_field_selector(q.get("fieldSelector"))
        as_table = tables.wants_table(request.headers.get("Accept", ""))
        include = q.get("includeObject", "Metadata")
        timeout = float(q.get("timeoutSeconds") or 1800)
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        send_initial = q.get("sendInitialEvents") == "true"
        ns = t.namespace if rt.namespaced else None

        def matches(obj: dict) -> bool:
            if t.name and obj["metadata"]["name"] != t.name:
                return False
            return matches_requirements((obj.get("metadata") or {}).get("labels"), reqs) and fpred(obj)

        watcher = Watcher(rt.key, ns, matches)
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                       "Cache-Control": "no-cache, private"})
        resp.enable_chunked_encoding()
        rv_param = q.get("resourceVersion") or ""
        backlog = None
        if rv_param not in ("", "0") and not send_initial:
            try:
                since = int(rv_param)
            except ValueError:
                raise bad_request(f"invalid resource version {rv_param!r}")
            backlog = self.store.events_since(rt.key, since)
            if backlog is None:
                await resp.prepare(request)
                err = gone(f"too old resource version: {since} ({self.store.history[0].rv - 1})")
                await resp.write((dumps({"type": "ERROR", "object": err.status()}) + "\n").encode())
                return resp
        self.store.watchers.add(watcher)
        seen: set[tuple[str, str]] = set()
        last_rv = 0

        def render(obj: dict) -> dict:
            out = self.api.out(rt, obj, t.version)
            if as_table:
                return tables.table(rt, t.version, [out], include,
                                    {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
            return out

        async def send(etype: str, obj: dict) -> None:
            await resp.write((dumps({"type": etype, "object": render(obj)}) + "\n").encode())

        try:
            await resp.prepare(request)
            if "log_entry" in request:
                request["log_entry"]["status"] = 200
            if backlog is None:
                last_rv = self.store.rv
                for obj in self.api.list(rt, ns):
                    if matches(obj):
                        seen.add((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
                        await send("ADDED", obj)
                if send_initial:
                    await resp.write((dumps({"type": "BOOKMARK", "object": {
                        "kind": rt.kind, "apiVersion": rt.api_version(t.version),
                        "metadata": {"resourceVersion": str(last_rv),
                                     "annotations": {"k8s.io/initial-events-end": "true"}}}}) + "\n").encode())
            else:
                pending = [e for e in backlog if ns is None or e.obj["metadata"].get("namespace", "") == ns]
                # `seen` approximates which matching objects existed at rv_param, so that replayed events
                # keep their types (MODIFIED stays MODIFIED) while selector transitions still map right
                first: dict[tuple[str, str], str] = {}
                for e in pending:
                    first.setdefault((e.obj["metadata"].get("namespace", ""), e.obj["metadata"]["name"]), e.type)
                for obj in self.api.list(rt, ns):
                    if matches(obj):
                        seen.add((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
                seen |= {(e.obj["metadata"].get("namespace", ""), e.obj["metadata"]["name"])
                         for e in pending if e.type == "DELETED" and matches(e.obj)}
                seen -= {k for k, typ in first.items() if typ == "ADDED"}
                for e in pending:
                    await self._emit(send, e, matches, seen)
                    last_rv = max(last_rv, e.rv)
                if not pending:
                    last_rv = int(rv_param)
                    for obj in self.api.list(rt, ns):
                        if matches(obj) and int(obj["metadata"]["resourceVersion"]) <= last_rv:
                            seen.add((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
            deadline = time.monotonic() + timeout
            next_bookmark = time.monotonic() + 10
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    ev = await asyncio.wait_for(watcher.queue.get(), timeout=min(remaining, 1.0))
                except asyncio.TimeoutError:
                    if bookmarks and time.monotonic() >= next_bookmark:
                        next_bookmark = time.monotonic() + 10
                        await resp.write((dumps({"type": "BOOKMARK", "object": {
                            "kind": rt.kind, "apiVersion": rt.api_version(t.version),
                            "metadata": {"resourceVersion": str(self.store.rv)}}}) + "\n").encode())
                    if request.transport is None or request.transport.is_closing():
                        break
                    continue
                if ev.rv <= last_rv:
                    continue
                last_rv = ev.rv
                await self._emit(send, ev, matches, seen)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.watchers.discard(watcher)
        try:
            await resp.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    @staticmethod
    async def _emit(send: Any, ev: Any, matches: Any, seen: set) -> None:
        key = (ev.obj["metadata"].get("namespace", ""), ev.obj["metadata"]["name"])
        if ev.type == "DELETED":
            if key in seen or matches(ev.obj):
                seen.discard(key)
                await send("DELETED", ev.obj)
            return
        if matches(ev.obj):
            etype = "MODIFIED" if key in seen else "ADDED"
            seen.add(key)
            await send(etype, ev.obj)
        elif key in seen:
            seen.discard(key)
            await send("DELETED", ev.obj)
