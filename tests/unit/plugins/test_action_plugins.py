"""Every module has its action plugin, which runs that module's main() in the worker (plugin_utils.in_worker)."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from ansible_collections.eco2.mesh.plugins.plugin_utils.in_worker import InWorkerModule

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"
MODULES = sorted(p.stem for p in (PLUGINS / "modules").glob("*.py") if p.stem != "__init__")
# Modules whose action plugin does more than run the module (they gather controller-side data themselves).
OWN_ACTION = {"mesh_validate"}


def test_every_module_has_an_action_plugin():
    assert [m for m in MODULES if not (PLUGINS / "action" / (m + ".py")).exists()] == []
    assert sorted(p.stem for p in (PLUGINS / "action").glob("*.py") if p.stem != "__init__") == MODULES


@pytest.mark.parametrize("name", [m for m in MODULES if m not in OWN_ACTION])
def test_the_action_plugin_runs_its_own_module(name):
    action = importlib.import_module("ansible_collections.eco2.mesh.plugins.action." + name).ActionModule
    module = importlib.import_module("ansible_collections.eco2.mesh.plugins.modules." + name)
    assert issubclass(action, InWorkerModule)
    assert action.module_main is module.main


def test_exit_functions_the_module_registers_run_when_it_is_done_and_no_others():
    import atexit
    from ansible_collections.eco2.mesh.plugins.plugin_utils.in_worker import exit_functions
    ran = []
    before = atexit.register
    with exit_functions():
        atexit.register(ran.append, "first")
        atexit.register(ran.append, "second")
        assert ran == []  # not before the module is done
    assert ran == ["second", "first"]  # last registered first, as at exit
    assert atexit.register is before
    with exit_functions():
        atexit.register(lambda: 1 / 0)  # an error at exit is ignored, as at exit
        atexit.register(ran.append, "third")
    assert ran == ["second", "first", "third"]
