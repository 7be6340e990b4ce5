"""``levydyn nn``: train real networks and measure their per-parameter gradient noise.

torch and scikit-learn (the ``nn`` extra: ``pip install -e .[nn]``) are imported only
when a subcommand runs, so ``levydyn --help`` works without them.
"""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import format_table, library_errors, need_nn_extra
from cli.types import OutputFile, image_file, json_file


class IntList(click.ParamType):
    """Comma-separated positive integers, e.g. ``32,128,512``."""

    name = "INTS"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return list(value)
        try:
            out = [int(v) for v in str(value).split(",") if v.strip()]
        except ValueError:
            self.fail(f"expected comma-separated positive integers, got {value!r}", param, ctx)
        if not out or any(v < 1 for v in out):
            self.fail(f"expected comma-separated positive integers, got {value!r}", param, ctx)
        if len(set(out)) != len(out):
            self.fail(f"contains duplicates: {value!r}", param, ctx)
        return out


def _common(f):
    opts = [
        click.option("--dataset", default="breast_cancer", show_default=True,
                     help="breast_cancer, wine, digits, or a .npz (X, y) / .csv (label last) file"),
        click.option("--model", type=click.Choice(["mlp", "cnn"]), default="mlp",
                     show_default=True),
        click.option("--width", type=click.IntRange(min=1), default=64, show_default=True,
                     help="hidden units (mlp) or first conv channels (cnn)"),
        click.option("--depth", type=click.IntRange(min=2), default=3, show_default=True,
                     help="weight layers (paper 004: 3-layer ReLU MLP)"),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.05,
                     show_default=True, help="SGD learning rate (paper 004: 0.05)"),
        click.option("--train-batch-size", type=click.IntRange(min=1), default=128,
                     show_default=True, help="SGD batch size for training (paper 004: 128)"),
        click.option("--max-epochs", type=click.IntRange(min=1), default=3000, show_default=True),
        click.option("--grad-tol", type=click.FloatRange(min=0), default=1e-3, show_default=True,
                     help="stop when ||grad U||_2 <= this (full training loss)"),
        click.option("--test-fraction", type=click.FloatRange(0, 0.9), default=0.2,
                     show_default=True),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="seeds the split, initialisation, SGD order and minibatches"),
        click.option("--device", default="auto", show_default=True,
                     help="auto (cuda if available, else cpu), cpu, cuda, cuda:N"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _train_config(lr, train_batch_size, max_epochs, grad_tol, seed):
    from nn_bridge.train import TrainConfig

    return TrainConfig(lr=lr, batch_size=train_batch_size, max_epochs=max_epochs,
                       grad_tol=grad_tol, seed=seed)


@click.group("nn")
def nn():
    """Train real networks (PyTorch) and measure per-parameter gradient-noise alpha_i."""


@nn.command("train")
@_common
@click.option("--checkpoint", type=OutputFile(None, "checkpoint"), default=None,
              help="atomic checkpoint file; rerunning resumes from it")
@click.option("--out", type=OutputFile(None, "out"), default="weights.pt", show_default=True,
              help="trained weights (+ spec, config, history)")
@click.option("-v", "--verbose", is_flag=True)
def train_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
              test_fraction, seed, device, checkpoint, out, verbose):
    """Train with plain SGD (no momentum, no weight decay) to a local minimum."""
    need_nn_extra()
    from nn_bridge.data import load_dataset
    from nn_bridge.device import resolve_device
    from nn_bridge.models import ModelSpec
    from nn_bridge.train import save_weights, train

    with library_errors():
        dev = resolve_device(device)
        data = load_dataset(dataset, test_fraction=test_fraction, seed=seed)
        spec = ModelSpec(kind=model, in_features=data.n_features, n_classes=data.n_classes,
                         width=width, depth=depth, image_shape=data.image_shape, seed=seed)
        cfg = _train_config(lr, train_batch_size, max_epochs, grad_tol, seed)
        click.echo(f"training {model} on {data.name} ({data.n_train} samples) on {dev}", err=True)
        res = train(data, spec, cfg, device=dev, checkpoint=checkpoint, verbose=verbose)
    save_weights(res, out, data)
    s = res.summary()
    click.echo(f"epochs {s['epochs']}  iterations {s['iterations']}  (SDE time = iterations x lr"
               f" = {s['sde_time']:g})")
    click.echo(f"loss {s['loss']:.3g}  ||grad U|| {s['grad_norm']:.3g}  train acc "
               f"{s['train_acc']:.3f}  test acc {s['test_acc']:.3f}")
    click.echo(f"stopped: {s['reason']}  converged: {s['converged']}")
    click.echo(f"weights sha256 {s['weights_sha256'][:16]}...  -> {out}")


def _fmt(x, spec=".2f"):
    return "nan" if x is None or x != x else format(x, spec)


def _print_stats(st) -> None:
    rows = []
    for s in list(st.layers) + [st.overall]:
        rows.append([s.name, str(s.n_params), str(s.n_degenerate), str(s.n_nan),
                     f"{_fmt(s.alpha_median)} [{_fmt(s.alpha_q10)}, {_fmt(s.alpha_q90)}]",
                     _fmt(100 * s.heavy_fraction, ".1f"), _fmt(s.sigma_median, ".2e"),
                     _fmt(100 * s.gaussian_fraction, ".1f")])
    click.echo(f"\nbatch size {st.batch_size}: {st.n_minibatches} minibatches ({st.sampling}), "
               f"estimator {st.estimator}")
    click.echo(format_table(["layer", "params", "degen", "nan", "alpha_i median [q10, q90]",
                             "heavy %", "sigma_i median", "Gauss %"], rows))
    lo, hi = st.gaussian_fraction_ci
    click.echo(f"Gaussian (Shapiro-Wilk p > {st.level:g}, paper 003): "
               f"{100 * st.overall.gaussian_fraction:.1f} % [95% CI {100 * lo:.1f}, {100 * hi:.1f}]"
               f"; heavy = alpha_i < {st.alpha_gauss_q05:.3f} (5 % quantile on Gaussian data)")
    click.echo("pooled alpha (paper 000, eq. 15 on all noise concatenated): "
               f"{_fmt(st.pooled_alpha)}"
               f"; on noise-vector norms: {_fmt(st.pooled_alpha_norm)}")
    f = st.fit
    if f is not None:
        def ms(t):
            return f"{t[0]:.3g} +- {t[1]:.3g} (median {t[2]:.3g})"
        click.echo(f"fit errors over {f.n} of {f.n_drawn} random parameters "
                   "(paper 004 Tables 1-3; each standardised):")
        click.echo(f"  SSE   Gauss {ms(f.gauss_sse)}   SaS {ms(f.sas_sse)}")
        click.echo(f"  chi2  Gauss {ms(f.gauss_chi2)}   SaS {ms(f.sas_chi2)}")
        click.echo(f"  SaS fits better: {100 * f.sas_better_fraction:.0f} % by chi2, "
                   f"{100 * f.sas_better_fraction_sse:.0f} % by SSE")


@nn.command("measure")
@_common
@click.option("--batch-size", "batch_sizes", type=IntList(), default="32,128,512",
              show_default=True, help="minibatch sizes at which the noise is measured")
@click.option("--minibatches", type=click.IntRange(min=16), default=1000, show_default=True,
              help="minibatches M per batch size (paper 004 / Xie et al.: >= 1000)")
@click.option("--sampling", type=click.Choice(["iid", "epoch"]), default="iid", show_default=True,
              help="iid: B draws with replacement; epoch: disjoint blocks of permutations")
@click.option("--estimator", type=click.Choice(["cf_regression", "mcculloch"]),
              default="cf_regression", show_default=True)
@click.option("--n-fit", type=click.IntRange(min=0), default=100, show_default=True,
              help="random parameters for the Gauss/SaS fit errors (0: skip)")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Shapiro-Wilk level")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None,
              help="measure these trained weights (from `levydyn nn train`) instead of training")
@click.option("--workdir", type=click.Path(file_okay=False), default=".levydyn-nn",
              show_default=True, help="checkpoints and finished parts; a rerun resumes")
@click.option("--plot", type=image_file(), default=None,
              help="histogram of alpha_i per layer and batch size (PNG)")
@click.option("--json", "json_path", type=json_file(), default=None,
              help="report: provenance and every batch size's summaries")
@click.option("--profile", type=OutputFile((".json", ".npz"), "profile"), default=None,
              help="noise profile(s) PATH.json|.npz; written as PATH_b<B>.<ext> per batch size")
@click.option("-v", "--verbose", is_flag=True)
def measure_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
                test_fraction, seed, device, batch_sizes, minibatches, sampling, estimator,
                n_fit, level, weights, workdir, plot, json_path, profile, verbose):
    """Train (or load) a network, then measure alpha_i, sigma_i, Gaussianity, fit errors."""
    need_nn_extra()
    from nn_bridge.checkpoint import atomic_write_json
    from nn_bridge.device import resolve_device
    from nn_bridge.measure import MeasureConfig, run_measurement
    from nn_bridge.profile import save_profile

    with library_errors():
        dev = resolve_device(device)
        cfg = MeasureConfig(batch_sizes=tuple(batch_sizes), n_minibatches=minibatches,
                            sampling=sampling, estimator=estimator, level=level, n_fit=n_fit,
                            seed=seed)
        click.echo(f"dataset {dataset}, {model} width {width} depth {depth}, device {dev}, "
                   f"workdir {workdir}", err=True)
        m = run_measurement(dataset, model=model, width=width, depth=depth,
                            train_config=_train_config(lr, train_batch_size, max_epochs,
                                                       grad_tol, seed),
                            config=cfg, test_fraction=test_fraction, data_seed=seed,
                            model_seed=seed, weights=weights, device=dev, workdir=workdir,
                            verbose=verbose)
    t = m.training
    shape = (f"{m.data['n_features']}-{m.spec.width}x{m.spec.depth - 1}-{m.data['n_classes']}"
             if m.spec.kind == "mlp" else f"width {m.spec.width} depth {m.spec.depth}")
    click.echo(f"network: {m.spec.kind} {shape}, weights sha256 {m.weights_sha256[:16]}")
    if "epochs" in t:
        click.echo(f"training: {t['epochs']} epochs, {t['iterations']} SGD iterations "
                   f"(lr {m.lr:g}, SDE time {t['sde_time']:g}); loss {t['loss']:.3g}, ||grad U|| "
                   f"{t['grad_norm']:.3g}, train acc {t['train_acc']:.3f}, test acc "
                   f"{t['test_acc']:.3f}; {t['reason']}")
    for b in batch_sizes:
        _print_stats(m.stats[b])
    if plot:
        from nn_bridge.plots import plot_alpha_histograms

        click.echo(f"wrote {plot_alpha_histograms(m, plot)}", err=True)
    if json_path:
        click.echo(f"wrote {atomic_write_json(json_path, m.report())}", err=True)
    if profile:
        p = Path(profile)
        for b in batch_sizes:
            q = p.with_name(f"{p.stem}_b{b}{p.suffix}")
            click.echo(f"wrote {save_profile(m.profile(b), q)}", err=True)


# escape experiments and prediction vs measurement (nn_bridge part 2)
from cli.nn_escape import COMMANDS as _ESCAPE_COMMANDS  # noqa: E402

for _cmd in _ESCAPE_COMMANDS:
    nn.add_command(_cmd)

# papers 000 / 003 / 004 on one grid of small offline networks
from cli.nn_reproduce import reproduce_cmd as _reproduce  # noqa: E402

nn.add_command(_reproduce)
