"""Wires registry, store, API semantics, controllers, admission and HTTP server together."""
from __future__ import annotations

import json
import os
from typing import Any

from .api import Api
from .controllers import Controllers
from .injection import SidecarInjector
from .objects import new_uid, now
from .resources import Registry
from .server import Server
from .store import Store

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class KubeSim:
    def __init__(self, kube_version: str = "v1.30.6", state_file: str | None = None) -> None:
        self.registry = Registry()
        self.store = Store()
        self.api = Api(self.registry, self.store)
        self.api.admission.append(SidecarInjector(self.api))
        self.controllers = Controllers(self.api)
        self.server = Server(self.registry, self.store, self.api, kube_version)
        self.kube_version = kube_version
        self.state_file = state_file
        if state_file and os.path.exists(state_file):
            with open(state_file) as fh:
                self.store.load(json.load(fh))
            for _, obj in list(self.store.all_items()):
                if obj.get("kind") == "CustomResourceDefinition":
                    self.registry.register_crd(obj)
        self._bootstrap()

    def _put(self, group: str, plural: str, obj: dict) -> None:
        meta = obj["metadata"]
        if self.store.get((group, plural), meta.get("namespace"), meta["name"]) is not None:
            return
        meta.setdefault("uid", new_uid())
        meta.setdefault("creationTimestamp", now())
        self.store.put((group, plural), obj, "ADDED")

    def _bootstrap(self) -> None:
        for ns in DEFAULT_NAMESPACES:
            self._put("", "namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                                         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        self._put("", "services", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}})
        self._put("storage.k8s.io", "storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubesim.local/no-provisioner", "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate"})
        self._put("scheduling.k8s.io", "priorityclasses", {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "system-cluster-critical"}, "value": 2000000000, "globalDefault": False})
        self._put("scheduling.k8s.io", "priorityclasses", {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "system-node-critical"}, "value": 2000001000, "globalDefault": False})

    def add_nodes(self, nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            self._put("", "nodes", node)

    def save(self) -> None:
        if self.state_file:
            tmp = self.state_file + ".tmp"
            with open(tmp, "w") as fh:
                json.dump(self.store.dump(), fh)
            os.replace(tmp, self.state_file)
