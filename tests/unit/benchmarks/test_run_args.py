"""make bench: which sizes a run measures."""
from __future__ import annotations

import pytest

from benchmarks import run


def test_default_is_the_eco2_spec_then_the_generated_sizes():
    assert run.parse_sizes(None, False, 7) == [7, 50, 200, 500]


def test_quick_is_the_eco2_size_alone_whatever_the_sizes():
    assert run.parse_sizes("7,50", True, 7) == [7]


def test_sizes_are_sorted_and_deduplicated():
    assert run.parse_sizes("50, 7,50", False, 7) == [7, 50]


@pytest.mark.parametrize("text", ["1", "7,x", ","])
def test_bad_sizes_name_the_option(text):
    with pytest.raises(SystemExit, match="--sizes"):
        run.parse_sizes(text, False, 7)
