"""``levydyn nn reproduce``: papers 000 / 001 / 003 / 004 on small offline networks."""
from __future__ import annotations

import math

import click

from cli.common import FLOATS, CliError, library_errors, need_nn_extra, output_errors
from cli.nn_options import echo_blocks, echo_wrote


def _ints(name, values):
    out = []
    for v in values:
        if not (math.isfinite(v) and float(v).is_integer() and v >= 1):
            raise CliError(f"{name} must be positive integers, got {name}={v:g}")
        out.append(int(v))
    return out


def _optional_floats(ctx, param, value):
    """A FLOATS list, or the empty list for an empty string (skip)."""
    if value is None or str(value).strip() == "":
        return []
    return FLOATS.convert(value, param, ctx)


@click.command("reproduce")
@click.option("--dataset", default="digits", show_default=True,
              help="Built-in offline data set: digits, wine or breast_cancer.")
@click.option("--widths", type=FLOATS, default="16,32,64,128", show_default=True,
              help="Widths of the width study (at --base-depth).")
@click.option("--depths", type=FLOATS, default="2,3,4", show_default=True,
              help="Depths (number of linear layers) of the depth study (at --base-width).")
@click.option("--base-width", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--base-depth", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--cnn-channels", default="8,16", show_default=True, callback=_optional_floats,
              help="First-layer channels of the small CNNs (paper 000's CNN; image data "
                   "only); empty string: no CNN.")
@click.option("--cnn-depth", type=click.IntRange(min=2), default=3, show_default=True,
              help="Weight layers of the CNN (convolutions + classifier).")
@click.option("--batch-sizes", type=FLOATS, default="16,64,256", show_default=True,
              help="Noise batch sizes B.")
@click.option("--minibatches", type=click.IntRange(min=16, max=5000), default=400,
              show_default=True, help="Noise draws per parameter and batch size.")
@click.option("--epochs", type=click.IntRange(min=1), default=60, show_default=True,
              help="Training epochs of plain SGD per network.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True)
@click.option("--iterates/--no-iterates", default=True, show_default=True,
              help="Paper 001: the tail index of SGD iterates per layer (MLP at --base-width, "
                   "--base-depth) over the --iter-etas x --iter-batches grid.")
@click.option("--iter-etas", type=FLOATS, default="0.01,0.03,0.1,0.2", show_default=True,
              help="Step sizes eta of the iterate runs.")
@click.option("--iter-batches", type=FLOATS, default="1,4,16,64", show_default=True,
              help="Batch sizes b of the iterate runs.")
@click.option("--iter-steps", type=click.IntRange(min=1), default=20000, show_default=True,
              help="SGD steps per iterate run (rounded up to whole epochs).")
@click.option("--iter-keep", type=click.IntRange(min=16), default=1000, show_default=True,
              help="Iterates kept at the end of each run.")
@click.option("--iter-thin", type=click.IntRange(min=1), default=5, show_default=True,
              help="Keep every this many steps.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Checkpoints of the trained networks (a rerun reuses them).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Figure: pooled alpha vs width (MLP, CNN) and depth, Gaussian % and "
                   "Berry-Esseen bound per layer vs B (PNG).")
@click.option("--plot-iterates", type=click.Path(dir_okay=False), default=None,
              help="Figure: paper 001's tail indices per layer vs eta/b (PNG).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
def reproduce_cmd(dataset, widths, depths, base_width, base_depth, cnn_channels, cnn_depth,
                  batch_sizes, minibatches, epochs, lr, iterates, iter_etas, iter_batches,
                  iter_steps, iter_keep, iter_thin, seed, workdir, plot, plot_iterates,
                  json_path):
    """Papers 000, 001, 003 and 004 on one grid of small networks.

    Trains fully connected networks (widths at --base-depth, depths at --base-width) and
    small CNNs (--cnn-channels) on an offline scikit-learn data set and, at the trained
    weights, measures the minibatch gradient noise for every batch size. Prints: paper
    000's pooled alpha (eq. 15 on all parameters' noise concatenated) against width,
    depth and batch size; paper 003's share of Gaussian parameters (Shapiro-Wilk) per
    layer next to the Berry-Esseen bound C beta/(sigma^3 sqrt B) from the per-sample
    gradients; paper 004's alpha_i per layer (cf_regression, median [10 %, 90 %]); and
    paper 001's tail index of the SGD iterates per layer against eta/b (the authors'
    layer-wise estimate and a per-parameter one across time).

    \b
    Example (about 1 min 20 s on 2 loaded CPU cores with OMP_NUM_THREADS=1):
      levydyn nn reproduce --plot reproduce.png --plot-iterates iterates.png \\
          --json reproduce.json
    """
    need_nn_extra()
    from levydyn.estimators import shapiro_sensitivity
    from nn_bridge.papers.iterates import IterateConfig, run_iterates
    from nn_bridge.papers.reproduce import reproduce_grid

    ws, ds, bs = _ints("widths", widths), _ints("depths", depths), _ints("batch-sizes",
                                                                          batch_sizes)
    cs = _ints("cnn-channels", cnn_channels)
    icfg = None
    if iterates:
        with library_errors():
            icfg = IterateConfig(etas=tuple(float(e) for e in iter_etas),
                                 batch_sizes=tuple(_ints("iter-batches", iter_batches)),
                                 iterations=iter_steps, keep=iter_keep, thin=iter_thin, seed=seed)
    with library_errors():
        rows = reproduce_grid(dataset, widths=ws, depths=ds, base_width=base_width,
                              base_depth=base_depth, batch_sizes=bs, n_minibatches=minibatches,
                              epochs=epochs, lr=lr, seed=seed, workdir=workdir,
                              cnn_channels=cs, cnn_depth=cnn_depth,
                              on_network=lambda a, w, d: click.echo(
                                  f"network {a} width {w} depth {d} ...", err=True))
        sens = shapiro_sensitivity(minibatches, seed=seed)
        it_rows = []
        if icfg is not None:
            it_rows = run_iterates(dataset, base_width, base_depth, icfg,
                                   on_run=lambda e, b: click.echo(
                                       f"iterates eta {e:g} b {b} ...", err=True))
    from nn_bridge.papers.tables import grid_blocks, iterates_blocks

    echo_blocks(grid_blocks(rows, bs, base_width, base_depth, sens, dataset, epochs, lr,
                            minibatches, seed))
    if icfg is not None:
        echo_blocks(iterates_blocks(it_rows, icfg, base_width, base_depth))
    from nn_bridge.papers import plots

    if plot:
        with output_errors(plot):
            echo_wrote(plots.plot_grid(plot, rows, base_width, base_depth, sens))
    if plot_iterates and it_rows:
        with output_errors(plot_iterates):
            echo_wrote(plots.plot_iterates(plot_iterates, it_rows))
    if json_path:
        from cli.common import write_json
        from nn_bridge.papers.reproduce import reproduce_report

        write_json(json_path, reproduce_report(rows, sens, it_rows, icfg, dataset=dataset,
                                               epochs=epochs, lr=lr, minibatches=minibatches,
                                               seed=seed))
