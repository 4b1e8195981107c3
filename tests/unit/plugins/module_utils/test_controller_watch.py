"""controller_watch on real processes: a fake controller named ansible-playbook, a module-like child."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from ansible_collections.eco2.mesh.plugins.module_utils import controller_watch

REPO_COLLECTIONS = os.path.join(os.path.dirname(__file__), "../../../../.tools/collections")


def test_no_controller_outside_ansible():
    assert controller_watch.find_controller() is None
    assert controller_watch.watch() is None


def test_module_and_its_command_stop_when_the_controller_is_killed(tmp_path):
    # ansible-playbook -> worker -> module (watching) -> a long command, as Ansible runs them.
    module = tmp_path / "module.py"
    module.write_text(textwrap.dedent(f"""
        import subprocess, sys, time
        sys.path.insert(0, {os.path.abspath(REPO_COLLECTIONS)!r})
        from ansible_collections.eco2.mesh.plugins.module_utils import controller_watch
        assert controller_watch.watch(interval=0.2) is not None
        cmd = subprocess.Popen(["sleep", "300"])
        open({str(tmp_path / 'pids')!r}, "w").write("%d %d" % (__import__("os").getpid(), cmd.pid))
        time.sleep(300)
    """))
    worker = tmp_path / "worker.py"
    worker.write_text("import subprocess, sys; subprocess.run([sys.executable, sys.argv[1]])\n")
    controller = tmp_path / "ansible-playbook"
    controller.write_text("import subprocess, sys; subprocess.run([sys.executable, sys.argv[1], sys.argv[2]])\n")
    proc = subprocess.Popen([sys.executable, str(controller), str(worker), str(module)])
    try:
        deadline = time.time() + 30
        while not (tmp_path / "pids").exists() or not (tmp_path / "pids").read_text():
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.05)
        module_pid, cmd_pid = map(int, (tmp_path / "pids").read_text().split())
        os.kill(proc.pid, signal.SIGKILL)  # the controller alone, as `kill -9 <ansible-playbook>` does
        proc.wait()
        deadline = time.time() + 5
        while (alive(module_pid) or alive(cmd_pid)) and time.time() < deadline:
            time.sleep(0.1)
        assert not alive(module_pid) and not alive(cmd_pid)
    finally:
        if proc.poll() is None:
            proc.kill()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cancellable_command(tmp_path):
    """A command that, on SIGTERM, prints "cancelled" to its reader (as helm does), then writes `reported`."""
    command = tmp_path / "command.py"
    command.write_text(textwrap.dedent(f"""
        import signal, sys, time
        def cancelled(*_):
            time.sleep(0.3)
            print("cancelled", flush=True)  # BrokenPipeError if its reader is gone
            open({str(tmp_path / 'reported')!r}, "w").write("yes")
            sys.exit(1)
        signal.signal(signal.SIGTERM, cancelled)
        open({str(tmp_path / 'ready')!r}, "w").write("yes")
        time.sleep(300)
    """))
    return command


def test_a_command_stopped_first_can_still_report_to_its_reader(tmp_path):
    # reader -> command; the command, on SIGTERM, prints to the reader, then records that it could.
    command = cancellable_command(tmp_path)
    reader = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; "
                               "p = subprocess.Popen([sys.executable, sys.argv[1]], stdout=subprocess.PIPE); "
                               "[None for _ in p.stdout]; p.wait()", str(command)])
    try:
        deadline = time.time() + 30
        while not (tmp_path / "ready").exists() and time.time() < deadline:
            time.sleep(0.05)
        ours = controller_watch.descendants(os.getpid())
        known = {p: v for p, v in ours.items() if p == reader.pid or p in controller_watch.descendants(reader.pid)}
        assert sorted(depth for depth, started in known.values()) == [1, 2]
        controller_watch.stop_deepest_first(known, grace=5)
        reader.wait(10)
        assert (tmp_path / "reported").read_text() == "yes"
    finally:
        if reader.poll() is None:
            reader.kill()


def test_a_module_whose_controller_died_lets_its_command_report_before_it_ends(tmp_path):
    # ansible-playbook -> module (watching) -> a command that, on SIGTERM, prints that it was cancelled (as helm does).
    command = cancellable_command(tmp_path)
    module = tmp_path / "module.py"
    module.write_text(textwrap.dedent(f"""
        import subprocess, sys
        sys.path.insert(0, {os.path.abspath(REPO_COLLECTIONS)!r})
        from ansible_collections.eco2.mesh.plugins.module_utils import controller_watch
        assert controller_watch.watch(interval=0.2) is not None
        cmd = subprocess.Popen([sys.executable, {str(command)!r}], stdout=subprocess.PIPE, text=True)
        for line in cmd.stdout:
            open({str(tmp_path / 'read')!r}, "a").write(line)
    """))
    controller = tmp_path / "ansible-playbook"
    controller.write_text("import subprocess, sys; subprocess.run([sys.executable, sys.argv[1]])\n")
    proc = subprocess.Popen([sys.executable, str(controller), str(module)])
    try:
        deadline = time.time() + 30
        while not (tmp_path / "ready").exists():
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 10
        while not (tmp_path / "read").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "reported").read_text() == "yes"
        assert (tmp_path / "read").read_text() == "cancelled\n"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_what_the_root_starts_while_its_commands_stop_is_stopped_too(tmp_path):
    # root (a module whose controller died, not itself stopped) -> a command that takes 1.5 s to stop; meanwhile
    # the root starts a second command, which must not be left running.
    pids = tmp_path / "pids"
    root = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, subprocess, sys, time
        first = subprocess.Popen([sys.executable, "-c", "import signal, sys, time; "
                                  "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(1.5), sys.exit(0))); "
                                  "open({str(tmp_path / 'ready')!r}, 'w').close(); time.sleep(300)"])
        while not os.path.exists({str(tmp_path / 'stopping')!r}):
            time.sleep(0.05)
        time.sleep(0.5)  # the first command is within its 1.5 s of stopping
        second = subprocess.Popen(["sleep", "300"])
        open({str(pids)!r}, "w").write(str(second.pid))
        time.sleep(300)
    """)])
    try:
        deadline = time.time() + 30
        while not (tmp_path / "ready").exists():
            assert time.time() < deadline and root.poll() is None
            time.sleep(0.05)
        (tmp_path / "stopping").touch()
        controller_watch.stop_deepest_first({}, grace=5, root=root.pid)
        assert root.poll() is None  # the root is not stopped
        second = int(pids.read_text())
        assert not alive(second)
    finally:
        for pid in controller_watch.descendants(root.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        root.kill()
