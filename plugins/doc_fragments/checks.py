# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # What the modules that run a list of named checks return (module_utils/check_results.py).
    RETURN = r"""
checks:
  description: One entry per check with its outcome.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name.
      type: str
    status:
      description: C(ok), C(warn) or C(fail).
      type: str
    message:
      description: What was found.
      type: str
report:
  description: "Human-readable lines, one per check: C([<status>] <name>: <message>)."
  returned: always
  type: list
  elements: str
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
"""
