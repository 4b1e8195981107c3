# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() inside the Ansible worker when the task would run it on the controller anyway.

A module task normally costs a new Python process: the AnsiballZ payload is built, unpacked and started,
then ansible's module_utils and the kubernetes library (0.4 to 0.9 s) are imported, for every task. When
the task runs through the local connection with the controller's own interpreter, that process would be
the same Python with the same packages, so the module's main() is called in the worker instead: the
worker is a fork of ansible-playbook, which imported the module (and kubernetes) once, when the strategy
loaded this action plugin. The module sees the arguments it would have been sent (check and diff mode,
no_log, verbosity) and its result is parsed as a separate process's would be.

Anything else (another connection or interpreter, become, async, a task environment, delegation to a
host whose interpreter is not the controller's, or mesh_module_in_worker false) runs the module as usual.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import sys

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

try:  # the module and result API of ansible-core 2.21; older ones run the module as a process
    from ansible._internal._task import UnifiedTaskResult
    from ansible.module_utils._internal._ansiballz import _loader as ansiballz_loader
    from ansible.module_utils.common.json import Direction, get_module_encoder
    SUPPORTED = all(hasattr(UnifiedTaskResult, name) for name in ("remove_internal_keys", "as_result_dict"))
except ImportError:
    SUPPORTED = False

# What ansible's module builder gives a module without serialization metadata (all of ours).
PROFILE = "legacy"
SWITCH = "mesh_module_in_worker"


def _same_interpreter(path):
    # Not realpath: a virtualenv's python is a symlink to a base interpreter without the venv's packages.
    return isinstance(path, str) and os.path.normpath(os.path.abspath(path)) == os.path.normpath(os.path.abspath(sys.executable))


@contextlib.contextmanager
def exit_functions():
    """Run what the module registers with atexit once it is done, as its process's exit would.

    The worker ends with os._exit, which runs no exit function: the kubernetes client writes a kubeconfig's
    embedded client key to a temporary file and removes it only at exit. Exit functions registered before
    (ansible-playbook's own, inherited by the fork) are not the module's and are left alone.
    """
    registered = []
    real = atexit.register

    def register(func, *args, **kwargs):
        registered.append((func, args, kwargs))
        return func

    atexit.register = register
    try:
        yield
    finally:
        atexit.register = real
        for func, args, kwargs in reversed(registered):
            try:
                func(*args, **kwargs)
            except Exception:  # pylint: disable=broad-except  # at exit, an error is printed and ignored
                pass


def _exit_code(exc):
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


class InWorkerModule(ActionBase):
    """Action plugin base; a module's action plugin sets `module_main = staticmethod(<module>.main)`."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True
    module_main = None

    def _host_vars(self, task_vars):
        delegate = self._task.delegate_to
        if delegate:
            return (task_vars.get("ansible_delegated_vars") or {}).get(delegate)
        return task_vars

    def in_worker(self, task_vars):
        """True when running main() here is what running the module would have done."""
        if not SUPPORTED or self._task.async_val or any(self._task.environment or []) or self._play_context.become:
            return False
        if getattr(self._connection, "transport", None) != "local":
            return False
        host_vars = self._host_vars(task_vars)
        if host_vars is None:
            return False
        if not boolean(self._templar.template(task_vars.get(SWITCH, True)), strict=False):
            return False
        return _same_interpreter(self._templar.template(host_vars.get("ansible_python_interpreter")))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        if not self.in_worker(task_vars):
            result.update(self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        result.update(self._run_main(task_vars))
        return result

    def _run_main(self, task_vars):
        module_args = dict(self._task.args)
        self._update_module_args(self._task.resolved_action or self._task.action, module_args, task_vars)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        # The worker is a fork of ansible-playbook: these globals are this task's alone.
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()
        basic._ANSIBLE_PROFILE = PROFILE
        module_warnings._global_warnings.clear()
        module_warnings._global_deprecations.clear()
        # What a library prints to stderr (urllib3's retry warnings) is the module's stderr, as in a process.
        stdout, stderr, rc = io.StringIO(), io.StringIO(), 0
        with exit_functions(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                try:
                    self.module_main()
                    raise RuntimeError("New-style module did not handle its own exit.")
                except Exception as exc:  # pylint: disable=broad-except  # as AnsiballZ reports it: failed, with the exception
                    ansiballz_loader._handle_exception(exc, PROFILE)
            except SystemExit as exc:
                rc = _exit_code(exc)
        utr = self._parse_returned_data(dict(stdout=stdout.getvalue(), stderr=stderr.getvalue(), rc=rc), PROFILE)
        utr.remove_internal_keys()
        return utr.as_result_dict(for_round_trip=True)
