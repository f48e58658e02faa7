"""``chorus design PATH``: the experimental design behind each choice-experiment step, so a
coordinator can check it before launch: its D-error (against random designs of the same
size), level balance, blocks and every task."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click


@click.command("design")
@click.argument("path", type=click.Path(exists=True))
@click.option("--flow", "flow_id", default=None, help="Only this flow of a study.")
@click.option("--random-designs", type=click.IntRange(min=0), default=20, show_default=True,
              help="Random designs of the same size to compare the D-error with (0 to skip).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
def design_command(path: str, flow_id: str | None, random_designs: int, output_format: str) -> None:
    """Show the generated design of every choice-experiment step in a study or flow."""
    from bot.chat import open_target
    from flows.loader import LoadError
    from flows.steps.choice_experiment import ChoiceExperimentStep

    try:
        target = open_target(path)
    except LoadError as error:
        raise click.ClickException("\n".join(map(str, error.problems))) from None
    found = [
        (fid, step) for fid, loaded in target.flows.items() if flow_id in (None, fid)
        for step in loaded.flow.steps if isinstance(step, ChoiceExperimentStep)
    ]
    if not found:
        raise click.ClickException("no choice_experiment steps here")
    reports = [_report(fid, step, random_designs) for fid, step in found]
    if output_format == "json":
        click.echo(json.dumps({"designs": reports}, indent=2, ensure_ascii=False))
        return
    for report in reports:
        click.echo(f"{report['flow']}/{report['step']}: {report['tasks']} tasks in {report['blocks']} block(s), "
                   f"{report['alternatives']} alternatives{' + neither' if report['opt_out'] else ''}")
        click.echo(f"  D-error {report['d_error']:.4f}" + (
            f" (median of {random_designs} random designs: {report['random_median_d_error']:.4f})"
            if report.get("random_median_d_error") is not None else ""))
        for attribute, counts in report["level_counts"].items():
            click.echo(f"  {attribute}: " + ", ".join(f"{level} x{n}" for level, n in counts.items()))
        for task in report["rows"]:
            click.echo(f"  block {task['block'] + 1} task {task['task'] + 1}: "
                       + " | ".join(", ".join(str(v) for v in alt.values()) for alt in task["alternatives"]))


def _report(flow_id: str, step: Any, random_designs: int) -> dict[str, Any]:
    import numpy as np

    from flows.analysis.dce_design import random_design

    design = step.design()
    counts: dict[str, Counter[str]] = {name: Counter() for name in step.attributes}
    rows = []
    for task in range(design.levels.shape[0]):
        alternatives = step.profiles(task)
        for profile in alternatives:
            for name, level in profile.items():
                counts[name][str(level)] += 1
        rows.append({"task": task, "block": int(design.blocks[task]), "alternatives": alternatives})
    report: dict[str, Any] = {
        "flow": flow_id, "step": step.id, "tasks": int(design.levels.shape[0]), "blocks": step.blocks,
        "alternatives": step.alternatives, "opt_out": step.opt_out, "d_error": design.d_error,
        "dominated_tasks": design.dominated_tasks(),
        "level_counts": {name: dict(sorted(c.items())) for name, c in counts.items()}, "rows": rows,
    }
    if random_designs:
        errors = [random_design(design.spec, seed=seed).d_error for seed in range(random_designs)]
        report["random_median_d_error"] = float(np.median(errors))
    return report


def register(cli: click.Group) -> None:
    cli.add_command(design_command)
