"""The tables: one per workload, then the targets, as Markdown."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Iterable

from .runner import Results
from .workloads import TARGETS, Sizes, Target, Workload


def render(
    results: Results,
    workloads: list[Workload],
    sizes: Sizes,
    rounds: int,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    parts = [_header(sizes, rounds, load)]
    for workload in workloads:
        parts.append(_workload_table(results, workload, sizes))
    keys = {workload.key for workload in workloads}
    targets = [target for target in TARGETS if target.workload in keys]
    if targets:
        parts.append(_targets_table(results, targets))
    if results.leaks:
        parts.append("Leaks (ended by the runner):\n\n" + _bullets(results.leaks))
    return "\n\n".join(parts) + "\n"


def _header(
    sizes: Sizes, rounds: int, load: tuple[tuple[float, ...], tuple[float, ...]]
) -> str:
    before, after = (", ".join(f"{x:.2f}" for x in avg) for avg in load)
    return (
        f"Python {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs; medians of {rounds} "
        f"round{'s' if rounds != 1 else ''}, implementations interleaved.  "
        f"Load average before: {before}; after: {after}."
    )


def _workload_table(results: Results, workload: Workload, sizes: Sizes) -> str:
    samples = results.samples.get(workload.key, {})
    errors = results.errors.get(workload.key, {})
    better = "higher" if workload.higher_is_better else "lower"
    reference = _median(samples.get(workload.reference or "", []))
    ratio_header = f" vs {workload.reference} |" if workload.reference else ""
    lines = [
        f"### {workload.key}: {workload.title(sizes)}",
        "",
        f"| implementation | median ({workload.unit}, {better} is better) "
        f"| min | max |{ratio_header}",
        "|---|---:|---:|---:|" + ("---:|" if workload.reference else ""),
    ]
    for name, values in samples.items():
        if name in errors:
            lines.append(f"| {name} | failed: {errors[name]} | | |")
            continue
        if not values:
            continue
        median = statistics.median(values)
        row = (
            f"| {name} | {_number(median)} | {_number(min(values))} "
            f"| {_number(max(values))} |"
        )
        if workload.reference:
            row += f" {_ratio(median, reference)} |"
        lines.append(row)
    return "\n".join(lines)


def _targets_table(results: Results, targets: Iterable[Target]) -> str:
    lines = [
        "### targets (ratios of the medians above)",
        "",
        "| target | measured | required | met |",
        "|---|---:|---:|:---:|",
    ]
    for target in targets:
        samples = results.samples.get(target.workload, {})
        value = _median(samples.get(target.numerator, []))
        if target.denominator is not None and value is not None:
            denominator = _median(samples.get(target.denominator, []))
            value = value / denominator if denominator else None
        op = "≥" if target.at_least else "≤"
        if value is None:
            measured, met = "n/a", "?"
        else:
            measured = _number(value)
            ok = value >= target.bound if target.at_least else value <= target.bound
            met = "yes" if ok else "**no**"
        lines.append(
            f"| {target.text} | {measured} | {op} {_number(target.bound)} | {met} |"
        )
    return "\n".join(lines)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(value: float, reference: float | None) -> str:
    if not reference:
        return ""
    return f"{value / reference:.2f}x"


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def python_description() -> str:
    return sys.version.split()[0]
