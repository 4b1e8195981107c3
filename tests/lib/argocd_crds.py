#!/usr/bin/env python3
"""Argo CD's Application CRD, from the Argo CD Go module pinned in tools/argocd/module.txt.

`go mod download` (verified against the checksum database) brings the module into the Go
module cache; its manifests/crds/application-crd.yaml is what tests install. Nothing from
the module is committed.

    .venv/bin/python tests/lib/argocd_crds.py            # download, print the CRD's path
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIN = REPO / "tools/argocd/module.txt"
APPLICATION_CRD = "manifests/crds/application-crd.yaml"


def pinned(pin: Path = PIN) -> tuple[str, str]:
    for line in pin.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            module, version = line.split()[:2]
            return module, version
    raise RuntimeError("no module pinned in %s" % pin)


def module_dir(pin: Path = PIN) -> Path:
    """The pinned module's directory in the Go module cache (downloaded and verified on first use)."""
    module, version = pinned(pin)
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    done = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=pin.parent, env=env,
                          capture_output=True, text=True)
    info = json.loads(done.stdout or "{}")
    if done.returncode != 0 or "Dir" not in info:
        raise RuntimeError("go mod download %s@%s failed: %s %s" % (module, version, info.get("Error", ""),
                                                                    done.stderr[-1000:]))
    return Path(info["Dir"])


def application_crd() -> Path:
    path = module_dir() / APPLICATION_CRD
    if not path.is_file():
        raise RuntimeError("%s has no %s" % (path.parent.parent.parent, APPLICATION_CRD))
    return path


if __name__ == "__main__":
    print(application_crd())
