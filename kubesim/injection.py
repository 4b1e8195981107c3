"""Simulated Istio sidecar injection: a mutating-admission stand-in for istiod's injector webhook.

No webhook is called. When a MutatingWebhookConfiguration with an Istio sidecar-injector webhook
exists, its namespaceSelector/objectSelector are evaluated like the API server does; if the backing
Service has ready endpoints the pod is mutated as istiod's default templates would (roughly), and if it
has none a failurePolicy=Fail webhook refuses the pod with the API server's error text.
"""
from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING

from .errors import ApiError, internal
from .resources import ResourceType
from .selectors import match_label_selector

if TYPE_CHECKING:
    from .api import Api

DEFAULT_TAG = "1.24.1"
DEFAULT_HUB = "docker.io/istio"


class SidecarInjector:
    def __init__(self, api: "Api") -> None:
        self.api = api

    def __call__(self, op: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if op != "CREATE" or rt.key != ("", "pods"):
            return
        meta = obj.get("metadata") or {}
        if "sidecar.istio.io/status" in (meta.get("annotations") or {}):
            return
        ns = self.api.store.get(("", "namespaces"), None, meta.get("namespace", ""))
        ns_labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        for mwc in self.api.store.list(("admissionregistration.k8s.io", "mutatingwebhookconfigurations")):
            for hook in mwc.get("webhooks") or []:
                if not str(hook.get("name", "")).endswith("sidecar-injector.istio.io"):
                    continue
                if not _rules_match(hook):
                    continue
                if not match_label_selector(hook.get("namespaceSelector") or {}, ns_labels):
                    continue
                if not match_label_selector(hook.get("objectSelector") or {}, meta.get("labels") or {}):
                    continue
                svc_ref = (hook.get("clientConfig") or {}).get("service") or {}
                available, svc = self._backend_ready(svc_ref)
                if not available:
                    if hook.get("failurePolicy", "Fail") == "Fail":
                        raise self._refusal(hook, svc_ref, svc)
                    continue
                opt = (meta.get("labels") or {}).get("sidecar.istio.io/inject") or \
                    (meta.get("annotations") or {}).get("sidecar.istio.io/inject")
                if str(opt).lower() != "false":
                    self._inject(obj, hook, svc_ref)
                return

    def _backend_ready(self, ref: dict) -> tuple[bool, dict | None]:
        if not ref:
            return False, None
        svc = self.api.store.get(("", "services"), ref.get("namespace", ""), ref.get("name", ""))
        if svc is None:
            return False, None
        ep = self.api.store.get(("", "endpoints"), ref.get("namespace", ""), ref.get("name", ""))
        ready = any(s.get("addresses") for s in (ep or {}).get("subsets") or [])
        return ready, svc

    @staticmethod
    def _refusal(hook: dict, ref: dict, svc: dict | None) -> ApiError:
        port = ref.get("port", 443)
        path = ref.get("path", "")
        url = f"https://{ref.get('name')}.{ref.get('namespace')}.svc:{port}{path}?timeout={hook.get('timeoutSeconds', 10)}s"
        if svc is None:
            why = f'service "{ref.get("name")}" not found'
        else:
            ip = (svc.get("spec") or {}).get("clusterIP", "")
            why = f"dial tcp {ip}:{port}: connect: connection refused"
        return internal(f'failed calling webhook "{hook.get("name")}": failed to call webhook: Post "{url}": {why}')

    def _proxy_image(self, ref: dict) -> str:
        hub, tag = DEFAULT_HUB, DEFAULT_TAG
        ns = ref.get("namespace", "istio-system")
        deploys = self.api.store.list(("apps", "deployments"), ns)
        svc = self.api.store.get(("", "services"), ns, ref.get("name", ""))
        selector = (svc or {}).get("spec", {}).get("selector") or {}
        for d in deploys:
            tlabels = ((d.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
            if d["metadata"]["name"] != "istiod" and not (selector and all(tlabels.get(k) == v
                                                                           for k, v in selector.items())):
                continue
            for c in ((d["spec"].get("template") or {}).get("spec") or {}).get("containers") or []:
                image = c.get("image", "")
                if "/pilot" in image or c.get("name") == "discovery":
                    repo, _, t = image.rpartition(":")
                    if t and "/" not in t:
                        tag = t
                        hub = repo.rsplit("/", 1)[0] if "/" in repo else hub
                    return f"{hub}/proxyv2:{tag}"
        return f"{hub}/proxyv2:{tag}"

    def _inject(self, pod: dict, hook: dict, ref: dict) -> None:
        image = self._proxy_image(ref)
        spec = pod.setdefault("spec", {})
        meta = pod.setdefault("metadata", {})
        labels = meta.setdefault("labels", {})
        annotations = meta.setdefault("annotations", {})
        revision = labels.get("istio.io/rev") or "default"
        containers = spec.setdefault("containers", [])
        gateway = any(c.get("image") == "auto" for c in containers)
        if gateway:
            for c in containers:
                if c.get("image") == "auto":
                    c["image"] = image
                    c.setdefault("imagePullPolicy", "IfNotPresent")
            status = {"initContainers": None, "containers": [c["name"] for c in containers if c.get("image") == image],
                      "volumes": ["workload-socket", "credential-socket", "workload-certs", "istio-envoy",
                                  "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"],
                      "imagePullSecrets": None, "revision": revision}
        else:
            first = containers[0]["name"] if containers else "app"
            app_ports = [str(p.get("containerPort")) for c in containers for p in c.get("ports") or []]
            spec.setdefault("initContainers", []).append({
                "name": "istio-init", "image": image, "imagePullPolicy": "IfNotPresent",
                "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
                         "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"],
                "resources": {"requests": {"cpu": "10m", "memory": "40Mi"},
                              "limits": {"cpu": "2", "memory": "1Gi"}},
                "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                                    "runAsNonRoot": False, "runAsUser": 0, "runAsGroup": 0, "privileged": False,
                                    "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
            containers.append({
                "name": "istio-proxy", "image": image, "imagePullPolicy": "IfNotPresent",
                "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                         "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
                "env": [{"name": "ISTIO_META_APP_CONTAINERS", "value": first},
                        {"name": "ISTIO_META_POD_PORTS", "value": json.dumps(
                            [{"containerPort": int(p)} for p in app_ports])},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                        "fieldPath": "metadata.name"}}},
                        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                             "fieldPath": "metadata.namespace"}}}],
                "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
                                   "initialDelaySeconds": 1, "periodSeconds": 2, "timeoutSeconds": 3,
                                   "failureThreshold": 30, "successThreshold": 1},
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "2", "memory": "1Gi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                    "privileged": False, "readOnlyRootFilesystem": True, "runAsGroup": 1337,
                                    "runAsNonRoot": True, "runAsUser": 1337},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                "volumeMounts": [{"mountPath": "/var/run/secrets/istio", "name": "istiod-ca-cert"},
                                 {"mountPath": "/var/lib/istio/data", "name": "istio-data"},
                                 {"mountPath": "/etc/istio/proxy", "name": "istio-envoy"},
                                 {"mountPath": "/var/run/secrets/tokens", "name": "istio-token"},
                                 {"mountPath": "/etc/istio/pod", "name": "istio-podinfo"}]})
            volumes = spec.setdefault("volumes", [])
            volumes += [{"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
                        {"name": "istio-data", "emptyDir": {}},
                        {"name": "istio-podinfo", "downwardAPI": {"items": [
                            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                            {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}]}},
                        {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {
                            "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
                        {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}}]
            status = {"initContainers": ["istio-init"], "containers": ["istio-proxy"],
                      "volumes": ["workload-socket", "credential-socket", "workload-certs", "istio-envoy",
                                  "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"],
                      "imagePullSecrets": None, "revision": revision}
            annotations.setdefault("kubectl.kubernetes.io/default-container", first)
            annotations.setdefault("kubectl.kubernetes.io/default-logs-container", first)
            annotations.setdefault("prometheus.io/path", "/stats/prometheus")
            annotations.setdefault("prometheus.io/port", "15020")
            annotations.setdefault("prometheus.io/scrape", "true")
        annotations["sidecar.istio.io/status"] = json.dumps(status, separators=(",", ":"))
        annotations.setdefault("istio.io/rev", revision)
        labels.setdefault("security.istio.io/tlsMode", "istio")
        labels.setdefault("service.istio.io/canonical-name",
                          labels.get("app.kubernetes.io/name") or labels.get("app") or meta.get("generateName", "pod").rstrip("-"))
        labels.setdefault("service.istio.io/canonical-revision",
                          labels.get("app.kubernetes.io/version") or labels.get("version") or "latest")


def _rules_match(hook: dict) -> bool:
    rules = hook.get("rules")
    if not rules:
        return False
    for r in rules:
        ops = r.get("operations") or []
        res = r.get("resources") or []
        groups = r.get("apiGroups") or []
        if ("CREATE" in ops or "*" in ops) and ("pods" in res or "*" in res) and ("" in groups or "*" in groups):
            return True
    return False


FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nkubesim istiod self-signed root\n"
                           b"-----END CERTIFICATE-----\n").decode()


class IstiodWebhookPatcher:
    """What a running istiod does to its webhook configurations: once istiod is Available it writes its CA
    into every Istio webhook's clientConfig.caBundle and flips the validating webhook's failurePolicy to
    Fail. Charts leave both empty/Ignore, so naive diffs against the live objects never settle."""

    def __init__(self, api: "Api") -> None:
        self.api = api

    def _istiod_available(self, ns: str) -> bool:
        dep = self.api.store.get(("apps", "deployments"), ns, "istiod")
        conds = ((dep or {}).get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Available" and c.get("status") == "True" for c in conds)

    def reconcile(self) -> None:
        for plural in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
            rt = self.api.registry.types[("admissionregistration.k8s.io", plural)]
            for cfg in self.api.store.list(rt.key):
                hooks = cfg.get("webhooks") or []
                istio = [h for h in hooks if str(h.get("name", "")).endswith(".istio.io")]
                if not istio:
                    continue
                ns = ((istio[0].get("clientConfig") or {}).get("service") or {}).get("namespace", "istio-system")
                if not self._istiod_available(ns):
                    continue
                new = copy.deepcopy(cfg)
                for h in new.get("webhooks") or []:
                    if not str(h.get("name", "")).endswith(".istio.io"):
                        continue
                    h.setdefault("clientConfig", {})["caBundle"] = FAKE_CA
                    if plural == "validatingwebhookconfigurations":
                        h["failurePolicy"] = "Fail"
                if new != cfg:
                    self.api.write_object(rt, new)
