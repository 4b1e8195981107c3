#!/usr/bin/env python3
"""A loopback Helm chart repository serving Istio's real charts (tests/lib/istio_charts.py packages them),
or any given chart packages (the mesh UI stand-in charts, tests/lib/ui_charts.py).

The packages of the requested releases are indexed with `helm repo index` and served by a
small `http.server` on 127.0.0.1, so the roles install them through the same
"repository URL + chart + version" path as the official Istio repository.

From tests:
    with chart_repo.ChartRepo(tmp_path / "charts", versions=("1.24.0", "1.24.2")) as repo:
        repo.url   # http://127.0.0.1:PORT

From Molecule and `make demo` (detached, stopped by PID):
    tests/lib/chart_repo.py start STATE_DIR [--versions 1.24.0,1.24.2]   # writes STATE_DIR/{pid,url}
    tests/lib/chart_repo.py stop STATE_DIR
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # also run as a script (Molecule, make demo)

from tests.lib import istio_charts, pidfile as pidfiles  # noqa: E402

CHART_NAMES = tuple(istio_charts.CHART_DIRS)
# The Istio release the local istiod is built from (tools/istio), and an older one to upgrade from.
LOCAL_RELEASE = "1.24.2"
OLDER_RELEASE = "1.24.0"
DEFAULT_VERSIONS = (OLDER_RELEASE, LOCAL_RELEASE)


def helm_binary() -> str:
    local = REPO / ".tools/bin/helm"
    return str(local) if local.exists() else "helm"


def build(dest: Path, versions=DEFAULT_VERSIONS, charts=CHART_NAMES, packages=None) -> Path:
    """Copy the packages of every chart at every version (or the given packages) into dest and write dest/index.yaml."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if packages is None:
        built = {p.name: p for p in istio_charts.build()}
        packages = []
        for version in versions:
            for chart in charts:
                name = f"{chart}-{version}.tgz"
                if name not in built:
                    raise RuntimeError(f"no package {name}: add the release to tools/istio/releases.txt")
                packages.append(built[name])
    for package in packages:
        shutil.copy(package, dest / Path(package).name)
    env = dict(os.environ)
    for sub in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env.setdefault(sub, str(dest.parent / (".helm-" + sub.split("_")[1].lower())))
    subprocess.run([helm_binary(), "repo", "index", str(dest)], check=True, capture_output=True, text=True, env=env)
    return dest


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def serve_forever(directory: str, port: int = 0) -> None:
    """Serve directory on 127.0.0.1 and print `ready http://127.0.0.1:PORT` (child process entry point)."""
    handler = functools.partial(_QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.stdout.write("ready http://127.0.0.1:%d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _spawn(directory: Path, stdout, detached: bool) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_serve", str(directory)],
                            stdout=stdout, stderr=subprocess.DEVNULL, text=True, start_new_session=detached)


class ChartRepo:
    """Build the repository in workdir and serve it while the object is in use."""

    def __init__(self, workdir, versions=DEFAULT_VERSIONS, packages=None):
        self.dir = build(Path(workdir) / "repo", versions, packages=packages)
        self.versions = tuple(versions)
        self.proc = _spawn(self.dir, subprocess.PIPE, detached=False)
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError("chart repository did not start")
        self.url = line.split()[1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(state: Path, versions) -> int:
    state.mkdir(parents=True, exist_ok=True)
    stop(state)
    directory = build(state / "repo", versions)
    out = open(state / "stdout", "w")
    proc = _spawn(directory, out, detached=True)
    (state / "pid").write_text(str(proc.pid))
    deadline = time.time() + 30
    while time.time() < deadline:
        text = (state / "stdout").read_text()
        if text.startswith("ready "):
            url = text.split()[1]
            (state / "url").write_text(url)
            print("chart repository at %s (pid %d)" % (url, proc.pid))
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop(state)
    return 1


def stop(state: Path) -> int:
    pidfiles.stop(state / "pid", marker="chart_repo.py", grace_s=5)
    return 0


def main(argv) -> int:
    if argv[:1] == ["_serve"]:
        serve_forever(argv[1])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "build"])
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--versions", default=",".join(DEFAULT_VERSIONS))
    args = parser.parse_args(argv)
    versions = [v for v in args.versions.split(",") if v]
    if args.action == "build":
        build(args.state_dir, versions)
        return 0
    return start(args.state_dir, versions) if args.action == "start" else stop(args.state_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
