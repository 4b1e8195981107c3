"""make bench: ratios, marginal cost per extra domain, the fit and the closing lines."""
from __future__ import annotations

import pytest

from benchmarks import metrics


def run(wall_s, writes=0, requests=10, dry_runs=0, tasks=0):
    return {"wall_s": wall_s, "writes": writes, "requests": requests, "dry_runs": dry_runs, "tasks": tasks}


def row(domains, ours_cold, ours_warm, floor_cold, floor_warm, warm_writes=0):
    return {"domains": domains,
            "ours": {"cold": run(ours_cold, writes=40, tasks=90), "warm": run(ours_warm, writes=warm_writes, tasks=80)},
            "floor": {"cold": run(floor_cold, writes=30), "warm": run(floor_warm, writes=12)}}


ROWS = [row(50, 106.0, 50.0, 14.0, 12.0), row(7, 31.0, 22.0, 1.2, 1.1, warm_writes=3)]


def test_ratios_per_size_sorted_by_domains():
    small, large = metrics.summarize(ROWS)
    assert small["domains"] == 7 and large["domains"] == 50
    assert small["cold_ratio"] == pytest.approx(31.0 / 1.2)
    assert large["warm_ratio"] == pytest.approx(50.0 / 12.0)


def test_marginal_cost_only_above_the_smallest_size():
    small, large = metrics.summarize(ROWS)
    assert small["marginal_ratio"] is None and small["ours_marginal_s"] is None
    assert large["ours_marginal_s"] == pytest.approx((106.0 - 31.0) / 43)
    assert large["floor_marginal_s"] == pytest.approx((14.0 - 1.2) / 43)
    assert large["marginal_ratio"] == pytest.approx(75.0 / 12.8)


def test_no_ratio_against_a_floor_that_took_no_time_or_got_faster():
    assert metrics.ratio(3.0, 0.0) is None
    rows = [row(7, 10.0, 5.0, 2.0, 1.0), row(50, 30.0, 9.0, 1.5, 1.0)]  # the floor's marginal cost < 0
    assert metrics.summarize(rows)[1]["marginal_ratio"] is None


def test_linear_fit_recovers_slope_and_intercept():
    slope, intercept = metrics.linear_fit([(7, 2 * 7 + 5), (50, 2 * 50 + 5), (200, 2 * 200 + 5)])
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(5.0)
    assert metrics.linear_fit([(7, 1.0)]) is None
    fits = metrics.fits(ROWS)
    assert fits["ours"]["slope_s_per_domain"] == pytest.approx(75.0 / 43)


def test_closing_line_format():
    lines = [metrics.closing_line(r, s) for r, s in zip(sorted(ROWS, key=lambda r: r["domains"]),
                                                        metrics.summarize(ROWS))]
    assert lines == [
        "bench 7 domains: cold_ratio=25.83 warm_ratio=20.00 marginal_ratio=n/a warm_writes=3 warm_s=22.0",
        "bench 50 domains: cold_ratio=7.57 warm_ratio=4.17 marginal_ratio=5.86 warm_writes=0 warm_s=50.0",
    ]


def test_table_has_a_line_per_size_and_run():
    text = metrics.table(ROWS).splitlines()
    assert text[0] == metrics.TABLE_HEAD
    assert len(text) == 2 + 4
    assert text[2].startswith("| 7 | cold | 31.0 | 1.2 | 25.8x |")
    assert text[5].startswith("| 50 | warm | 50.0 | 12.0 | 4.2x |")
    assert all(line.count("|") == metrics.TABLE_HEAD.count("|") for line in text)
