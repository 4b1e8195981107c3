"""Quality gates of `make test`: each is one test so the final count includes them."""
from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import ansible_collections.kubernetes.core as k8s_core
import pytest
import yaml

from tests.lib.ansible_run import REPO, ansible_env

pytestmark = pytest.mark.quality

SANITY_PIP_BOOTSTRAP = REPO / "scripts/get_pip_offline.py"


def _run(cmd, cwd=REPO, env=None, timeout=1200):
    proc = subprocess.run(cmd, cwd=cwd, env=env or ansible_env(), text=True, capture_output=True,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def built_tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    rc, log = _run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(out)])
    assert rc == 0, log
    (tarball,) = out.glob("eco2-mesh-*.tar.gz")
    return tarball


def test_yamllint():
    rc, log = _run(["yamllint", "--strict", "."])
    assert rc == 0, log


def test_ansible_lint_production_profile():
    rc, log = _run(["ansible-lint", "--profile", "production", "--offline", "-q"])
    assert rc == 0, log


def test_changelog_fragments_lint():
    rc, log = _run(["antsibull-changelog", "lint"])
    assert rc == 0 and not log.strip(), log


def test_tarball_holds_only_what_users_install(built_tarball):
    with tarfile.open(built_tarball) as tar:
        names = tar.getnames()
    forbidden = ("tests/", "tools/", ".venv/", ".tools/", ".cache/", "molecule/", "scripts/", ".ci/", ".git/",
                 "inventory/", "benchmarks/", "docs/local-cluster.md")
    leaked = [n for n in names if n.startswith(forbidden) or "__pycache__" in n or n.endswith(".pyc")]
    assert not leaked, leaked
    for needed in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "README.md", "LICENSE",
                   "playbooks/istio.yml", "playbooks/render.yml"):
        assert needed in names, f"{needed} missing from {built_tarball.name}"
    assert any(n.startswith("plugins/modules/") for n in names)
    assert any(n.startswith("roles/") for n in names)


def _shipped_plugins(root: Path) -> list[tuple[str, str]]:
    plugins = []
    for kind, folder in (("module", "modules"), ("filter", "filter"), ("inventory", "inventory"),
                         ("lookup", "lookup"), ("test", "test")):
        base = root / "plugins" / folder
        if not base.is_dir():
            continue
        for path in sorted(base.iterdir()):
            if path.name.startswith("_") or path.suffix not in (".py", ".yml"):
                continue
            if kind in ("filter", "test"):
                if path.suffix != ".yml":
                    continue  # a filter file may hold several filters; each documented in its own .yml
                doc = yaml.safe_load(path.read_text())["DOCUMENTATION"]
                plugins.append((kind, doc["name"]))
            elif path.suffix == ".py":
                plugins.append((kind, path.stem))
    return plugins


def test_install_offline_and_ansible_doc_every_plugin(built_tarball, tmp_path):
    dest = tmp_path / "collections"
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(dest)})
    env.pop("ANSIBLE_CONFIG")  # the checkout's ansible.cfg would point at the checkout itself
    rc, log = _run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(dest), str(built_tarball)],
                   env=env, cwd=tmp_path)
    assert rc == 0, log
    installed = dest / "ansible_collections/eco2/mesh"
    assert (installed / "MANIFEST.json").is_file(), log
    plugins = _shipped_plugins(installed)
    assert plugins, "no plugins shipped"
    for kind, name in plugins:
        rc, log = _run(["ansible-doc", "-t", kind, f"eco2.mesh.{name}"], env=env, cwd=tmp_path)
        assert rc == 0 and f"eco2.mesh.{name}" in log.replace("\n", " "), f"ansible-doc -t {kind} eco2.mesh.{name}:\n{log}"
    rc, log = _run(["ansible-doc", "-t", "role", "-l", "eco2.mesh"], env=env, cwd=tmp_path)
    assert rc == 0, log


def test_ansible_test_sanity(built_tarball, tmp_path):
    """ansible-test sanity on the shipped content plus the unit tests, laid out as ansible_collections/eco2/mesh."""
    tree = tmp_path / "ansible_collections/eco2/mesh"
    tree.mkdir(parents=True)
    with tarfile.open(built_tarball) as tar:
        tar.extractall(tree, filter="data")
    for extra in ("tests/unit", "tests/sanity", "changelogs"):
        if (REPO / extra).exists():
            shutil.copytree(REPO / extra, tree / extra, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for generated in ("MANIFEST.json", "FILES.json"):
        (tree / generated).unlink()
    shutil.copy(REPO / "galaxy.yml", tree / "galaxy.yml")
    # The collections we depend on (galaxy.yml) beside ours, where ansible-test looks for their doc fragments
    # and module_utils: kubernetes.core's connection options document our modules' options.
    shutil.copytree(Path(list(k8s_core.__path__)[0]), tmp_path / "ansible_collections/kubernetes/core",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"))
    # ansible-test fetches a pip bootstrap script from a host we cannot reach; give it a local one.
    cache = Path.home() / ".ansible/test/cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in ("25_2", "25_3", "25_1", "24_3", "24_2"):
        shutil.copy(SANITY_PIP_BOOTSTRAP, cache / f"get_pip_{version}.py")
    env = ansible_env()
    env.pop("ANSIBLE_COLLECTIONS_PATH")
    env.pop("ANSIBLE_CONFIG")
    rc, log = _run(["ansible-test", "sanity", "--python", "3.12", "--color", "no", "--skip-test", "shellcheck"],
                   cwd=tree, env=env, timeout=1500)
    errors = [line for line in log.splitlines() if line.startswith(("ERROR", "FATAL"))]
    assert rc == 0, "\n".join(errors) or log[-5000:]
