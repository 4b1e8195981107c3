"""Ratios, marginal cost per extra domain, the linear fit, the table and the closing lines (pure)."""
from __future__ import annotations

NA = "n/a"


def ratio(ours: float, floor: float) -> float | None:
    """ours / floor; None when the floor took no measurable time (a ratio would mean nothing)."""
    if floor is None or ours is None or floor <= 0:
        return None
    return ours / floor


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of y over x; None with fewer than two distinct x."""
    xs = [x for x, _ in points]
    if len(set(xs)) < 2:
        return None
    n = len(points)
    mean_x = sum(xs) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def marginal(base: tuple[int, float], point: tuple[int, float]) -> float | None:
    """Seconds per extra domain from the smallest size to this one."""
    (n0, t0), (n1, t1) = base, point
    if n1 <= n0:
        return None
    return (t1 - t0) / (n1 - n0)


def summarize(rows: list[dict]) -> list[dict]:
    """Per size: the ratios and, above the smallest size, the marginal cost of each side and their ratio.

    rows: [{"domains": N, "ours": {"cold": {"wall_s": ..}, "warm": {..}}, "floor": {...}}, ...]
    """
    rows = sorted(rows, key=lambda r: r["domains"])
    base = rows[0] if rows else None
    out = []
    for row in rows:
        ours, floor = row["ours"], row["floor"]
        item = {
            "domains": row["domains"],
            "cold_ratio": ratio(ours["cold"]["wall_s"], floor["cold"]["wall_s"]),
            "warm_ratio": ratio(ours["warm"]["wall_s"], floor["warm"]["wall_s"]),
            "ours_marginal_s": None, "floor_marginal_s": None, "marginal_ratio": None,
        }
        if row is not base:
            item["ours_marginal_s"] = marginal((base["domains"], base["ours"]["cold"]["wall_s"]),
                                               (row["domains"], ours["cold"]["wall_s"]))
            item["floor_marginal_s"] = marginal((base["domains"], base["floor"]["cold"]["wall_s"]),
                                                (row["domains"], floor["cold"]["wall_s"]))
            if item["ours_marginal_s"] is not None and item["floor_marginal_s"] is not None:
                item["marginal_ratio"] = ratio(item["ours_marginal_s"], item["floor_marginal_s"])
        out.append(item)
    return out


def fits(rows: list[dict]) -> dict:
    """Fitted seconds per domain (cold) of each side over every measured size."""
    result = {}
    for side in ("ours", "floor"):
        fit = linear_fit([(r["domains"], r[side]["cold"]["wall_s"]) for r in rows])
        result[side] = None if fit is None else {"slope_s_per_domain": fit[0], "intercept_s": fit[1]}
    return result


def fmt(value: float | None, digits: int = 2) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def closing_line(row: dict, item: dict) -> str:
    """`bench <N> domains: cold_ratio=.. warm_ratio=.. marginal_ratio=.. warm_writes=.. warm_s=..`"""
    warm = row["ours"]["warm"]
    return (f"bench {row['domains']} domains: cold_ratio={fmt(item['cold_ratio'])} "
            f"warm_ratio={fmt(item['warm_ratio'])} marginal_ratio={fmt(item['marginal_ratio'])} "
            f"warm_writes={warm['writes']} warm_s={fmt(warm['wall_s'], 1)}")


TABLE_HEAD = ("| domains | run | ours s | floor s | ratio | ours requests | floor requests | ours writes "
              "| floor writes | ours dry runs | ours tasks | ours s/domain | floor s/domain | marginal ratio |")


def table(rows: list[dict]) -> str:
    """A Markdown table: one line per size and run (cold, warm)."""
    rows = sorted(rows, key=lambda r: r["domains"])
    lines = [TABLE_HEAD, _rule()]
    for row, item in zip(rows, summarize(rows)):
        for run in ("cold", "warm"):
            ours, floor = row["ours"][run], row["floor"][run]
            cold = run == "cold"
            lines.append("| %d | %s | %s | %s | %s | %d | %d | %d | %d | %d | %d | %s | %s | %s |" % (
                row["domains"], run, fmt(ours["wall_s"], 1), fmt(floor["wall_s"], 1),
                fmt(item[f"{run}_ratio"], 1) + "x" if item[f"{run}_ratio"] is not None else NA,
                ours["requests"], floor["requests"], ours["writes"], floor["writes"], ours["dry_runs"],
                ours.get("tasks", 0),
                fmt(item["ours_marginal_s"]) if cold else "", fmt(item["floor_marginal_s"]) if cold else "",
                (fmt(item["marginal_ratio"], 1) + "x" if item["marginal_ratio"] is not None else NA) if cold else ""))
    return "\n".join(lines)


def _rule() -> str:
    return "|" + "---|" * (TABLE_HEAD.count("|") - 1)
