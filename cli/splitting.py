"""``--method splitting`` of ``levydyn escape``, ``exit-axis`` and ``wells``: rows of
:func:`levydyn.rare.split` estimates (generalised AMS) printed and written as JSON.

The commands build their problems and theory as usual and hand them here; this module
only parses its two options, calls the library and prints. JSON schema:
:data:`SPLITTING_SCHEMA` (the ``--json`` file of a ``--method splitting`` run).
"""
from __future__ import annotations

import click

from cli.common import exit_if_interrupted, format_table, library_errors, write_json
from cli.runs import fmt, fmt_est, row_seed
from cli.types import Int

SPLITTING_SCHEMA = {
    "type": "object",
    "required": ["command", "method", "estimator", "rows", "interrupted"],
    "properties": {
        "command": {"enum": ["escape", "exit-axis", "wells"]},
        "method": {"const": "splitting"},
        "estimator": {"const": "gAMS"},
        "interrupted": {"type": "boolean"},
        "rows": {"type": "array", "items": {
            "type": "object",
            "required": ["label", "result", "theory_mean_exit_time"],
            "properties": {
                "label": {"type": "object"},
                "theory_mean_exit_time": {"type": ["number", "string", "null"]},
                "result": {"type": "object", "required": ["estimator", "summary"]}}}},
    },
}


def splitting_options(f):
    """``--replicas`` and ``--runs`` (used with ``--method splitting`` only)."""
    f = click.option("--runs", "split_runs", type=Int(2, field="runs"), default=10,
                     show_default=True,
                     help="Independent splitting runs (--method splitting; CI over runs).")(f)
    return click.option("--replicas", type=Int(2, field="replicas"), default=100,
                        show_default=True,
                        help="Replicas per splitting run (--method splitting).")(f)


def run_splitting(command: str, problems: list, labels: list[dict], theory: list, dt: float,
                  seed: int, replicas: int, runs: int, json_path, header: str) -> None:
    """Estimate each problem by splitting, print one row each, write JSON, exit 130 on
    Ctrl-C after printing what finished. ``theory[k]``: the closed-form mean exit time of
    row k (or None); ``labels[k]``: the row's parameters (printed columns)."""
    from levydyn.rare import split

    results, interrupted = [], False
    for k, prob in enumerate(problems):
        click.echo(f"splitting {k + 1}/{len(problems)} ...", err=True)
        try:
            with library_errors():
                results.append(split(prob, n_replicas=replicas, n_runs=runs, dt=dt,
                                     seed=row_seed(seed, prob, "splitting", dt, 0.0)))
        except KeyboardInterrupt:
            interrupted = True
            break
    if not results:
        exit_if_interrupted(interrupted)
        raise click.Abort()
    click.echo(f"{header}  method=splitting (gAMS)  replicas={replicas}  runs={runs}  "
               f"dt={dt:g}  seed={seed}")
    keys = list(labels[0])
    rows = []
    for k, res in enumerate(results):
        if problems[k].dim == 1:
            exit_law = fmt_est(res.side_probabilities[0][1])
        else:
            exit_law = ", ".join(fmt(e.value, 3) for e in res.axis_probabilities)
        rows.append([str(labels[k][c]) for c in keys]
                    + [fmt_est(res.p), fmt_est(res.mean_exit_time), fmt(theory[k]), exit_law,
                       f"{res.n_levels:.0f}", f"{res.work:.3g}",
                       ("censored: " + res.reason) if res.censored else "no"])
    law = "P(exit up/right) [95% CI]" if problems[0].dim == 1 else "P(exit along axis l)"
    click.echo(format_table(keys + ["p(B before A) [95% CI]", "mean exit time [95% CI]",
                                    "theory", law, "levels/run", "work (steps)", "censored"],
                            rows))
    for k, res in enumerate(results):
        if res.warning:
            click.echo(f"warning ({keys[0]}={labels[k][keys[0]]}): {res.warning}")
    click.echo("mean exit time = E[T_loop](1-p)/p + E[T_reac] (cycle decomposition, Cerou et "
               "al. 2011); p by generalised AMS (Brehier et al. 2016); CI over runs")
    if json_path:
        write_json(json_path, {"command": command, "method": "splitting", "estimator": "gAMS",
                               "interrupted": interrupted,
                               "rows": [{"label": labels[k], "result": r.to_dict(),
                                         "theory_mean_exit_time": theory[k]}
                                        for k, r in enumerate(results)]})
    exit_if_interrupted(interrupted)
