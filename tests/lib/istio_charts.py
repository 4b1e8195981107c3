#!/usr/bin/env python3
"""Istio's own Helm charts, packaged as the release would publish them, from the istio.io/istio Go module.

For each release in tools/istio/releases.txt: `go mod download` the module (verified against
the checksum database), copy manifests/charts/{base,istio-control/istio-discovery,gateway},
set the image hub and tag a release sets (docker.io/istio, the release), and `helm package`
at the release's version. Nothing from the module is committed; the packages land in
.tools/charts and tests/lib/chart_repo.py serves them on 127.0.0.1.

    .venv/bin/python tests/lib/istio_charts.py [DEST]
    .venv/bin/python tests/lib/istio_charts.py crds OUT.yaml [RELEASE]   # the base chart's CRDs alone
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools/istio"
DEST = REPO / ".tools/charts"
CHART_DIRS = {"base": "base", "istiod": "istio-control/istio-discovery", "gateway": "gateway"}
HUB = "docker.io/istio"


def releases() -> dict[str, str]:
    out = {}
    for line in (TOOLS / "releases.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            release, module_version = line.split()[:2]
            out[release] = module_version
    return out


def module_dir(module_version: str) -> Path:
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    done = subprocess.run(["go", "mod", "download", "-json", f"istio.io/istio@{module_version}"],
                          cwd=TOOLS, env=env, capture_output=True, text=True)
    info = json.loads(done.stdout or "{}")
    if done.returncode != 0 or "Dir" not in info:
        raise RuntimeError("go mod download istio.io/istio@%s failed: %s %s"
                           % (module_version, info.get("Error", ""), done.stderr[-1000:]))
    return Path(info["Dir"])


def package(release: str, source: Path, dest: Path, helm: str) -> list[Path]:
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, sub in CHART_DIRS.items():
            chart = Path(tmp) / name
            shutil.copytree(source / "manifests/charts" / sub, chart)
            for path in chart.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)
            values = chart / "values.yaml"
            text = values.read_text()
            text = re.sub(r"(?m)^(\s*)hub: gcr\.io/istio-testing\s*$", rf"\1hub: {HUB}", text)
            text = re.sub(r"(?m)^(\s*)tag: latest\s*$", rf"\1tag: {release}", text)
            values.write_text(text)
            subprocess.run([helm, "package", str(chart), "--version", release, "--app-version", release,
                            "--destination", str(dest)], check=True, capture_output=True, text=True)
            made.append(dest / f"{name}-{release}.tgz")
    return made


def build(dest: Path = DEST) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    helm = str(REPO / ".tools/bin/helm")
    made = []
    for release, module_version in releases().items():
        wanted = [dest / f"{name}-{release}.tgz" for name in CHART_DIRS]
        if all(p.exists() for p in wanted):
            made += wanted
            continue
        print(f"istio charts: packaging {release} from istio.io/istio@{module_version}", flush=True)
        made += package(release, module_dir(module_version), dest, helm)
    return made


def crds_yaml(release: str) -> str:
    """The CustomResourceDefinitions the base chart of release installs, rendered by helm."""
    chart = next(p for p in build() if p.name == f"base-{release}.tgz")
    return subprocess.run([str(REPO / ".tools/bin/helm"), "template", "istio-base", str(chart), "-n", "istio-system",
                           "--show-only", "templates/crds.yaml"], check=True, capture_output=True, text=True).stdout


if __name__ == "__main__":
    if sys.argv[1:2] == ["crds"]:
        Path(sys.argv[2]).write_text(crds_yaml(sys.argv[3] if len(sys.argv) > 3 else "1.24.2"))
    else:
        build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEST)
