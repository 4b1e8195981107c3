"""Package the mesh UI stand-in charts (tests/integration/fixtures/charts) for the loopback chart repository.

The real kiali-server and jaeger charts cannot be downloaded here. The stand-ins carry the targeted names
and versions and a values.schema.json admitting exactly the key paths the roles set, typed: a wrong key
or type fails `helm install` (the real charts would silently ignore an unknown key).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.lib.chart_repo import helm_binary

CHARTS = Path(__file__).resolve().parents[1] / "integration/fixtures/charts"
NAMES = ("kiali-server", "jaeger")
# Chart name -> the values the roles' defaults give (Eco²), shared with the unit tests.
EXPECTED_VALUES = yaml.safe_load((CHARTS.parent / "mesh-ui-values.yml").read_text())


def version(chart: str) -> str:
    return str(yaml.safe_load((CHARTS / chart / "Chart.yaml").read_text())["version"])


def package(dest: Path) -> list[Path]:
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for chart in NAMES:
        subprocess.run([helm_binary(), "package", str(CHARTS / chart), "-d", str(dest)], check=True,
                       capture_output=True, text=True)
    return [dest / f"{chart}-{version(chart)}.tgz" for chart in NAMES]
