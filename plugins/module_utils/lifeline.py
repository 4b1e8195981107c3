# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notice when the ansible-playbook that started a module is gone, so a long wait stops with it.

A module runs under a shell under an Ansible worker under ansible-playbook; killing only
ansible-playbook leaves the others running, and a module that waits (rollouts, sidecars) would
go on for its whole timeout. The module records its ancestors once and checks them between looks.
"""
from __future__ import annotations

import os


def _stat(pid):
    """(parent pid, start time) of a process from /proc, or None when it is gone or /proc is absent."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[19]


class Lifeline:
    """The chain of ancestor processes (pid, start time) up to init, as seen at creation."""

    def __init__(self, pid=None):
        self.chain = []
        current = _stat(pid or os.getpid())
        while current and current[0] > 1:
            parent = current[0]
            current = _stat(parent)
            if current is None:
                break
            self.chain.append((parent, current[1]))

    def broken(self):
        """The first ancestor pid that is gone (or replaced by another process), else None."""
        for pid, started in self.chain:
            now = _stat(pid)
            if now is None or now[1] != started:
                return pid
        return None
