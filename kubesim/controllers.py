"""Simulated controllers (deployment, replicaset, daemonset, statefulset, job, endpoints, GC, namespace,
scheduler, kubelet, PDB/HPA status). They run in the server's event loop after every write until nothing
changes, so state settles immediately and deterministically."""
from __future__ import annotations

import asyncio
import copy
import json
import logging
import math
from typing import Any

from . import scheduler
from .api import Api
from .errors import ApiError
from .injection import IstiodWebhookPatcher
from .objects import condition, controller_of, labels, name_of, now, ns_of, owner_ref, set_condition, short_hash
from .resources import ResourceType
from .selectors import match_label_selector
from .store import Event

log = logging.getLogger("kubesim.controllers")
CONTROLLER = "kube-controller-manager"
MAX_ROUNDS = 40


def _hash_template(tmpl: dict) -> str:
    t = copy.deepcopy(tmpl)
    (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return short_hash(json.dumps(t, sort_keys=True), 10)


def _strip_hash(tmpl: dict) -> dict:
    t = copy.deepcopy(tmpl)
    lbl = (t.get("metadata") or {}).get("labels")
    if lbl:
        lbl.pop("pod-template-hash", None)
        lbl.pop("controller-revision-hash", None)
    return t


def _pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _active(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _int_or_percent(v: Any, total: int, round_up: bool) -> int:
    if v is None:
        return 0
    if isinstance(v, str) and v.endswith("%"):
        val = total * int(v[:-1]) / 100
        return math.ceil(val) if round_up else math.floor(val)
    return int(v)


class Controllers:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.reg = api.registry
        self._task: asyncio.Task | None = None
        self._dirty = False
        self._ip_counter = 10
        self.istiod = IstiodWebhookPatcher(api)
        self.store.listeners.append(self._on_event)

    def rt(self, group: str, plural: str) -> ResourceType:
        return self.reg.types[(group, plural)]

    # ------------------------------------------------------------------ loop
    def _on_event(self, ev: Event) -> None:
        self._dirty = True
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._task = loop.create_task(self._run())

    def kick(self) -> None:
        self._on_event(Event(0, ("", ""), "SYNC", {}))

    async def _run(self) -> None:
        await asyncio.sleep(0)
        rounds = 0
        while self._dirty:
            self._dirty = False
            before = self.store.rv
            try:
                self.reconcile()
            except Exception:  # a controller bug must not take the API down
                log.exception("controller pass failed")
                return
            rounds += 1
            if self.store.rv == before:
                self._dirty = False
                break
            if rounds >= 20 * MAX_ROUNDS:  # something keeps rewriting itself: stop until the next client write
                log.error("controllers did not settle after %d passes; pausing until the next write", rounds)
                self._dirty = False
                break
            if rounds % MAX_ROUNDS == 0:
                await asyncio.sleep(0.05)
            else:
                await asyncio.sleep(0)

    def reconcile(self) -> None:
        self.namespaces()
        self.garbage_collect()
        self.nodes()
        self.deployments()
        self.replicasets()
        self.daemonsets()
        self.statefulsets()
        self.jobs()
        self.schedule()
        self.kubelet()
        self.services()
        self.pdbs()
        self.hpas()
        self.istiod.reconcile()

    # ------------------------------------------------------------------ helpers
    def _list(self, group: str, plural: str, ns: str | None = None) -> list[dict]:
        return self.store.list((group, plural), ns)

    def _owned(self, owner: dict, group: str, plural: str) -> list[dict]:
        uid = owner["metadata"]["uid"]
        return [o for o in self._list(group, plural, ns_of(owner))
                if (controller_of(o) or {}).get("uid") == uid]

    def _create(self, group: str, plural: str, ns: str, obj: dict) -> dict:
        return self.api.create(self.rt(group, plural), ns, obj, manager=CONTROLLER)

    def _delete(self, group: str, plural: str, obj: dict, policy: str = "Background") -> None:
        try:
            self.api.delete(self.rt(group, plural), ns_of(obj) or None, name_of(obj), {"propagationPolicy": policy})
        except ApiError:
            pass

    def _event(self, involved: dict, reason: str, message: str, etype: str = "Normal",
               component: str = CONTROLLER) -> None:
        ns = ns_of(involved) or "default"
        ts = now()
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": f"{name_of(involved)}.{short_hash(reason + message + ts, 16)}", "namespace": ns},
              "involvedObject": {"apiVersion": involved.get("apiVersion"), "kind": involved.get("kind"),
                                 "name": name_of(involved), "namespace": ns_of(involved),
                                 "uid": involved["metadata"].get("uid"),
                                 "resourceVersion": involved["metadata"].get("resourceVersion")},
              "reason": reason, "message": message, "type": etype, "count": 1, "firstTimestamp": ts,
              "lastTimestamp": ts, "source": {"component": component}, "reportingComponent": component}
        try:
            self._create("", "events", ns, ev)
        except ApiError:
            pass

    # ------------------------------------------------------------------ namespaces & GC
    def namespaces(self) -> None:
        for ns in self._list("", "namespaces"):
            name = name_of(ns)
            if ns["metadata"].get("deletionTimestamp"):
                for rt in list(self.reg.types.values()):
                    if not rt.namespaced:
                        continue
                    for obj in self.store.list(rt.key, name):
                        try:
                            self.api.delete(rt, name, name_of(obj), {"propagationPolicy": "Background"})
                        except ApiError:
                            pass
                        cur = self.store.get(rt.key, name, name_of(obj))
                        if cur is not None and cur["metadata"].get("deletionTimestamp"):
                            # nothing runs the finalizers' owners here: drop the object so the namespace can go
                            self.store.remove(rt.key, name, name_of(obj))
                if not any(self.store.list(rt.key, name) for rt in self.reg.types.values() if rt.namespaced):
                    self.store.remove(("", "namespaces"), None, name)
                continue
            if self.store.get(("", "serviceaccounts"), name, "default") is None:
                self._create("", "serviceaccounts", name, {"metadata": {"name": "default"}})
            if self.store.get(("", "configmaps"), name, "kube-root-ca.crt") is None:
                self._create("", "configmaps", name, {"metadata": {
                    "name": "kube-root-ca.crt", "annotations": {
                        "kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                                                     "kube-apiserver when using internal endpoints such as the "
                                                     "internal service IP or kubernetes.default.svc. No other "
                                                     "usage is guaranteed across distributions of Kubernetes "
                                                     "clusters."}},
                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nkubesim\n-----END CERTIFICATE-----\n"}})

    def garbage_collect(self) -> None:
        uids: set[str] = set()
        items = list(self.store.all_items())
        for _, obj in items:
            uids.add(obj["metadata"].get("uid", ""))
        children: dict[str, list[tuple[tuple[str, str], dict]]] = {}
        for key, obj in items:
            for ref in obj["metadata"].get("ownerReferences") or []:
                children.setdefault(ref.get("uid", ""), []).append((key, obj))
        for key, obj in items:
            refs = obj["metadata"].get("ownerReferences") or []
            if refs and not any(r.get("uid") in uids for r in refs):
                rt = self.reg.types.get(key)
                if rt is not None and self.store.get(key, ns_of(obj) or None, name_of(obj)) is not None:
                    try:  # all owners are gone: background deletion, like the garbage collector
                        self.api.delete(rt, ns_of(obj) or None, name_of(obj), {"propagationPolicy": "Background"})
                    except ApiError:
                        pass
        for key, obj in items:
            meta = obj["metadata"]
            if not meta.get("deletionTimestamp") or "foregroundDeletion" not in (meta.get("finalizers") or []):
                continue
            rt = self.reg.types.get(key)
            if rt is None:
                continue
            kids = [(k, o) for k, o in children.get(meta.get("uid", ""), [])
                    if self.store.get(k, ns_of(o) or None, name_of(o)) is not None]
            blocking = [(k, o) for k, o in kids if any(r.get("uid") == meta["uid"] and r.get("blockOwnerDeletion")
                                                       for r in o["metadata"].get("ownerReferences") or [])]
            for k, o in kids:
                krt = self.reg.types.get(k)
                if krt is not None and not o["metadata"].get("deletionTimestamp"):
                    try:
                        self.api.delete(krt, ns_of(o) or None, name_of(o), {"propagationPolicy": "Foreground"})
                    except ApiError:
                        pass
            if not blocking:
                cur = self.store.get(key, ns_of(obj) or None, name_of(obj))
                if cur is not None:
                    new = copy.deepcopy(cur)
                    new["metadata"]["finalizers"] = [f for f in new["metadata"]["finalizers"]
                                                     if f != "foregroundDeletion"]
                    if new["metadata"]["finalizers"]:
                        self.store.put(key, new, "MODIFIED")
                    else:
                        self.api._remove(rt, ns_of(obj) or None, name_of(obj))

    # ------------------------------------------------------------------ nodes
    def nodes(self) -> None:
        for node in self._list("", "nodes"):
            st = node.get("status") or {}
            if st.get("conditions") and st.get("allocatable"):
                continue
            new = copy.deepcopy(node)
            new["status"] = node_status(new, st)
            self.api.write_object(self.rt("", "nodes"), new)

    # ------------------------------------------------------------------ deployments
    def deployments(self) -> None:
        rs_rt = self.rt("apps", "replicasets")
        for d in self._list("apps", "deployments"):
            if d["metadata"].get("deletionTimestamp"):
                continue
            spec = d.get("spec") or {}
            tmpl = spec.get("template") or {}
            rss = self._owned(d, "apps", "replicasets")
            want = _strip_hash(tmpl)
            new_rs = next((r for r in rss if _strip_hash(r["spec"].get("template") or {}) == want), None)
            replicas = int(spec.get("replicas", 1))
            revisions = [int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
                         for r in rss]
            if new_rs is None:
                h = _hash_template(tmpl)
                rs_tmpl = copy.deepcopy(tmpl)
                rs_tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
                selector = copy.deepcopy(spec.get("selector") or {})
                selector.setdefault("matchLabels", {})["pod-template-hash"] = h
                rev = max(revisions + [0]) + 1
                rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": f"{name_of(d)}-{h}", "namespace": ns_of(d),
                                   "labels": dict(rs_tmpl["metadata"]["labels"]),
                                   "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                                   "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                                   "deployment.kubernetes.io/revision": str(rev)},
                                   "ownerReferences": [owner_ref(d)]},
                      "spec": {"replicas": replicas, "selector": selector, "template": rs_tmpl,
                               "minReadySeconds": spec.get("minReadySeconds", 0)}}
                try:
                    new_rs = self._create("apps", "replicasets", ns_of(d), rs)
                except ApiError as e:
                    if e.reason != "AlreadyExists":
                        continue
                    new_rs = self.store.get(rs_rt.key, ns_of(d), rs["metadata"]["name"])
                    if new_rs is None:
                        continue
                rss = self._owned(d, "apps", "replicasets")
            elif new_rs["spec"].get("replicas") != replicas or \
                    (new_rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") != \
                    str(max(revisions + [0])):
                upd = copy.deepcopy(new_rs)
                upd["spec"]["replicas"] = replicas
                ann = upd["metadata"].setdefault("annotations", {})
                ann["deployment.kubernetes.io/desired-replicas"] = str(replicas)
                cur_rev = int(ann.get("deployment.kubernetes.io/revision", 0))
                if cur_rev != max(revisions + [0]):  # rollback to an older template: it becomes the newest
                    ann["deployment.kubernetes.io/revision"] = str(max(revisions + [0]) + 1)
                self.api.write_object(rs_rt, upd)
            olds = [r for r in rss if r["metadata"]["uid"] != new_rs["metadata"]["uid"]]
            for r in olds:
                if r["spec"].get("replicas", 0) != 0:
                    upd = copy.deepcopy(r)
                    upd["spec"]["replicas"] = 0
                    self.api.write_object(rs_rt, upd)
            limit = int(spec.get("revisionHistoryLimit", 10))
            olds.sort(key=lambda r: int((r["metadata"].get("annotations") or {})
                                        .get("deployment.kubernetes.io/revision", 0)))
            for r in olds[:max(len(olds) - limit, 0)]:
                self._delete("apps", "replicasets", r)
            new_rs = self.store.get(rs_rt.key, ns_of(d), name_of(new_rs)) or new_rs
            rev = (new_rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "1")
            if (d["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") != rev:
                upd = copy.deepcopy(d)
                upd["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = rev
                self.store.put(("apps", "deployments"), upd, "MODIFIED")
                d = upd
            self._deployment_status(d, new_rs, self._owned(d, "apps", "replicasets"))

    def _deployment_status(self, d: dict, new_rs: dict, rss: list[dict]) -> None:
        spec = d.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        st = lambda r, k: int((r.get("status") or {}).get(k, 0))  # noqa: E731
        total = sum(st(r, "replicas") for r in rss)
        ready = sum(st(r, "readyReplicas") for r in rss)
        available = sum(st(r, "availableReplicas") for r in rss)
        updated = st(new_rs, "replicas")
        max_unavail = _int_or_percent(((spec.get("strategy") or {}).get("rollingUpdate") or {})
                                      .get("maxUnavailable", "25%"), replicas, False)
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            max_unavail = replicas
        old = d.get("status") or {}
        conds = copy.deepcopy(old.get("conditions") or [])
        ts = now()
        if available >= replicas - max_unavail:
            avail = condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", ts)
        else:
            avail = condition("Available", "False", "MinimumReplicasUnavailable",
                              "Deployment does not have minimum availability.", ts)
        avail["lastUpdateTime"] = ts
        complete = updated == replicas and total == replicas and available == replicas and \
            st(new_rs, "availableReplicas") == replicas
        if complete:
            prog = condition("Progressing", "True", "NewReplicaSetAvailable",
                             f'ReplicaSet "{name_of(new_rs)}" has successfully progressed.', ts)
        else:
            prog = condition("Progressing", "True", "ReplicaSetUpdated",
                             f'ReplicaSet "{name_of(new_rs)}" is progressing.', ts)
        prog["lastUpdateTime"] = ts
        failure = next((c for r in rss for c in (r.get("status") or {}).get("conditions") or []
                        if c.get("type") == "ReplicaFailure" and c.get("status") == "True"), None)
        conds = _order(set_condition(set_condition(conds, avail), prog), ["Available", "Progressing",
                                                                          "ReplicaFailure"])
        if failure:
            conds = set_condition(conds, {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                          "message": failure.get("message", ""), "lastUpdateTime": ts,
                                          "lastTransitionTime": ts})
        else:
            conds = [c for c in conds if c.get("type") != "ReplicaFailure"]
        status: dict[str, Any] = {"observedGeneration": d["metadata"].get("generation", 1), "replicas": total,
                                  "updatedReplicas": updated, "readyReplicas": ready,
                                  "availableReplicas": available, "conditions": conds}
        if replicas - available > 0:
            status["unavailableReplicas"] = replicas - available
        for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if status[k] == 0:
                del status[k]
        self.api.write_status(self.rt("apps", "deployments"), d, status)

    # ------------------------------------------------------------------ replicasets
    def replicasets(self) -> None:
        for rs in self._list("apps", "replicasets"):
            if rs["metadata"].get("deletionTimestamp"):
                continue
            pods = [p for p in self._owned(rs, "", "pods") if _active(p)]
            want = int((rs.get("spec") or {}).get("replicas", 1))
            failure: str | None = None
            if len(pods) < want:
                failure = self._make_pods(rs, want - len(pods), pods)
            elif len(pods) > want:
                victims = sorted(pods, key=lambda p: (bool((p.get("spec") or {}).get("nodeName")), _pod_ready(p),
                                                      p["metadata"].get("creationTimestamp", "")))
                for p in victims[:len(pods) - want]:
                    self._delete("", "pods", p)
            pods = [p for p in self._owned(rs, "", "pods") if _active(p)]
            self._rs_status(rs, pods, failure)

    def _make_pods(self, owner: dict, count: int, existing: list[dict], name: str | None = None,
                   extra_labels: dict | None = None, node: str | None = None) -> str | None:
        tmpl = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
        for _ in range(count):
            meta = copy.deepcopy(tmpl.get("metadata") or {})
            meta.pop("name", None)
            meta.pop("namespace", None)
            if name:
                meta["name"] = name
            else:
                meta["generateName"] = name_of(owner) + "-"
            meta["labels"] = dict(meta.get("labels") or {}, **(extra_labels or {}))
            meta["ownerReferences"] = [owner_ref(owner)]
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(tmpl.get("spec") or {})}
            if node:
                pod["spec"]["nodeName"] = node
            try:
                self._create("", "pods", ns_of(owner), pod)
            except ApiError as e:
                return e.message
        return None

    def _rs_status(self, rs: dict, pods: list[dict], failure: str | None) -> None:
        old = rs.get("status") or {}
        conds = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
        prev_fail = next((c for c in old.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
        if failure:
            if prev_fail and prev_fail.get("message") == failure:
                conds.append(prev_fail)
            else:
                conds.append(condition("ReplicaFailure", "True", "FailedCreate", failure))
                self._event(rs, "FailedCreate", f"Error creating: {failure}", "Warning")
        ready = sum(1 for p in pods if _pod_ready(p))
        status: dict[str, Any] = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
                                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
            if status[k] == 0:
                del status[k]
        if conds:
            status["conditions"] = conds
        self.api.write_status(self.rt("apps", "replicasets"), rs, status)

    # ------------------------------------------------------------------ daemonsets / statefulsets / jobs
    def daemonsets(self) -> None:
        nodes = self._list("", "nodes")
        for ds in self._list("apps", "daemonsets"):
            if ds["metadata"].get("deletionTimestamp"):
                continue
            tmpl = (ds.get("spec") or {}).get("template") or {}
            h = _hash_template(tmpl)[:10]
            pods = [p for p in self._owned(ds, "", "pods") if _active(p)]
            for p in pods:
                if labels(p).get("controller-revision-hash") != h:
                    self._delete("", "pods", p)
            pods = [p for p in pods if labels(p).get("controller-revision-hash") == h]
            eligible = [n for n in nodes if scheduler.daemon_fits(tmpl.get("spec") or {}, n)]
            have = {(p.get("spec") or {}).get("nodeName") for p in pods}
            for n in eligible:
                if name_of(n) not in have:
                    self._make_pods(ds, 1, pods, extra_labels={"controller-revision-hash": h}, node=name_of(n))
            pods = [p for p in self._owned(ds, "", "pods") if _active(p)]
            ready = sum(1 for p in pods if _pod_ready(p))
            status = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": len(eligible),
                      "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
                      "updatedNumberScheduled": len(pods), "observedGeneration": ds["metadata"].get("generation", 1)}
            if len(eligible) - ready > 0:
                status["numberUnavailable"] = len(eligible) - ready
            self.api.write_status(self.rt("apps", "daemonsets"), ds, status)

    def statefulsets(self) -> None:
        for sts in self._list("apps", "statefulsets"):
            if sts["metadata"].get("deletionTimestamp"):
                continue
            spec = sts.get("spec") or {}
            tmpl = spec.get("template") or {}
            rev = f"{name_of(sts)}-{_hash_template(tmpl)}"
            want = int(spec.get("replicas", 1))
            pods = {name_of(p): p for p in self._owned(sts, "", "pods") if _active(p)}
            for pname, p in list(pods.items()):
                idx = pname.rsplit("-", 1)[-1]
                if labels(p).get("controller-revision-hash") != rev or not idx.isdigit() or int(idx) >= want:
                    self._delete("", "pods", p)
                    pods.pop(pname)
            failure = None
            for i in range(want):
                pname = f"{name_of(sts)}-{i}"
                if pname not in pods and self.store.get(("", "pods"), ns_of(sts), pname) is None:
                    failure = self._make_pods(sts, 1, [], name=pname, extra_labels={
                        "controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": pname,
                        "apps.kubernetes.io/pod-index": str(i)})
                    if failure:
                        break
            pods_l = [p for p in self._owned(sts, "", "pods") if _active(p)]
            ready = sum(1 for p in pods_l if _pod_ready(p))
            status: dict[str, Any] = {"observedGeneration": sts["metadata"].get("generation", 1),
                                      "replicas": len(pods_l), "readyReplicas": ready, "currentReplicas": len(pods_l),
                                      "updatedReplicas": len(pods_l), "availableReplicas": ready,
                                      "currentRevision": rev, "updateRevision": rev, "collisionCount": 0}
            for k in ("readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas"):
                if status[k] == 0:
                    del status[k]
            self.api.write_status(self.rt("apps", "statefulsets"), sts, status)

    def jobs(self) -> None:
        for job in self._list("batch", "jobs"):
            st = job.get("status") or {}
            if any(c.get("type") == "Complete" for c in st.get("conditions") or []):
                continue
            if (job.get("spec") or {}).get("suspend"):
                continue
            ts = now()
            completions = int((job.get("spec") or {}).get("completions") or 1)
            status = {"startTime": st.get("startTime", ts), "completionTime": ts, "succeeded": completions,
                      "ready": 0, "terminating": 0, "uncountedTerminatedPods": {},
                      "conditions": [condition("SuccessCriteriaMet", "True", "CompletionsReached",
                                               "Reached expected number of succeeded pods", ts, probe=True),
                                     condition("Complete", "True", "CompletionsReached",
                                               "Reached expected number of succeeded pods", ts, probe=True)]}
            self.api.write_status(self.rt("batch", "jobs"), job, status)

    # ------------------------------------------------------------------ scheduler and kubelet
    def schedule(self) -> None:
        pods = self._list("", "pods")
        nodes = self._list("", "nodes")
        by_node = scheduler.pods_on_nodes(pods)
        for pod in pods:
            spec = pod.get("spec") or {}
            if spec.get("nodeName") or pod["metadata"].get("deletionTimestamp"):
                continue
            if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
                continue
            node, message = scheduler.schedule(pod, nodes, by_node)
            if node:
                self._event(pod, "Scheduled", f"Successfully assigned {ns_of(pod)}/{name_of(pod)} to {node}",
                            component="default-scheduler")
                new = copy.deepcopy(pod)
                new["spec"]["nodeName"] = node
                st = new.setdefault("status", {})
                st["conditions"] = set_condition(st.get("conditions") or [],
                                                 condition("PodScheduled", "True", ts=now(), probe=True))
                st["phase"] = "Pending"
                self.store.put(("", "pods"), new, "MODIFIED")
                by_node.setdefault(node, []).append(new)
                continue
            prev = next((c for c in (pod.get("status") or {}).get("conditions") or []
                         if c.get("type") == "PodScheduled"), {})
            if prev.get("message") != message:
                self._event(pod, "FailedScheduling", message, "Warning", component="default-scheduler")
            st = copy.deepcopy(pod.get("status") or {})
            st["phase"] = "Pending"
            st["qosClass"] = _qos(spec)
            st["conditions"] = set_condition(st.get("conditions") or [],
                                             condition("PodScheduled", "False", "Unschedulable", message, probe=True))
            self.api.write_status(self.rt("", "pods"), pod, st)

    def kubelet(self) -> None:
        nodes = {name_of(n): n for n in self._list("", "nodes")}
        for pod in self._list("", "pods"):
            spec = pod.get("spec") or {}
            node = nodes.get(spec.get("nodeName") or "")
            if spec.get("nodeName") and node is None:
                self._delete("", "pods", pod)  # the pod GC removes pods bound to deleted nodes
                continue
            if node is None or pod["metadata"].get("deletionTimestamp"):
                continue
            st = pod.get("status") or {}
            if st.get("phase") in ("Running", "Succeeded", "Failed") and st.get("podIP"):
                continue
            self.api.write_status(self.rt("", "pods"), pod, self._running_status(pod, node))

    def _running_status(self, pod: dict, node: dict) -> dict:
        spec = pod.get("spec") or {}
        ts = now()
        host_ip = next((a["address"] for a in (node.get("status") or {}).get("addresses") or []
                        if a.get("type") == "InternalIP"), "10.0.0.1")
        if spec.get("hostNetwork"):
            pod_ip = host_ip
        else:
            self._ip_counter += 1
            pod_ip = f"10.244.{(self._ip_counter // 250) % 250}.{self._ip_counter % 250 + 2}"
        finished = spec.get("restartPolicy") in ("Never", "OnFailure") and \
            not controller_of(pod)
        cstatuses = []
        for c in spec.get("containers") or []:
            cid = "containerd://" + short_hash(pod["metadata"]["uid"] + c["name"], 40)
            state = ({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts, "finishedAt": ts,
                                     "containerID": cid}} if finished else {"running": {"startedAt": ts}})
            cstatuses.append({"name": c["name"], "image": c.get("image", ""), "imageID": c.get("image", "") +
                              "@sha256:" + short_hash(c.get("image", ""), 64), "containerID": cid,
                              "ready": not finished, "started": not finished, "restartCount": 0, "state": state,
                              "lastState": {}})
        init_st = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True,
                    "restartCount": 0, "started": False,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts,
                                             "finishedAt": ts}}, "lastState": {}}
                   for c in spec.get("initContainers") or []]
        ready = "False" if finished else "True"
        conds = [condition("PodReadyToStartContainers", "True", ts=ts, probe=True),
                 condition("Initialized", "True", ts=ts, probe=True),
                 condition("Ready", ready, "PodCompleted" if finished else "", ts=ts, probe=True),
                 condition("ContainersReady", ready, "PodCompleted" if finished else "", ts=ts, probe=True),
                 condition("PodScheduled", "True", ts=ts, probe=True)]
        status: dict[str, Any] = {"phase": "Succeeded" if finished else "Running", "conditions": conds,
                                  "hostIP": host_ip, "hostIPs": [{"ip": host_ip}], "podIP": pod_ip,
                                  "podIPs": [{"ip": pod_ip}], "startTime": ts, "containerStatuses": cstatuses,
                                  "qosClass": _qos(spec)}
        if init_st:
            status["initContainerStatuses"] = init_st
        return status

    # ------------------------------------------------------------------ services, PDB, HPA
    def services(self) -> None:
        ep_rt = self.rt("", "endpoints")
        pods_by_ns: dict[str, list[dict]] = {}
        for p in self._list("", "pods"):
            pods_by_ns.setdefault(ns_of(p), []).append(p)
        for svc in self._list("", "services"):
            spec = svc.get("spec") or {}
            if spec.get("type") == "LoadBalancer" and not ((svc.get("status") or {}).get("loadBalancer") or {}).get(
                    "ingress"):
                n = int(short_hash(svc["metadata"]["uid"], 4).encode().hex(), 16) % 200 + 20
                self.api.write_status(self.rt("", "services"), svc, {"loadBalancer": {"ingress": [
                    {"ip": f"172.18.255.{n}", "ipMode": "VIP"}]}})
            selector = spec.get("selector")
            if not selector:
                continue
            matching = [p for p in pods_by_ns.get(ns_of(svc), [])
                        if all(labels(p).get(k) == v for k, v in selector.items()) and _active(p)
                        and (p.get("status") or {}).get("podIP")]
            ready = [p for p in matching if _pod_ready(p)]
            not_ready = [p for p in matching if not _pod_ready(p)]

            def addr(p: dict) -> dict:
                return {"ip": p["status"]["podIP"], "nodeName": p["spec"].get("nodeName"),
                        "targetRef": {"kind": "Pod", "name": name_of(p), "namespace": ns_of(p),
                                      "uid": p["metadata"]["uid"]}}
            ports = []
            for sp in spec.get("ports") or []:
                target = sp.get("targetPort", sp.get("port"))
                if isinstance(target, str) and not target.isdigit():
                    resolved = next((cp.get("containerPort") for p in matching for c in p["spec"].get("containers", [])
                                     for cp in c.get("ports") or [] if cp.get("name") == target), None)
                    target = resolved or sp.get("port")
                port = {"port": int(target), "protocol": sp.get("protocol", "TCP")}
                if sp.get("name"):
                    port["name"] = sp["name"]
                if sp.get("appProtocol"):
                    port["appProtocol"] = sp["appProtocol"]
                ports.append(port)
            subsets = []
            if matching:
                subset: dict[str, Any] = {}
                if ready:
                    subset["addresses"] = [addr(p) for p in sorted(ready, key=lambda p: p["status"]["podIP"])]
                if not_ready:
                    subset["notReadyAddresses"] = [addr(p) for p in not_ready]
                subset["ports"] = ports
                subsets.append(subset)
            body = {"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": name_of(svc), "namespace": ns_of(svc),
                                 "labels": dict(labels(svc), **{"endpoints.kubernetes.io/managed-by":
                                                                "endpoint-controller"})}}
            if subsets:
                body["subsets"] = subsets
            self._endpoint_slice(svc, ready, not_ready, ports)
            cur = self.store.get(ep_rt.key, ns_of(svc), name_of(svc))
            if cur is None:
                try:
                    self._create("", "endpoints", ns_of(svc), body)
                except ApiError:
                    pass
            elif cur.get("subsets") != body.get("subsets") or labels(cur) != body["metadata"]["labels"]:
                new = copy.deepcopy(cur)
                new["metadata"]["labels"] = body["metadata"]["labels"]
                if subsets:
                    new["subsets"] = subsets
                else:
                    new.pop("subsets", None)
                self.store.put(ep_rt.key, new, "MODIFIED")
        for ep in self._list("", "endpoints"):
            if labels(ep).get("endpoints.kubernetes.io/managed-by") == "endpoint-controller" and \
                    self.store.get(("", "services"), ns_of(ep), name_of(ep)) is None:
                self.store.remove(ep_rt.key, ns_of(ep), name_of(ep))

    def _endpoint_slice(self, svc: dict, ready: list[dict], not_ready: list[dict], ports: list[dict]) -> None:
        """One EndpointSlice per selector Service (what `kubectl describe service` reads in 1.33)."""
        rt = self.rt("discovery.k8s.io", "endpointslices")
        name = f"{name_of(svc)}-{short_hash(svc['metadata']['uid'], 5)}"
        endpoints = []
        for p, ok in [(p, True) for p in ready] + [(p, False) for p in not_ready]:
            endpoints.append({"addresses": [p["status"]["podIP"]],
                              "conditions": {"ready": ok, "serving": ok, "terminating": False},
                              "nodeName": p["spec"].get("nodeName"),
                              "targetRef": {"kind": "Pod", "name": name_of(p), "namespace": ns_of(p),
                                            "uid": p["metadata"]["uid"]}})
        body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": name, "namespace": ns_of(svc), "generateName": f"{name_of(svc)}-",
                             "labels": {"kubernetes.io/service-name": name_of(svc),
                                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                             "ownerReferences": [owner_ref(svc)]},
                "addressType": "IPv4", "endpoints": endpoints,
                "ports": [{k: v for k, v in p.items() if k in ("name", "port", "protocol", "appProtocol")}
                          for p in ports]}
        cur = self.store.get(rt.key, ns_of(svc), name)
        if cur is None:
            try:
                self._create("discovery.k8s.io", "endpointslices", ns_of(svc), body)
            except ApiError:
                pass
        elif cur.get("endpoints") != endpoints or cur.get("ports") != body["ports"]:
            new = copy.deepcopy(cur)
            new["endpoints"], new["ports"] = endpoints, body["ports"]
            self.store.put(rt.key, new, "MODIFIED")

    def pdbs(self) -> None:
        for pdb in self._list("policy", "poddisruptionbudgets"):
            spec = pdb.get("spec") or {}
            sel = spec.get("selector")
            pods = [p for p in self._list("", "pods", ns_of(pdb))
                    if sel is not None and match_label_selector(sel, labels(p)) and _active(p)]
            healthy = sum(1 for p in pods if _pod_ready(p))
            expected = len(pods)
            if spec.get("minAvailable") is not None:
                desired = _int_or_percent(spec["minAvailable"], expected, True)
            elif spec.get("maxUnavailable") is not None:
                desired = max(expected - _int_or_percent(spec["maxUnavailable"], expected, True), 0)
            else:
                desired = expected
            allowed = max(healthy - desired, 0)
            old = pdb.get("status") or {}
            cond = condition("DisruptionAllowed", "True" if allowed > 0 else "False",
                             "SufficientPods" if allowed > 0 else "InsufficientPods")
            cond["observedGeneration"] = pdb["metadata"].get("generation", 1)
            status = {"observedGeneration": pdb["metadata"].get("generation", 1), "currentHealthy": healthy,
                      "desiredHealthy": desired, "expectedPods": expected, "disruptionsAllowed": allowed,
                      "conditions": set_condition(copy.deepcopy(old.get("conditions") or []), cond)}
            self.api.write_status(self.rt("policy", "poddisruptionbudgets"), pdb, status)

    def hpas(self) -> None:
        for hpa in self._list("autoscaling", "horizontalpodautoscalers"):
            spec = hpa.get("spec") or {}
            ref = spec.get("scaleTargetRef") or {}
            group = (ref.get("apiVersion") or "apps/v1").split("/")[0] if "/" in (ref.get("apiVersion") or "") else ""
            plural = {"Deployment": "deployments", "StatefulSet": "statefulsets",
                      "ReplicaSet": "replicasets"}.get(ref.get("kind", ""), "")
            target = self.store.get((group, plural), ns_of(hpa), ref.get("name", "")) if plural else None
            current = int(((target or {}).get("status") or {}).get("replicas", 0))
            lo, hi = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
            desired = min(max(current, lo), hi)
            ts = now()
            old = hpa.get("status") or {}
            conds = copy.deepcopy(old.get("conditions") or [])
            if target is None:
                conds = set_condition(conds, condition("AbleToScale", "False", "FailedGetScale",
                                                       f'the HPA controller was unable to get the target\'s current '
                                                       f'scale: {plural or ref.get("kind")} "{ref.get("name")}" '
                                                       f'not found', ts))
            else:
                conds = set_condition(conds, condition("AbleToScale", "True", "ReadyForNewScale",
                                                       "recommended size matches current size", ts))
                conds = set_condition(conds, condition("ScalingActive", "False", "FailedGetResourceMetric",
                                                       "the HPA was unable to compute the replica count: no metrics "
                                                       "returned from resource metrics API (kubesim has no metrics)",
                                                       ts))
            status = {"currentReplicas": current, "desiredReplicas": desired, "conditions": conds,
                      "observedGeneration": hpa["metadata"].get("generation", 1)}
            if old.get("currentMetrics") is not None:
                status["currentMetrics"] = old["currentMetrics"]
            self.api.write_status(self.rt("autoscaling", "horizontalpodautoscalers"), hpa, status)


def _order(conds: list[dict], order: list[str]) -> list[dict]:
    pos = {t: i for i, t in enumerate(order)}
    return sorted(conds, key=lambda c: pos.get(c.get("type", ""), len(pos)))


def _qos(spec: dict) -> str:
    reqs = [((c.get("resources") or {}).get("requests") or {}, (c.get("resources") or {}).get("limits") or {})
            for c in spec.get("containers") or []]
    if not any(r or lim for r, lim in reqs):
        return "BestEffort"
    if all(lim.get("cpu") and lim.get("memory") and (not r or r == lim) for r, lim in reqs):
        return "Guaranteed"
    return "Burstable"


INSTANCE_TYPES = {"t3.micro": (2, "1Gi"), "t3.small": (2, "2Gi"), "t3.medium": (2, "4Gi"), "t3.large": (2, "8Gi"),
                  "t3.xlarge": (4, "16Gi"), "t3.2xlarge": (8, "32Gi"), "t3.nano": (2, "512Mi")}


def node_status(node: dict, old: dict | None = None, instance_type: str | None = None,
                kube_version: str = "v1.30.6", private_ip: str | None = None) -> dict:
    old = old or {}
    itype = instance_type or labels(node).get("node.kubernetes.io/instance-type", "")
    cpu, mem = INSTANCE_TYPES.get(itype, (2, "4Gi"))
    ts = now()
    capacity = {"cpu": str(cpu), "memory": mem, "pods": "110", "ephemeral-storage": "20Gi"}
    addresses = old.get("addresses") or [{"type": "InternalIP", "address": private_ip or "10.0.0.10"},
                                         {"type": "Hostname", "address": name_of(node)}]
    conds = [condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                       "kubelet has sufficient memory available", ts),
             condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", ts),
             condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", ts),
             condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", ts)]
    for c in conds:
        c["lastHeartbeatTime"] = ts
    return {"capacity": capacity, "allocatable": dict(capacity), "conditions": old.get("conditions") or conds,
            "addresses": addresses, "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7.22",
                         "kernelVersion": "6.8.0-1017-aws", "kubeProxyVersion": kube_version,
                         "kubeletVersion": kube_version, "machineID": "", "operatingSystem": "linux",
                         "osImage": "Ubuntu 22.04.5 LTS", "systemUUID": ""}}


