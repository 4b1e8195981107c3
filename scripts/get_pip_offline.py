"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip from a host this machine cannot reach; it runs
the cached copy with pip-style arguments (e.g. `--disable-pip-version-check
pip==25.2 --no-setuptools --no-wheel`). Here: ensurepip, then pip installs the
requested packages from the package index as usual.
"""
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    options = [a for a in args if a.startswith("-")]
    packages = [a for a in args if not a.startswith("-")]
    if packages:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *options, *packages])


if __name__ == "__main__":
    main()
