# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""List helpers the spec, the validation pass and the analysis share."""
from __future__ import annotations


def unique_in_order(items):
    """The first occurrence of each item, in order; items may be unhashable (dicts, lists)."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
