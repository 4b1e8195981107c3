"""The two sides on a local cluster: our playbook, and the floor (helm + one server-side apply + kubectl).

Each run is measured the same way: wall time of the commands, and the admin client's requests in the
audit log between its start and end (requests, writes, dry runs apart).
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import yaml

from benchmarks import audit_counts
from tests.lib.ansible_run import REPO, VENV_BIN, ansible_env
from tests.lib.localcluster import audit

PLAYBOOK = REPO / "playbooks/istio.yml"
RENDER_PLAYBOOK = REPO / "playbooks/render.yml"
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
KUBECTL = str(REPO / ".tools/bin/kubectl")
HELM = str(REPO / ".tools/bin/helm")
HEARTBEAT_S = 10
WAIT_TIMEOUT = "600s"


def say(message: str) -> None:
    print(time.strftime("%H:%M:%S ") + message, flush=True)


def _stream(cmd: list[str], env: dict, log: Path, what: str, cwd=REPO) -> int:
    """Run cmd with its output in log, saying every HEARTBEAT_S what it is doing (the last TASK line)."""
    with open(log, "a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True)
        started = last = time.monotonic()
        try:
            while proc.poll() is None:
                time.sleep(0.2)
                if time.monotonic() - last >= HEARTBEAT_S:
                    last = time.monotonic()
                    say("  %s: %3.0f s  %s" % (what, last - started, _last_task(log)))
        finally:
            if proc.poll() is None:  # interrupted: stop what we started
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return proc.returncode


def _last_task(log: Path) -> str:
    with open(log, "rb") as fh:
        fh.seek(max(0, log.stat().st_size - 20000))
        tail = fh.read().decode(errors="replace").splitlines()
    for line in reversed(tail):
        if line.startswith("TASK [") or line.startswith("$ "):
            return line.strip("* ")[:110]
    return ""


def measured(kube, run) -> dict:
    """{"wall_s", "requests", "writes", "dry_runs", "reads"} of run() on kube; run() raises on failure."""
    kube.clear_requests()
    offset = audit.size(kube.audit_log)
    started = time.monotonic()
    extra = run() or {}
    wall = time.monotonic() - started
    kube.clear_requests()  # lets the last completions land in the log
    counts = audit_counts.count_file(kube.audit_log, offset, kube.config["admin_user"])
    return dict(counts, wall_s=wall, **extra)


def playbook_env(kube, profile: Path | None = None) -> dict:
    # The controller's cache (the topology picture) starts empty with each cluster: a cold run is cold there too.
    extra = dict(kube.env(), XDG_CACHE_HOME=str(kube.workdir / "xdg-cache"))
    if profile is not None:
        extra.update({"ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "bench_profile",
                      "BENCH_PROFILE_FILE": str(profile)})
    return ansible_env(extra)


def playbook_cmd(inventory: Path, charts_url: str, *extra: str, playbook: Path = PLAYBOOK) -> list[str]:
    return [str(VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(inventory),
            "-e", json.dumps({"istio_chart_repo_url": charts_url}), *extra]


def render(inventory: Path, charts_url: str, dest: Path, log: Path) -> None:
    """Our render mode: the Helm values and bundles the floor applies (contacts nothing)."""
    env = ansible_env({"K8S_AUTH_KUBECONFIG": str(dest / "no-such-kubeconfig")})
    cmd = playbook_cmd(inventory, charts_url, "-e", json.dumps({"mesh_render_dir": str(dest)}), playbook=RENDER_PLAYBOOK)
    if _stream(cmd, env, log, "render") != 0:
        raise RuntimeError(f"render mode failed; see {log}")


def seed(kube, objects: list[dict], dest: Path) -> None:
    """The apps that exist before the migration, applied and Available (not measured)."""
    manifest = dest / "seed.yaml"
    manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    kube.kubectl("apply", "--server-side", "-f", str(manifest))
    kube.kubectl("wait", "--for=condition=Available", "deployment", "--all", "--all-namespaces",
                 f"--timeout={WAIT_TIMEOUT}")


def ours(kube, inventory: Path, charts_url: str, log: Path, profile: Path, what: str) -> dict:
    def run():
        rc = _stream(playbook_cmd(inventory, charts_url), playbook_env(kube, profile), log, what)
        if rc != 0:
            raise RuntimeError(f"{what}: ansible-playbook failed (rc={rc}); see {log}")
        data = json.loads(profile.read_text())
        return {"tasks": data["tasks_executed"], "loop_items": data["results"]["items"],
                "changed": data["results"]["changed"]}
    return measured(kube, run)


def floor_commands(render_dir: Path, kubeconfig: str, cache_dir: str) -> list[list[str]]:
    """The fastest direct way to the same state, as commands (one list per process)."""
    kubectl = [KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", cache_dir]
    cmds = []
    for rel in yaml.safe_load((render_dir / "helm/releases.yaml").read_text()):
        cmds.append([HELM, "upgrade", "--install", rel["release"], rel["chart"], "--repo", rel["repository"],
                     "--version", str(rel["version"]), "--namespace", rel["namespace"], "--create-namespace",
                     "--values", str(render_dir / "helm" / f"{rel['release']}.values.yaml"),
                     "--wait", "--timeout", WAIT_TIMEOUT, "--kubeconfig", kubeconfig])
    bundles = sorted(p for p in (render_dir / "manifests").glob("*.yaml") if p.name != INJECTION_MANIFEST)
    apply = kubectl + ["apply", "--server-side"]
    for path in bundles:
        apply += ["-f", str(path)]
    cmds.append(apply)
    namespaces = injected_namespaces(render_dir)
    cmds.append(kubectl + ["label", "namespace", *namespaces, "istio-injection=enabled", "--overwrite"])
    for ns in namespaces:
        cmds.append(kubectl + ["rollout", "restart", "deployment", "--namespace", ns, "--selector", RESTART_SELECTOR])
    for ns in namespaces:
        cmds.append(kubectl + ["rollout", "status", "deployment", "--namespace", ns, "--selector", RESTART_SELECTOR,
                               f"--timeout={WAIT_TIMEOUT}"])
    return cmds


# The render output's injection file lists the Namespaces to label; the floor labels them with kubectl.
INJECTION_MANIFEST = "60-sidecar-injection.yaml"
# Every Deployment of a namespace (an empty selector is refused by `rollout restart` without names).
RESTART_SELECTOR = "app"


def injected_namespaces(render_dir: Path) -> list[str]:
    docs = yaml.safe_load_all((render_dir / "manifests" / INJECTION_MANIFEST).read_text())
    return [d["metadata"]["name"] for d in docs if d and d.get("kind") == "Namespace"]


def floor(kube, render_dir: Path, log: Path, what: str) -> dict:
    cmds = floor_commands(render_dir, kube.kubeconfig, kube.cache_dir)

    def run():
        env = dict(kube.env())
        for cmd in cmds:
            rc = _stream(cmd, env, log, what)
            if rc != 0:
                raise RuntimeError(f"{what}: {' '.join(cmd[:6])} ... failed (rc={rc}); see {log}")
        return {"commands": len(cmds)}
    return measured(kube, run)
