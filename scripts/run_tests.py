#!/usr/bin/env python3
"""`make test`: run every gate through pytest and end with `N passed, N failed`.

Each lint/sanity gate and each Molecule scenario is a pytest test (tests/quality,
tests/molecule), so one report counts everything. Extra arguments go to pytest.
"""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    out = REPO / "tests/output"
    out.mkdir(parents=True, exist_ok=True)
    junit = out / "junit.xml"
    junit.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{REPO / '.venv/bin'}:{REPO / '.tools/bin'}:{env['PATH']}"
    # Two workers: most tests wait on helm/kubectl/ansible round trips rather than on the CPU.
    # loadscope keeps each module on one worker, so an expensive module or session fixture
    # (a migrated cluster, a chart repository) is built once. Modules go in collection order, not
    # xdist's default largest-first: that puts the one- and two-test modules (the slowest: a whole
    # SIGKILL chain, a secrets sweep) last, where one worker runs them alone for many minutes.
    jobs = os.environ.get("ECO2_JOBS", "2")
    parallel = ["-n", jobs, "--dist", "loadscope", "--no-loadscope-reorder"] if jobs not in ("0", "1") else []
    cmd = [sys.executable, "-m", "pytest", "-rfE", "--durations=20", f"--junitxml={junit}", *parallel, *argv]
    rc = subprocess.call(cmd, cwd=REPO, env=env)
    passed = failed = skipped = 0
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            kinds = {child.tag for child in case}
            if kinds & {"failure", "error"}:
                failed += 1
            elif "skipped" in kinds:
                skipped += 1
            else:
                passed += 1
    if rc != 0 and failed == 0:
        failed = 1  # pytest itself failed (collection error, no tests, crash)
    if passed == 0 and failed == 0:
        failed = 1
        print("no test ran", file=sys.stderr)
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
