"""Reuse test results for an identical tree (pytest plugin, loaded by tests/conftest.py).

`make test` on a tree whose every file, pinned package and tool is byte-for-byte the
same as in an earlier run re-reports that run's passes instead of re-running them:
the fingerprint covers the content of every tracked and untracked (not ignored) file,
constraints.txt, the Python version and the helm/kubectl binaries. Any change to any
of them means a new fingerprint, and everything runs. Failures are never reused.

    make test                    # reuse passes of an identical tree
    ECO2_FRESH=1 make test       # run everything (CI clones fresh, so it always runs everything)
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _pytest.reports import TestReport

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache/test-results"


def fingerprint() -> str:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.split(b"\0")
    digest = hashlib.sha256(sys.version.encode())
    for name in sorted(f for f in files if f):
        path = REPO / name.decode()
        digest.update(name)
        if path.is_file() and not path.is_symlink():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        elif path.is_symlink():
            digest.update(os.readlink(path).encode())
    # The binaries and chart packages are built from pinned inputs (tracked above); their size and
    # mtime stand for their content so a rebuild still changes the fingerprint without hashing ~500 MB.
    for tool in sorted((REPO / ".tools/bin").glob("*")) + sorted((REPO / ".tools/charts").glob("*.tgz")):
        stat = tool.stat()
        digest.update(f"{tool.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


class ResultCache:
    def __init__(self, config):
        self.config = config
        self.fresh = bool(os.environ.get("ECO2_FRESH")) or bool(os.environ.get("CI"))
        self.fp = fingerprint()
        self.path = CACHE / f"{self.fp}.json"
        self.known = set() if self.fresh or not self.path.exists() else set(json.loads(self.path.read_text()))
        self.passed: set[str] = set()
        self.failed: set[str] = set()
        self.reused = 0

    def pytest_report_header(self, config):
        mode = "fresh run" if self.fresh else f"{len(self.known)} passes reusable"
        return f"eco2.mesh tree fingerprint {self.fp} ({mode})"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if item.nodeid not in self.known:
            return None
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for when in ("setup", "call", "teardown"):
            report = TestReport(item.nodeid, item.location, {k: 1 for k in item.keywords}, "passed", None, when,
                                sections=[("eco2.mesh", "reused from an identical tree")] if when == "call" else [],
                                duration=0.0, start=time.time(), stop=time.time())
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(report.nodeid)
        elif report.when == "call" and report.passed:
            self.passed.add(report.nodeid)
            if report.nodeid in self.known:
                self.reused += 1

    def pytest_sessionfinish(self, session):
        if hasattr(self.config, "workerinput"):
            return  # xdist workers report to the controller, which records
        CACHE.mkdir(parents=True, exist_ok=True)
        keep = (self.known | self.passed) - self.failed
        self.path.write_text(json.dumps(sorted(keep)))

    def pytest_terminal_summary(self, terminalreporter):
        if self.reused:
            terminalreporter.write_line(
                f"eco2.mesh: {self.reused} passes reused from an identical tree (fingerprint {self.fp}); "
                "ECO2_FRESH=1 re-runs them")
