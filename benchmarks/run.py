"""`make bench`: ours against the floor, each on its own fresh local cluster seeded identically, per size.

    python -m benchmarks                 # the Eco² spec, then 50, 200 and 500 generated domains
    python -m benchmarks --quick         # the Eco² spec alone
    python -m benchmarks --sizes 7,50    # the Eco² size (7) is inventory/local; other sizes are generated

Writes results.json, table.md and the per-task profiles of our runs under --out, and ends with one
`bench <N> domains: ...` line per size.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import metrics, profile, sides, spec
from benchmarks.sides import say
from tests.lib import chart_repo, cluster as local_cluster
from tests.lib.localcluster.files import AUDIT_READS_ENV

GENERATED_SIZES = (50, 200, 500)
TOP_TASKS = 10


def parse_sizes(text: str | None, quick: bool, eco2: int) -> list[int]:
    if quick:
        return [eco2]
    if not text:
        return [eco2, *GENERATED_SIZES]
    try:
        sizes = sorted({int(word) for word in text.split(",") if word.strip()})
    except ValueError:
        raise SystemExit(f"--sizes: comma-separated domain counts (e.g. {eco2},50), got {text!r}")
    if not sizes or sizes[0] < 2:
        raise SystemExit(f"--sizes: every size must be at least 2 domains, got {text!r}")
    return sizes


def one_side(name: str, size: int, inventory: Path, objects: list[dict], work: Path, runner) -> dict:
    """A fresh cluster for one side: seed it, run cold then warm, stop it."""
    say(f"[{size} domains] {name}: starting a fresh local cluster")
    workdir = work / f"cluster-{name}-{size}"
    try:
        kube = local_cluster.start(inventory=str(inventory), workdir=str(workdir))
    except BaseException:  # interrupted while starting: stop whatever the start left running
        subprocess.run([sys.executable, str(local_cluster.CLI), "stop", str(workdir)], cwd=spec.REPO,
                       capture_output=True, check=False)
        raise
    try:
        sides.seed(kube, objects, work)
        result = {}
        for run in ("cold", "warm"):
            say(f"[{size} domains] {name} {run}: running")
            result[run] = runner(kube, run)
            r = result[run]
            say(f"[{size} domains] {name} {run}: {r['wall_s']:.1f} s, {r['requests']} requests, "
                f"{r['writes']} writes, {r['dry_runs']} dry runs"
                + (f", {r['tasks']} tasks" if "tasks" in r else ""))
        return result
    finally:
        kube.stop()


def bench_size(size: int, charts_url: str, work: Path, out: Path) -> dict:
    size_out = out / f"{size}-domains"
    size_out.mkdir(parents=True, exist_ok=True)
    inventory, mesh = spec.inventory_for(size, work)
    render_dir = work / f"render-{size}"
    shutil.rmtree(render_dir, ignore_errors=True)
    say(f"[{size} domains] rendering the Helm values and bundles (render mode)")
    sides.render(inventory, charts_url, render_dir, size_out / "render.log")
    objects = spec.seed_objects(mesh, spec.node_domains(inventory))

    def ours(kube, run):
        result = sides.ours(kube, inventory, charts_url, size_out / f"ours-{run}.log",
                            size_out / f"ours-{run}.profile.json", f"ours {run}")
        tasks = json.loads((size_out / f"ours-{run}.profile.json").read_text())["tasks"]
        (size_out / f"ours-{run}.profile.txt").write_text("\n".join(profile.top(tasks, count=len(tasks))) + "\n")
        return result

    def floor(kube, run):
        return sides.floor(kube, render_dir, size_out / f"floor-{run}.log", f"floor {run}")

    row = {"domains": size, "spec": "eco2" if inventory == spec.ECO2_INVENTORY else "generated",
           "ours": one_side("ours", size, inventory, objects, work, ours),
           "floor": one_side("floor", size, inventory, objects, work, floor)}
    (size_out / "result.json").write_text(json.dumps(row, indent=1))
    return row


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def report(rows: list[dict], out: Path, command: str) -> list[str]:
    summary = metrics.summarize(rows)
    fits = metrics.fits(rows)
    lines = [f"# make bench {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {machine()}", f"Command: `{command}`", "", metrics.table(rows), ""]
    for side, fit in fits.items():
        if fit:
            lines.append(f"- {side}: fitted cold cost {fit['slope_s_per_domain']:.3f} s per domain "
                         f"(intercept {fit['intercept_s']:.1f} s)")
    for row in rows:
        for run in ("cold", "warm"):
            path = out / f"{row['domains']}-domains" / f"ours-{run}.profile.json"
            tasks = json.loads(path.read_text())["tasks"]
            lines += ["", f"Slowest tasks, ours {run}, {row['domains']} domains:", "```",
                      *profile.top(tasks, TOP_TASKS), "```"]
    closing = [metrics.closing_line(row, item) for row, item in zip(sorted(rows, key=lambda r: r["domains"]), summary)]
    (out / "table.md").write_text("\n".join(lines + ["", "```", *closing, "```"]) + "\n")
    (out / "results.json").write_text(json.dumps({"command": command, "machine": machine(), "rows": rows,
                                                  "summary": summary, "fits": fits}, indent=1))
    print("\n".join(lines[5:]), flush=True)
    return closing


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the Eco² spec alone")
    parser.add_argument("--sizes", help="comma-separated domain counts (default: Eco², 50, 200, 500)")
    parser.add_argument("--out", type=Path, help="results directory (default: benchmarks/results/<UTC time>)")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes, args.quick, spec.eco2_size())
    out = args.out or spec.REPO / "benchmarks/results" / datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    command = "make bench" + ("" if not argv else " BENCH_ARGS='%s'" % " ".join(argv))
    # SIGTERM unwinds like Ctrl-C, so every cluster and the chart repository are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ[AUDIT_READS_ENV] = "1"  # the clusters this process starts log the admin client's reads too
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    say(f"sizes {sizes}; results in {out}; work in {work}")
    rows = []
    try:
        with chart_repo.ChartRepo(work / "charts", versions=(chart_repo.LOCAL_RELEASE,)) as charts:
            for size in sizes:
                rows.append(bench_size(size, charts.url, work, out))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if len(rows) < len(sizes):  # interrupted or failed: still report the sizes measured in full
            say(f"stopped before size {sizes[len(rows)]}; reporting the {len(rows)} size(s) measured")
            if rows:
                report(rows, out, command + "  (interrupted)")
    for line in report(rows, out, command):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
