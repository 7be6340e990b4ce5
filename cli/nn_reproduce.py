"""``levydyn nn reproduce``: papers 000 / 001 / 003 / 004 on small offline networks."""
from __future__ import annotations

import math
from dataclasses import asdict

import click

from cli.common import FLOATS, CliError, format_table, library_errors, need_nn_extra


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


def _short(layer: str) -> str:
    return layer.replace("net.", "").replace("features.", "")


def _net_label(arch, width, depth):
    return f"{arch.upper()} width {width}, depth {depth}" if arch == "mlp" else \
        f"CNN {width} channels, depth {depth}"


def _plot(path, rows, base_width, base_depth, sens):
    from matplotlib.figure import Figure

    from cli.common import save_figure

    fig = Figure(figsize=(17, 4))
    ax1, ax2, ax3, ax4 = fig.subplots(1, 4)
    batches = sorted({r.batch_size for r in rows})
    for b in batches:
        wr = sorted((r for r in rows if r.arch == "mlp" and r.batch_size == b
                     and r.depth == base_depth), key=lambda r: r.width)
        line, = ax1.plot([r.width for r in wr], [r.pooled_alpha for r in wr], "o-",
                         label=f"MLP B = {b}")
        cr = sorted((r for r in rows if r.arch == "cnn" and r.batch_size == b),
                    key=lambda r: r.width)
        if cr:
            ax1.plot([r.width for r in cr], [r.pooled_alpha for r in cr], "^--",
                     color=line.get_color(), label=f"CNN B = {b} (channels)")
        dr = sorted((r for r in rows if r.arch == "mlp" and r.batch_size == b
                     and r.width == base_width), key=lambda r: r.depth)
        ax2.plot([r.depth for r in dr], [r.pooled_alpha for r in dr], "s-", label=f"B = {b}")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel(f"width: MLP units (depth {base_depth}) / CNN channels")
    ax2.set_xlabel(f"MLP depth (width {base_width})")
    for ax in (ax1, ax2):
        ax.set_ylabel("pooled alpha (paper 000 eq. 15)")
        ax.axhline(2.0, color="grey", ls="--", lw=0.8)
        ax.legend(fontsize=7)
    base = sorted((r for r in rows if r.arch == "mlp" and r.width == base_width
                   and r.depth == base_depth), key=lambda r: r.batch_size)
    if base:
        for layer in base[0].gaussian_layers:
            line, = ax3.plot([r.batch_size for r in base],
                             [100 * r.gaussian_layers[layer] for r in base], "o-",
                             label=_short(layer))
            ax4.plot([r.batch_size for r in base], [r.berry_esseen_layers[layer] for r in base],
                     "o-", color=line.get_color(), label=_short(layer))
    ax4.axhline(sens.detectable_distance, color="k", ls=":", lw=1,
                label=f"Shapiro-Wilk sees ~{sens.detectable_distance:.3f}")
    ax4.axhline(sens.ks_critical, color="grey", ls="--", lw=0.8,
                label=f"KS 5 % critical {sens.ks_critical:.3f}")
    for ax in (ax3, ax4):
        ax.set_xscale("log", base=2)
        ax.set_xlabel(f"batch size B (MLP width {base_width}, depth {base_depth})")
        ax.legend(fontsize=7)
    ax3.set_ylabel("Gaussian % per layer (paper 003, Shapiro-Wilk)")
    ax4.set_yscale("log")
    ax4.set_ylabel("median Berry-Esseen bound C beta/(sigma^3 sqrt B)")
    fig.suptitle("gradient noise of small networks on digits at the trained weights", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    click.echo(f"wrote {path}", err=True)


_ALPHA_TOP = 3.0      # the iterate figure shows larger layer alphas at this edge


def _plot_iterates(path, rows):
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from cli.common import save_figure

    ok = [r for r in rows if not r.diverged]
    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    layers = list(ok[0].layer_alpha) if ok else []
    for layer in layers:
        pts = sorted(ok, key=lambda r: r.eta_over_b)
        x = [r.eta_over_b for r in pts]
        la = np.array([r.layer_alpha[layer] for r in pts])
        line, = ax1.plot(x, np.minimum(la, _ALPHA_TOP), "o", label=_short(layer))
        high = la > _ALPHA_TOP
        ax1.plot(np.array(x)[high], np.full(int(high.sum()), _ALPHA_TOP), "^",
                 color=line.get_color())
        ax2.plot(x, [r.time_alpha[layer][0] for r in pts], "o", color=line.get_color(),
                 label=_short(layer))
        ax2.plot(x, [r.time_alpha_detrended[layer][0] for r in pts], "x",
                 color=line.get_color())
    if ok:
        ax2.axhline(ok[0].gauss_hill, color="k", ls=":", lw=1,
                    label=f"Hill on i.i.d. Gaussian ({ok[0].gauss_hill:.2f})")
    ax1.axhline(2.0, color="grey", ls="--", lw=0.8)
    ax1.set_ylim(top=_ALPHA_TOP + 0.05)
    ax1.set_ylabel(f"layer alpha, time-averaged weights (^: > {_ALPHA_TOP:g})")
    ax2.set_ylabel("median Hill alpha_i of the iterates")
    ax2.set_title("o: w_k about its mean; x: about a linear trend", fontsize=8)
    ax1.set_title("the authors' protocol (sgd_ht)", fontsize=8)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("eta / b")
        ax.legend(fontsize=7)
    fig.suptitle("paper 001: tail index of SGD iterates per layer (MLP on digits)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    click.echo(f"wrote {path}", err=True)


def _print_grid(rows, bs, base_width, base_depth, sens, dataset, epochs, lr, minibatches, seed):
    from levydyn.estimators import BERRY_ESSEEN_CONSTANT
    from nn_bridge.papers.reproduce import bound_batch_size

    click.echo(f"{dataset}: networks trained {epochs} epochs (lr {lr:g}); noise from "
               f"{minibatches} minibatches per batch size at the trained weights, seed {seed}")
    click.echo("\npaper 000: pooled alpha (eq. 15 on all parameters' noise)")
    nets = list(dict.fromkeys((r.arch, r.width, r.depth) for r in rows))
    table = []
    for key in nets:
        rs = {r.batch_size: r for r in rows if (r.arch, r.width, r.depth) == key}
        table.append([key[0], str(key[1]), str(key[2]), f"{next(iter(rs.values())).test_acc:.3f}"]
                     + [f"{rs[b].pooled_alpha:.3f}" for b in bs])
    click.echo(format_table(["arch", "width", "depth", "test acc"] + [f"B={b}" for b in bs],
                            table))
    detail = [k for k in nets if k == ("mlp", base_width, base_depth) or k[0] == "cnn"]
    click.echo(f"\npaper 003: Gaussian % (Shapiro-Wilk, p > 0.05) / median Berry-Esseen bound "
               f"C beta/(sigma^3 sqrt B), C = {BERRY_ESSEEN_CONSTANT} (Shevtsova 2011), "
               "per layer")
    click.echo(f"Shapiro-Wilk on {sens.n_samples} minibatches rejects a standardised Gamma law "
               f"half the time at Kolmogorov distance {sens.detectable_distance:.4f} "
               f"({sens.reps} simulated samples per shape); the KS test's 5 % critical distance "
               f"is {sens.ks_critical:.4f}")
    for key in detail:
        base = sorted((r for r in rows if (r.arch, r.width, r.depth) == key),
                      key=lambda r: r.batch_size)
        layers = list(base[0].gaussian_layers)
        click.echo(f"\n{_net_label(*key)}: beta/sigma^3 of the per-sample noise (B = 1), "
                   "median per layer, and the B at which the bound reaches "
                   f"{sens.detectable_distance:.4f}")
        click.echo(format_table(["layer", "beta/sigma^3", "B for bound"],
                                [[_short(x), f"{base[0].third_moment_layers[x]:.2f}",
                                  f"{bound_batch_size(base[0].third_moment_layers[x], sens.detectable_distance):.3g}"]  # noqa: E501
                                 for x in layers]))
        click.echo(format_table(["B"] + [_short(x) for x in layers] + ["all"],
                                [[str(r.batch_size)]
                                 + [f"{100 * r.gaussian_layers[x]:.1f} % / "
                                    f"{r.berry_esseen_layers[x]:.3f}" for x in layers]
                                 + [f"{100 * r.gaussian_overall:.1f} %"] for r in base]))
    for key in detail:
        base = sorted((r for r in rows if (r.arch, r.width, r.depth) == key),
                      key=lambda r: r.batch_size)
        layers = list(base[0].alpha_layers)
        click.echo(f"\npaper 004: alpha_i per layer, median [q10, q90] ({_net_label(*key)})")
        click.echo(format_table(["B"] + [_short(x) for x in layers],
                                [[str(r.batch_size)]
                                 + ["{:.2f} [{:.2f}, {:.2f}]".format(*r.alpha_layers[x])
                                    for x in layers] for r in base]))


def _print_iterates(rows, cfg, width, depth):
    click.echo(f"\npaper 001: tail index of SGD iterates (MLP width {width}, depth {depth}; "
               f"{cfg.iterations} steps rounded up to whole epochs, last {cfg.keep} iterates "
               f"every {cfg.thin} steps)")
    ok = [r for r in rows if not r.diverged]
    layers = list(ok[0].layer_alpha) if ok else []
    click.echo("authors' layer alpha: eq. 15, median over K1 in (2, 5, 10, ..., 1000), on the "
               "layer's time-averaged weights centred across the layer (unclipped)")
    head = ["eta", "b", "eta/b", "loss", "test acc"]
    click.echo(format_table(head + [_short(x) for x in layers],
                            [[f"{r.eta:g}", str(r.batch_size), f"{r.eta_over_b:.4g}",
                              f"{r.train_loss:.3g}", f"{r.test_acc:.3f}"]
                             + ([f"{r.layer_alpha[x]:.3f}" for x in layers] if not r.diverged
                                else ["diverged"] * len(layers)) for r in rows]))
    if ok:
        click.echo(f"\nper parameter across time: Hill alpha_i of w_k - mean_k w_k, median "
                   f"[q10, q90] per layer; i.i.d. Gaussian samples of {cfg.keep} give "
                   f"{ok[0].gauss_hill:.2f}; drift = median |mean(2nd half) - mean(1st half)| "
                   "/ sd (a linear trend gives 1.73)")
    click.echo(format_table(["eta", "b"] + [_short(x) for x in layers] + ["drift per layer"],
                            [[f"{r.eta:g}", str(r.batch_size)]
                             + (["{:.2f} [{:.2f}, {:.2f}]".format(*r.time_alpha[x])
                                 for x in layers]
                                + [" / ".join(f"{r.drift[x]:.2f}" for x in layers)]
                                if not r.diverged else ["diverged"] * (len(layers) + 1))
                             for r in rows]))
    click.echo("\nthe same about a per-parameter linear trend (residuals of a least-squares "
               "line in k)")
    click.echo(format_table(["eta", "b"] + [_short(x) for x in layers],
                            [[f"{r.eta:g}", str(r.batch_size)]
                             + (["{:.2f} [{:.2f}, {:.2f}]".format(*r.time_alpha_detrended[x])
                                 for x in layers] if not r.diverged
                                else ["diverged"] * len(layers))
                             for r in rows]))


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
    _print_grid(rows, bs, base_width, base_depth, sens, dataset, epochs, lr, minibatches, seed)
    if icfg is not None:
        _print_iterates(it_rows, icfg, base_width, base_depth)
    if plot:
        _plot(plot, rows, base_width, base_depth, sens)
    if plot_iterates and it_rows:
        _plot_iterates(plot_iterates, it_rows)
    if json_path:
        from cli.common import write_json

        write_json(json_path, {
            "command": "nn reproduce", "dataset": dataset, "epochs": epochs, "lr": lr,
            "minibatches": minibatches, "seed": seed, "rows": [asdict(r) for r in rows],
            "shapiro_sensitivity": {k: v for k, v in asdict(sens).items()},
            "iterate_config": None if icfg is None else asdict(icfg),
            "iterates": [asdict(r) for r in it_rows]})
