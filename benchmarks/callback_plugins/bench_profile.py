"""Ansible callback for `make bench`: per-task wall time and the number of task results, as JSON.

Enabled by benchmarks/ansible_runner.py with ANSIBLE_CALLBACKS_ENABLED=bench_profile; writes the file
named by BENCH_PROFILE_FILE when the play ends. A task's time runs from its start to the next task's
start (or the end of the run), as ansible.posix.profile_tasks measures it.
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_profile
type: aggregate
short_description: per-task times and task counts for make bench
description: Writes the tasks of the run with their wall time and result counts to BENCH_PROFILE_FILE.
requirements: [BENCH_PROFILE_FILE in the environment]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started = time.monotonic()
        self.tasks = []
        self.current = None
        self.results = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0, "items": 0}

    def _close(self):
        if self.current is not None:
            self.current["seconds"] = time.monotonic() - self.current.pop("_t0")
            self.tasks.append(self.current)
            self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        role = task._role.get_name() if task._role else ""
        self.current = {"task": task.get_name(), "role": role, "path": task.get_path() or "",
                        "results": 0, "skipped": 0, "items": 0, "_t0": time.monotonic()}

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _result(self, result, status):
        self.results[status] += 1
        if self.current is not None:
            self.current["skipped" if status == "skipped" else "results"] += 1

    def v2_runner_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def _item(self, result):
        self.results["items"] += 1
        if self.current is not None:
            self.current["items"] += 1

    v2_runner_item_on_ok = v2_runner_item_on_failed = v2_runner_item_on_skipped = _item

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("BENCH_PROFILE_FILE")
        if not path:
            return
        executed = self.results["ok"] + self.results["changed"] + self.results["failed"]
        with open(path, "w") as fh:
            json.dump({"wall_s": time.monotonic() - self.started, "tasks_executed": executed,
                       "results": self.results, "tasks": self.tasks}, fh, indent=1)
