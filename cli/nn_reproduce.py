"""``levydyn nn reproduce``: papers 000 / 003 / 004 on small offline networks (one grid)."""
from __future__ import annotations

import math
from dataclasses import asdict

import click

from cli.common import FLOATS, CliError, format_table, library_errors, need_nn_extra


def _ints(name, values):
    out = []
    for v in values:
        if not (math.isfinite(v) and float(v).is_integer() and v >= 1):
            raise CliError(f"{name} must be positive integers, got {name}={v!r}")
        out.append(int(v))
    return out


def _short(layer: str) -> str:
    return layer.replace("net.", "")


def _plot(path, rows, base_width, base_depth):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    batches = sorted({r.batch_size for r in rows})
    for b in batches:
        wr = sorted((r for r in rows if r.batch_size == b and r.depth == base_depth),
                    key=lambda r: r.width)
        ax1.plot([r.width for r in wr], [r.pooled_alpha for r in wr], "o-", label=f"B = {b}")
        dr = sorted((r for r in rows if r.batch_size == b and r.width == base_width),
                    key=lambda r: r.depth)
        ax2.plot([r.depth for r in dr], [r.pooled_alpha for r in dr], "s-", label=f"B = {b}")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel(f"width (depth {base_depth})")
    ax2.set_xlabel(f"depth (width {base_width})")
    for ax in (ax1, ax2):
        ax.set_ylabel("pooled alpha (paper 000 eq. 15)")
        ax.axhline(2.0, color="grey", ls="--", lw=0.8)
        ax.legend(fontsize=7)
    base = [r for r in rows if r.width == base_width and r.depth == base_depth]
    for layer in base[0].gaussian_layers:
        pts = sorted(base, key=lambda r: r.batch_size)
        ax3.plot([r.batch_size for r in pts], [100 * r.gaussian_layers[layer] for r in pts],
                 "o-", label=_short(layer))
    ax3.set_xscale("log", base=2)
    ax3.set_xlabel(f"batch size B (width {base_width}, depth {base_depth})")
    ax3.set_ylabel("Gaussian % per layer (paper 003, Shapiro-Wilk)")
    ax3.legend(fontsize=7)
    fig.suptitle("gradient noise of MLPs on digits at the trained weights", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    click.echo(f"wrote {path}", err=True)


@click.command("reproduce")
@click.option("--dataset", default="digits", show_default=True,
              help="Built-in offline data set: digits, wine or breast_cancer.")
@click.option("--widths", type=FLOATS, default="16,32,64,128", show_default=True,
              help="Widths of the width study (at --base-depth).")
@click.option("--depths", type=FLOATS, default="2,3,4", show_default=True,
              help="Depths (number of linear layers) of the depth study (at --base-width).")
@click.option("--base-width", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--base-depth", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--batch-sizes", type=FLOATS, default="16,64,256", show_default=True,
              help="Noise batch sizes B.")
@click.option("--minibatches", type=click.IntRange(min=16), default=400, show_default=True,
              help="Noise draws per parameter and batch size.")
@click.option("--epochs", type=click.IntRange(min=1), default=60, show_default=True,
              help="Training epochs of plain SGD per network.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Checkpoints of the trained networks (a rerun reuses them).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Figure: pooled alpha vs width and depth, Gaussian % per layer vs B (PNG).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
def reproduce_cmd(dataset, widths, depths, base_width, base_depth, batch_sizes, minibatches,
                  epochs, lr, seed, workdir, plot, json_path):
    """Papers 000, 003 and 004 on one grid of small networks, from the same gradient noise.

    Trains fully connected networks (widths at --base-depth, depths at --base-width) on an
    offline scikit-learn data set and, at the trained weights, measures the minibatch
    gradient noise for every batch size. Prints: paper 000's pooled alpha (eq. 15 on all
    parameters' noise concatenated) against width, depth and batch size; paper 003's share
    of Gaussian parameters (Shapiro-Wilk) per layer; paper 004's alpha_i per layer
    (cf_regression, median [10 %, 90 %]).

    \b
    Example (about 5 min on 2 CPU cores):
      levydyn nn reproduce --plot reproduce.png --json reproduce.json
    """
    need_nn_extra()
    from nn_bridge.reproduce import reproduce_grid

    ws, ds, bs = _ints("widths", widths), _ints("depths", depths), _ints("batch-sizes",
                                                                          batch_sizes)
    with library_errors():
        rows = reproduce_grid(dataset, widths=ws, depths=ds, base_width=base_width,
                              base_depth=base_depth, batch_sizes=bs, n_minibatches=minibatches,
                              epochs=epochs, lr=lr, seed=seed, workdir=workdir,
                              on_network=lambda w, d: click.echo(
                                  f"network width {w} depth {d} ...", err=True))
    click.echo(f"{dataset}: MLPs trained {epochs} epochs (lr {lr:g}); noise from {minibatches} "
               f"minibatches per batch size at the trained weights, seed {seed}")
    click.echo("\npaper 000: pooled alpha (eq. 15 on all parameters' noise)")
    nets = list(dict.fromkeys((r.width, r.depth) for r in rows))
    table = []
    for w, d in nets:
        rs = {r.batch_size: r for r in rows if (r.width, r.depth) == (w, d)}
        table.append([str(w), str(d), f"{next(iter(rs.values())).test_acc:.3f}"]
                     + [f"{rs[b].pooled_alpha:.3f}" for b in bs])
    click.echo(format_table(["width", "depth", "test acc"] + [f"B={b}" for b in bs], table))
    base = [r for r in rows if (r.width, r.depth) == (base_width, base_depth)]
    if base:
        layers = list(base[0].gaussian_layers)
        click.echo(f"\npaper 003: Gaussian % per layer (width {base_width}, depth {base_depth})")
        click.echo(format_table(["B"] + [_short(x) for x in layers] + ["all"],
                                [[str(r.batch_size)]
                                 + [f"{100 * r.gaussian_layers[x]:.1f}" for x in layers]
                                 + [f"{100 * r.gaussian_overall:.1f}"] for r in base]))
        click.echo(f"\npaper 004: alpha_i per layer, median [q10, q90] (width {base_width}, "
                   f"depth {base_depth})")
        click.echo(format_table(["B"] + [_short(x) for x in layers],
                                [[str(r.batch_size)]
                                 + ["{:.2f} [{:.2f}, {:.2f}]".format(*r.alpha_layers[x])
                                    for x in layers] for r in base]))
    if plot:
        _plot(plot, rows, base_width, base_depth)
    if json_path:
        from nn_bridge.checkpoint import atomic_write_json

        atomic_write_json(json_path, {"command": "nn reproduce", "dataset": dataset,
                                      "epochs": epochs, "lr": lr, "minibatches": minibatches,
                                      "seed": seed, "rows": [asdict(r) for r in rows]})
        click.echo(f"wrote {json_path}", err=True)
