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


def _train_config(lr, train_batch_size, max_epochs, grad_tol, seed, **schedule):
    from nn_bridge.training.train import TrainConfig

    return TrainConfig(lr=lr, batch_size=train_batch_size, max_epochs=max_epochs,
                       grad_tol=grad_tol, seed=seed, **schedule)


def _schedule_options(f):
    """SGD as the papers' large networks were trained: momentum, weight decay, steps."""
    opts = [
        click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), default=0.0,
                     show_default=True, help="SGD momentum (PyTorch convention)"),
        click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0,
                     show_default=True, help="L2 weight decay added to the gradient"),
        click.option("--milestones", type=IntList(), default=None,
                     help="epochs at which the lr (or batch size) steps, e.g. 30,60"),
        click.option("--decay", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     default=0.1, show_default=True, help="lr factor at each milestone"),
        click.option("--decay-mode", type=click.Choice(["lr", "batch"]), default="lr",
                     show_default=True,
                     help="lr: lr x decay; batch: batch size / decay instead (paper 004)"),
        click.option("--track-every", type=click.IntRange(min=0), default=0, show_default=True,
                     help="every K iterations, streamed alpha_i/sigma_i of the SGD noise "
                          "(0: off; K >= 3)"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _schedule_kwargs(momentum, weight_decay, milestones, decay, decay_mode, track_every):
    return dict(momentum=momentum, weight_decay=weight_decay,
                milestones=tuple(milestones or ()), decay=decay, decay_mode=decay_mode,
                track_every=track_every)


@click.group("nn")
def nn():
    """Train real networks (PyTorch) and measure per-parameter gradient-noise alpha_i."""


@nn.command("train")
@_common
@click.option("--checkpoint", type=OutputFile(None, "checkpoint"), default=None,
              help="atomic checkpoint file; rerunning resumes from it")
@click.option("--out", type=OutputFile(None, "out"), default="weights.pt", show_default=True,
              help="trained weights (+ spec, config, history)")
@_schedule_options
@click.option("-v", "--verbose", is_flag=True)
def train_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
              test_fraction, seed, device, checkpoint, out, momentum, weight_decay, milestones,
              decay, decay_mode, track_every, verbose):
    """Train with SGD (plain by default; momentum, weight decay, steps optional)."""
    need_nn_extra()
    from nn_bridge.data.datasets import load_dataset
    from nn_bridge.training.device import resolve_device
    from nn_bridge.data.models import ModelSpec
    from nn_bridge.training.train import save_weights, train

    with library_errors():
        dev = resolve_device(device)
        data = load_dataset(dataset, test_fraction=test_fraction, seed=seed)
        spec = ModelSpec(kind=model, in_features=data.n_features, n_classes=data.n_classes,
                         width=width, depth=depth, image_shape=data.image_shape, seed=seed)
        cfg = _train_config(lr, train_batch_size, max_epochs, grad_tol, seed,
                            **_schedule_kwargs(momentum, weight_decay, milestones, decay,
                                               decay_mode, track_every))
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
    if res.tracking:
        rows = [[str(r["iteration"]), str(r["epoch"]), f"{r['lr']:g}", str(r["batch_size"]),
                 _fmt(r["alpha_all_median"]), _fmt(r["sigma_all_median"], ".3e")]
                for r in res.tracking]
        click.echo("streamed noise of the SGD minibatches (median over parameters):")
        click.echo(format_table(["iteration", "epoch", "lr", "batch", "alpha_i", "sigma_i"],
                                rows))


@nn.command("lr-decay")
@_common
@_schedule_options
@click.option("--milestone", type=click.IntRange(min=1), required=True,
              help="epoch of the lr decay / batch-size increase")
@click.option("--windows", type=click.IntRange(min=1), default=3, show_default=True,
              help="tracking windows averaged before and after the milestone")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
def lr_decay_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
                 test_fraction, seed, device, momentum, weight_decay, milestones, decay,
                 decay_mode, track_every, milestone, windows, json_path):
    """Paper 004's experiment: noise amplitude before/after an lr decay vs a batch increase.

    Three runs of --max-epochs epochs (lr decay at --milestone, batch size / decay instead,
    constant); --track-every K (default 20 here) streams alpha_i, sigma_i of the SGD noise.
    """
    need_nn_extra()
    from nn_bridge.training.checkpoint import atomic_write_json
    from nn_bridge.data.datasets import load_dataset
    from nn_bridge.training.device import resolve_device
    from nn_bridge.training.lr_decay import lr_decay_experiment
    from nn_bridge.data.models import ModelSpec

    with library_errors():
        dev = resolve_device(device)
        data = load_dataset(dataset, test_fraction=test_fraction, seed=seed)
        spec = ModelSpec(kind=model, in_features=data.n_features, n_classes=data.n_classes,
                         width=width, depth=depth, image_shape=data.image_shape, seed=seed)
        cfg = _train_config(lr, train_batch_size, max_epochs, grad_tol, seed,
                            **_schedule_kwargs(momentum, weight_decay, milestones, decay,
                                               decay_mode, track_every or 20))
        out = lr_decay_experiment(data, spec, cfg, milestone, n_windows=windows, device=dev)
    rows = []
    for run, r in out.items():
        for when in ("before", "after"):
            a = r[when]
            rows.append([run, when, str(a["windows"]), f"{a.get('lr', float('nan')):g}",
                         str(a.get("batch_size", "")), _fmt(a["alpha"]), _fmt(a["sigma"], ".3e"),
                         _fmt(a["step_amplitude"], ".3e"), _fmt(a["sde_eps"], ".3e")])
    click.echo(f"{dataset}, {model}: milestone epoch {milestone}, decay {decay}, "
               f"{max_epochs} epochs; medians over parameters, mean over windows")
    click.echo(format_table(["run", "", "windows", "lr", "batch", "alpha_i", "sigma_i",
                             "lr x sigma_i", "eps_i (dt = lr)"], rows))
    for run, r in out.items():
        f = r["final"]
        click.echo(f"{run:9s} final loss {f['loss']:.4g}, train acc {f['train_acc']:.3f}, "
                   f"test acc {f['test_acc']:.3f}")
    if json_path:
        click.echo(f"wrote {atomic_write_json(json_path, out)}", err=True)


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
@click.option("--model-file", default=None, metavar="FILE.py[:FUNC]",
              help="your own network: FUNC() (default build) returns an nn.Module or "
                   "(module, loss_fn); measured as built, streaming, in bounded memory")
@click.option("--data", "data_file", type=click.Path(dir_okay=False), default=None,
              help="with --model-file: .npz with X (inputs, fed as they are) and y (targets)")
@click.option("--sampled", type=click.IntRange(min=1), default=100, show_default=True,
              help="with --model-file: parameters per tensor kept for the full estimators")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=100, show_default=True,
              help="with --model-file: minibatches between resumable checkpoints")
@click.option("-v", "--verbose", is_flag=True)
def measure_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
                test_fraction, seed, device, batch_sizes, minibatches, sampling, estimator,
                n_fit, level, weights, workdir, plot, json_path, profile, model_file, data_file,
                sampled, checkpoint_every, verbose):
    """Train (or load) a network, then measure alpha_i, sigma_i, Gaussianity, fit errors.

    With --model-file and --data: measure your own network on your own data, streaming
    (per-parameter log-moment alpha_i, beta/sigma^3; full estimators on a sample).
    """
    need_nn_extra()
    if model_file is not None or data_file is not None:
        if model_file is None or data_file is None:
            raise click.BadParameter("--model-file and --data go together",
                                     param_hint="'--model-file'/'--data'")
        return _measure_stream(model_file, data_file, batch_sizes, minibatches, estimator,
                               n_fit, level, seed, device, sampled, checkpoint_every, workdir,
                               lr, json_path, profile, verbose)
    from nn_bridge.training.checkpoint import atomic_write_json
    from nn_bridge.training.device import resolve_device
    from nn_bridge.noise.measure import MeasureConfig, run_measurement
    from nn_bridge.noise.profile import save_profile

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
        from nn_bridge.noise.plots import plot_alpha_histograms

        click.echo(f"wrote {plot_alpha_histograms(m, plot)}", err=True)
    if json_path:
        click.echo(f"wrote {atomic_write_json(json_path, m.report())}", err=True)
    if profile:
        p = Path(profile)
        for b in batch_sizes:
            q = p.with_name(f"{p.stem}_b{b}{p.suffix}")
            click.echo(f"wrote {save_profile(m.profile(b), q)}", err=True)


def _print_stream(st) -> None:
    rows = [[s.name, str(s.n_params), str(s.n_degenerate), str(s.n_nan),
             f"{_fmt(s.alpha_median)} [{_fmt(s.alpha_q10)}, {_fmt(s.alpha_q90)}]",
             _fmt(s.sigma_median, ".2e"), _fmt(s.third_ratio_median), str(s.n_sampled),
             _fmt(s.sampled_alpha_median), _fmt(100 * s.gaussian_fraction, ".1f")]
            for s in st.layers]
    click.echo(f"\nbatch size {st.batch_size}: {st.n_minibatches} minibatches, "
               f"{st.n_params} parameters, mean loss {st.mean_loss:.4g}")
    click.echo(format_table(["tensor", "params", "degen", "nan",
                             "alpha_i (log-moment) median [q10, q90]", "sigma_i median",
                             "beta/sigma^3", "sampled", f"alpha ({st.config.estimator})",
                             "Gauss %"], rows))
    a = st.accuracy()
    if a.get("n"):
        click.echo(f"streaming vs {st.config.estimator} on {a['n']} sampled parameters: "
                   f"bias {a['bias']:+.3f}, rmse {a['rmse']:.3f}, corr {a['corr']:.2f} "
                   f"(log-moment sd on SaS data at alpha {a['alpha_full_median']:.2f}: "
                   f"{a['sas_sd_at_median']:.3f})")
    f = st.fit
    if f is not None:
        click.echo(f"fit errors over {f.n} sampled parameters: chi2 Gauss median "
                   f"{f.gauss_chi2[2]:.3g}, SaS median {f.sas_chi2[2]:.3g}; SaS fits better "
                   f"{100 * f.sas_better_fraction:.0f} % by chi2")


def _measure_stream(model_file, data_file, batch_sizes, minibatches, estimator, n_fit, level,
                    seed, device, sampled, checkpoint_every, workdir, lr, json_path, profile,
                    verbose):
    import levydyn
    from nn_bridge.training.checkpoint import atomic_write_json
    from nn_bridge.training.device import resolve_device
    from nn_bridge.noise.profile import save_profile
    from nn_bridge.noise.stream import StreamConfig, stream_noise
    from nn_bridge.data.user_model import load_model_file, load_npz_data

    if profile is not None and Path(profile).suffix.lower() not in (".json", ".npz"):
        raise click.BadParameter(f"{profile!r}: must end in .json or .npz",
                                 param_hint="'--profile'")
    results = []
    with library_errors():
        dev = resolve_device(device)
        net, loss_fn = load_model_file(model_file)
        X, y = load_npz_data(data_file)
        click.echo(f"model {model_file}, data {data_file} ({X.shape[0]} samples), device {dev}, "
                   f"workdir {workdir}", err=True)
        for b in batch_sizes:
            cfg = StreamConfig(n_minibatches=minibatches, batch_size=b, n_sampled=sampled,
                               estimator=estimator, level=level, n_fit=n_fit, seed=seed,
                               checkpoint_every=checkpoint_every)
            results.append(stream_noise(net, (X, y), loss_fn, cfg, device=dev, workdir=workdir,
                                        verbose=verbose))
    for st in results:
        _print_stream(st)
    if json_path:
        rep = {"levydyn_version": levydyn.__version__, "model_file": model_file,
               "data": data_file, "results": [st.summary() for st in results]}
        click.echo(f"wrote {atomic_write_json(json_path, rep)}", err=True)
    if profile:
        p = Path(profile)
        for st in results:
            q = p.with_name(f"{p.stem}_b{st.batch_size}{p.suffix}")
            prof = st.profile(lr, dataset=str(data_file), model={"model_file": model_file})
            click.echo(f"wrote {save_profile(prof, q)}", err=True)


# escape experiments and prediction vs measurement (nn_bridge part 2)
from cli.nn_escape import COMMANDS as _ESCAPE_COMMANDS  # noqa: E402

for _cmd in _ESCAPE_COMMANDS:
    nn.add_command(_cmd)

# papers 000 / 003 / 004 on one grid of small offline networks
from cli.nn_reproduce import reproduce_cmd as _reproduce  # noqa: E402

nn.add_command(_reproduce)
