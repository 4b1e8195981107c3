"""Helm release state read from the cluster (the release Secrets, as helm v3 stores them), in-process so
that a test can poll it every few milliseconds while a run is inside `helm install`."""
from __future__ import annotations

import threading

from kubernetes import client, config, watch


class HelmState:
    def __init__(self, kubeconfig: str):
        self.api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))

    def releases(self) -> dict:
        """{release: (revision, status)} of the newest revision of each release."""
        newest = {}
        for secret in self.api.list_secret_for_all_namespaces(label_selector="owner=helm").items:
            labels = secret.metadata.labels
            rev = int(labels["version"])
            if rev >= newest.get(labels["name"], (0, ""))[0]:
                newest[labels["name"]] = (rev, labels["status"])
        return newest

    def status(self, name: str) -> str:
        return self.releases().get(name, (0, ""))[1]

    def pending(self) -> dict:
        return {n: s for n, (_, s) in self.releases().items() if s.startswith("pending-")}

    def watch_for(self, name: str, status: str) -> threading.Event:
        """An Event set the moment a revision of `name` is written with `status` (a watch sees a state that
        lasts only a few milliseconds, which polling could miss)."""
        seen = threading.Event()
        ready = threading.Event()

        def run():
            w = watch.Watch()
            version = self.api.list_secret_for_all_namespaces(label_selector="owner=helm").metadata.resource_version
            ready.set()
            for event in w.stream(self.api.list_secret_for_all_namespaces, label_selector="owner=helm,name=" + name,
                                  resource_version=version, timeout_seconds=900):
                if event["object"].metadata.labels.get("status") == status:
                    seen.set()
                    w.stop()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(30)
        return seen
