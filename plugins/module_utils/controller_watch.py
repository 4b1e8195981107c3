# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop a long-running module when the ansible-playbook that started it is gone.

A module runs as its own python process under an Ansible worker, itself a fork of ansible-playbook.
SIGKILL to ansible-playbook alone leaves the worker and the module running (the worker is reparented),
so a module that waits for minutes would keep polling, and writing, for nobody. The module watches the
controller (the topmost ansible process above it, pinned by its start time against PID reuse) and,
once it is gone, kills the commands it started (helm) and exits.
"""
from __future__ import annotations

import gc
import os
import signal
import threading
import time

CHECK_INTERVAL = 1.0
_WATCHED = {}  # pid -> the controller its watch thread watches


def _stat(pid):
    """(parent pid, start time, state) of a process, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[19], fields[0]


def _is_ansible(pid):
    """ansible-playbook (or another ansible CLI), run directly or by its interpreter."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return False
    return any(os.path.basename(arg).startswith("ansible") for arg in argv[:2])


def find_controller(pid=None):
    """(pid, start time) of the topmost ansible process above `pid` (default: this process), or None."""
    pid = os.getppid() if pid is None else pid
    found = None
    while pid > 1:
        stat = _stat(pid)
        if stat is None:
            break
        if _is_ansible(pid):
            found = (pid, stat[1])
        pid = stat[0]
    return found


def alive(controller):
    stat = _stat(controller[0])
    return stat is not None and stat[1] == controller[1]


def watch(interval=CHECK_INTERVAL, on_lost=None, grace=5.0):
    """Start a daemon thread that ends this process when the controller dies, after stopping the commands
    it started deepest first (see stop_deepest_first; this process goes on reading their output meanwhile).
    Returns the controller found, or None (not under ansible: nothing to watch)."""
    if os.getpid() in _WATCHED:  # in a worker, every loop item or retry of a task calls it again
        return _WATCHED[os.getpid()]
    controller = _WATCHED[os.getpid()] = find_controller()
    if controller is None or not os.path.isdir("/proc"):
        return None

    def loop():
        while alive(controller):
            time.sleep(interval)
        if on_lost:
            on_lost()
        stop_deepest_first({}, grace, root=os.getpid())
        os._exit(1)

    threading.Thread(target=loop, name="controller-watch", daemon=True).start()
    return controller


def process_tree():
    """{parent pid: [(pid, start time), ...]} of every live process: one read of /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat:
                parents.setdefault(stat[0], []).append((int(entry), stat[1]))
    return parents


def descendants(pid, tree=None):
    """{pid: (depth below `pid`, start time)} of every live process below `pid` (in `tree`, else read now)."""
    parents = process_tree() if tree is None else tree
    found, todo = {}, [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for kid, started in parents.get(parent, []):
            found[kid] = (depth + 1, started)
            todo.append((kid, depth + 1))
    return found


def _running(pid, started):
    """The process started at `started` is still there and not a zombie (a zombie has ended)."""
    stat = _stat(pid)
    return stat is not None and stat[2] != "Z" and stat[1] == started


def stop_deepest_first(known, grace, rounds=20, root=None):
    """SIGTERM the processes of {pid: (depth, start time)} level by level, deepest first, each level given
    `grace` seconds before SIGKILL. Deepest first because a command stopped gracefully still writes to the
    process that reads its output: helm, on SIGTERM inside an install, prints that the release was cancelled
    and then marks it failed; had its module gone first, that print would kill helm (SIGPIPE) with the
    release left pending-install. Before each level, what the survivors (and `root`, a process that is not
    itself stopped) started meanwhile joins the list; after `rounds` levels whatever is left is killed."""
    known, done = dict(known), set()
    for round_ in range(rounds + 1):
        tree = process_tree()
        if root is not None:
            for kid, below in descendants(root, tree).items():
                known.setdefault(kid, below)
        for pid, (depth, started) in list(known.items()):
            if _running(pid, started):
                for kid, (below, kid_started) in descendants(pid, tree).items():
                    known.setdefault(kid, (depth + below, kid_started))
        left = {p: v for p, v in known.items() if p not in done and _running(p, v[1])}
        if not left:
            return
        deepest = max(depth for depth, started in left.values())
        level = list(left) if round_ == rounds else [p for p, (depth, started) in left.items() if depth == deepest]
        done.update(level)
        for sig in (signal.SIGTERM, signal.SIGKILL) if round_ < rounds else (signal.SIGKILL,):
            for pid in level:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            deadline = time.monotonic() + grace
            while level and time.monotonic() < deadline:
                time.sleep(0.1)
                level = [p for p in level if _running(p, known[p][1])]
            if not level:
                break


def _guard(controller, interval, grace):
    known = {}
    while alive(controller):
        known = descendants(controller[0])
        known.pop(os.getpid(), None)
        time.sleep(interval)
    # The controller is gone: what it ran (workers in sessions of their own, modules, helm) goes too.
    stop_deepest_first(known, grace)


def start_guard(interval=0.5, grace=5.0):
    """Start a detached process that, once the controller dies, stops every process the run started
    (Ansible's workers call setsid(), so neither the controller's death nor a kill of its process group
    reaches them). Returns the controller's PID, or None when not under ansible."""
    controller = find_controller()
    if controller is None:
        return None
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return controller[0]
    try:
        os.setsid()
        # Run inside an Ansible worker (plugin_utils.in_worker), this process inherited the worker's handlers,
        # which on SIGTERM signal the worker's process group: the guard must just end.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if os.fork():
            os._exit(0)
        gc.freeze()  # forked from a worker, it shares ansible-playbook's heap: the collector must not copy it
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 65536)  # ansible reads the module's output until every copy of the pipe is closed
        _guard(controller, interval, grace)
    finally:
        os._exit(0)
