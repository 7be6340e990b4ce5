"""``levydyn nn mechanism``: which mechanism carries a network's slow escapes.

At one or two cells (B, lr) -- given, or the two chosen from a study's report by
``nn_bridge.escape.mechanism.choose_mechanism_cells`` -- the mean escape against the radius R
and against the learning rate, fitted to a power law in R (heavy tails), Arrhenius-Kramers
(Gaussian climbing) and log R / lambda_1 (unstable growth), with chi2 verdicts. The work is
``nn_bridge.escape.mechanism`` and the text ``nn_bridge.escape.tables.mechanism_blocks``;
this module parses and prints. Registered on the ``nn`` group by ``cli/nn.py``.
"""
from __future__ import annotations

import click

from cli.common import FLOATS, CliError, library_errors, need_nn_extra
from cli.nn_options import (device_option, echo_blocks, echo_wrote, escape_run_options,
                            models_option, network_options, progress, run_options,
                            user_network, user_network_options)

#: Command-line options -> StudyConfig fields (what --from-study lets the command line override).
_CONFIG = {"dataset": "dataset", "width": "width", "depth": "depth", "seed": "seed",
           "weight_decay": "weight_decay", "radius": "radius", "loss_rise": "loss_rise",
           "seeds": "n_seeds", "max_iter": "max_iter", "long_max_iter": "long_max_iter",
           "model_max_iter": "model_max_iter", "precision": "precision",
           "slow_cells": "slow_cells", "train_batch_size": "train_batch_size",
           "minimum_evals": "minimum_evals"}


def _given(ctx: click.Context, kw: dict, explicit_only: bool) -> dict:
    """The StudyConfig fields of the options: those typed on the command line
    (``explicit_only``), else all."""
    src = click.core.ParameterSource.COMMANDLINE
    return {field: kw[opt] for opt, field in _CONFIG.items()
            if not explicit_only or ctx.get_parameter_source(opt) == src}


@click.command("mechanism")
@network_options(None, "hidden units of the 3-layer ReLU MLP [16; quick: 8]")
@user_network_options
@device_option
@escape_run_options
@click.option("--from-study", "report", type=click.Path(dir_okay=False), default=None,
              metavar="REPORT.json",
              help="a `levydyn nn study --json` report: its configuration (network, seeds, "
                   "horizons; options typed here override it) and its two cells "
                   "(the measured slow cells with the smallest means, else the slowest "
                   "measured grid cells)")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="the cell's batch size (without --from-study)")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help="the cell's learning rate (without --from-study)")
@click.option("--radii", type=FLOATS, default=None,
              help="radii of the scan at (B, lr) [0.25,0.5,1,2,4]")
@click.option("--lrs", type=FLOATS, default=None,
              help="learning rates of the scan at (B, --radius) [the study's grid and "
                   "slow-cell lrs]")
@click.option("--models", callback=models_option, default="multiplicative",
              show_default=True, help="predictions run at every point")
@click.option("--cached-only", is_flag=True,
              help="only the points already in --workdir; nothing new is simulated")
@click.option("--quick", is_flag=True, help="seconds-long smoke configuration (tests)")
@run_options("checkpoints and finished parts (shared with nn study); reruns resume")
@click.pass_context
def mechanism_cmd(ctx, model_file, data_file, loss, device, report, batch_size, lr, radii, lrs,
                  models, cached_only, quick, workdir, json_path, quiet, **kw):
    """Mean escape vs radius R and vs lr at slow cells, fitted to three mechanisms.

    (i) heavy tails: log E tau = c + a log R (a vs alpha_K and the measured alpha_i);
    (ii) Arrhenius-Kramers: log E tau = c + b R^2 (vs lr: c - log lr + K / lr);
    (iii) unstable growth: E tau = c + s log R (s vs 1/lambda_1; vs lr: c + s / lambda_1).
    A fit is acceptable with p >= 0.01 and a positive rate; the verdict is the acceptable
    one with the smallest chi2/dof, 'neither', or 'undetermined' (< 3 measured means).

    \b
    Examples:
      levydyn nn mechanism --from-study study.json --workdir .levydyn-nn --json mech.json
      levydyn nn mechanism --dataset wine --batch-size 32 --lr 0.1 --radii 0.5,1,2
    """
    need_nn_extra()
    if report is None and (batch_size is None or lr is None):
        raise CliError("give --batch-size and --lr, or --from-study REPORT.json")
    if report is not None and (batch_size is not None or lr is not None):
        raise CliError("--from-study chooses the cells: drop --batch-size / --lr")
    from nn_bridge.escape.basin import prepare_basin
    from nn_bridge.escape.config import StudyConfig
    from nn_bridge.escape.mechanism import (RADII, choose_mechanism_cells, mechanism_scan,
                                            scan_values)
    from nn_bridge.escape.study import load_report
    from nn_bridge.escape.tables import mechanism_blocks

    log = progress(quiet)
    with library_errors():
        scan_values(radii or RADII, lrs or ())
        network = user_network(model_file, data_file, loss, device=device,
                               seed=kw.get("seed") or 0)
        if report is not None:
            rep = load_report(report)
            cfg = StudyConfig.from_dict(rep["config"], network, **_given(ctx, kw, True))
            cells = choose_mechanism_cells(rep)
            if not cells:
                raise ValueError(f"report={report!r}: no cell with a measured mean")
        else:
            cfg = StudyConfig.from_options(quick, None, network=network,
                                           **_given(ctx, kw, False))
            cells = [(batch_size, lr)]
        log(f"mechanism: cells {cells}, radii {list(radii or RADII)}, lrs "
            f"{list(lrs or cfg.all_lrs)} at R={cfg.radius:g}; workdir {workdir}")
        basin = prepare_basin(cfg, workdir=workdir, log=log)
        scans = [mechanism_scan(cfg, basin, batch_size=B, lr=v, radii=radii or RADII, lrs=lrs,
                                workdir=workdir, log=log, cached_only=cached_only,
                                models=tuple(models)) for B, v in cells]
    echo_blocks(mechanism_blocks(scans))
    if json_path:
        from nn_bridge.escape.mechanism import SCHEMA
        from nn_bridge.training.checkpoint import atomic_write_json, json_safe

        echo_wrote(atomic_write_json(json_path, json_safe(
            {"schema": SCHEMA, "config": cfg.to_dict(), "cells": [s.summary() for s in scans]})))
