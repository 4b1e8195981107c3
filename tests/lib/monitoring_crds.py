#!/usr/bin/env python3
"""The Prometheus Operator's PodMonitor and ServiceMonitor CRDs, from the Go module pinned in
tools/prometheus-operator/module.txt (downloaded and verified like tests/lib/argocd_crds.py; nothing committed).

    .venv/bin/python tests/lib/monitoring_crds.py        # download, print the CRDs' paths
"""
from __future__ import annotations

from pathlib import Path

from tests.lib.argocd_crds import REPO, module_dir

PIN = REPO / "tools/prometheus-operator/module.txt"
CRDS = ("example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",
        "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml")


def monitor_crds() -> list[Path]:
    root = module_dir(PIN)
    paths = [root / rel for rel in CRDS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise RuntimeError("the Prometheus Operator module lacks %s" % ", ".join(missing))
    return paths


if __name__ == "__main__":
    print("\n".join(str(p) for p in monitor_crds()))
