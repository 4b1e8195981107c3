"""One test per Molecule scenario (molecule/*/molecule.yml): `molecule test -s NAME` must pass.

Each run gets its own state directory (ECO2_MOLECULE_STATE_DIR) and its output is kept in
tests/output/molecule-NAME.log. For node_join the join tokens the master stand-in issued are
then searched in every output and log of the run: they must appear nowhere.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.lib.ansible_run import REPO, TOOLS_BIN, VENV_BIN, ansible_env

SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))

pytestmark = pytest.mark.slow


def _run(name: str, state: Path) -> subprocess.CompletedProcess:
    # A short TMPDIR: ansible-core's local socket path must stay under 108 bytes (xdist paths are long).
    tmp = tempfile.mkdtemp(prefix=f"mol-{name[:8]}-", dir="/tmp")
    env = ansible_env({"ECO2_MOLECULE_STATE_DIR": str(state), "TMPDIR": tmp,
                       "PY_COLORS": "0", "MOLECULE_NO_LOG": "false"})
    env["PATH"] = f"{VENV_BIN}:{TOOLS_BIN}:{env['PATH']}"
    try:
        return subprocess.run([str(VENV_BIN / "molecule"), "test", "-s", name], cwd=REPO, env=env, text=True,
                              capture_output=True, timeout=1500, check=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _token_leaks(state: Path, texts: list[str]) -> list[str]:
    issued = state / "master/issued-tokens"
    assert issued.exists(), "the master stand-in issued no join token"
    tokens = [line.split()[0] for line in issued.read_text().splitlines() if line.strip()]
    assert tokens
    # The token Secret lives in the cluster's own store like on any cluster; everything else is searched.
    store = state / "cluster/etcd-data"
    logs = [p for p in state.rglob("*") if p.is_file() and p != issued and store not in p.parents]
    haystacks = texts + [p.read_text(errors="replace") for p in logs]
    return [t for t in tokens for h in haystacks if t in h or t.split(".")[1] in h]


@pytest.mark.parametrize("name", SCENARIOS)
def test_molecule_scenario(name, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    proc = _run(name, state)
    out = REPO / "tests/output"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"molecule-{name}.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    assert proc.returncode == 0, f"molecule test -s {name} failed:\n{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"
    if name == "node_join":
        assert not _token_leaks(state, [proc.stdout, proc.stderr]), "join token found in the run's output or logs"
