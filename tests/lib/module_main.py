"""Run a module's main() in-process, as Ansible would, and read its JSON result."""
from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_main(module, args, capsys):
    """The result a module prints for these arguments (success or failure: both end in SystemExit)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)
