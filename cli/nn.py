"""``levydyn nn``: train real networks and measure their per-parameter gradient noise.

torch and scikit-learn (the ``nn`` extra: ``pip install -e .[nn]``) are imported only
when a subcommand runs, so ``levydyn --help`` works without them.

Threads: before torch is imported, ``OMP_WAIT_POLICY`` defaults to ``PASSIVE`` (a value in
the environment wins): torch's OpenMP threads then sleep between parallel regions instead
of spinning. On cores shared with other work a spinning thread takes the core its partner
needs; with 2 threads at load average ~5-9 on 2 cores, one full-batch float64 evaluation
of the 666-parameter CNN took 180 ms spinning against 42 ms passive, a matrix-free
recursion step of a 99,690-parameter MLP 891 ms against 253 ms (the numbers do not
change: same threads, same work split). ``docs/nn/own-network.md`` has the measurements.
"""
from __future__ import annotations

import os
from pathlib import Path

import click

from cli.common import library_errors, need_nn_extra
from cli.nn_options import (IntList, echo_blocks, echo_wrote, options, user_network,
                            user_network_options)
from cli.types import OutputFile, image_file, json_file

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")      # before torch loads OpenMP

#: The network and its training (every `nn` command that trains).
_common = options(
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
)


def _train_config(lr, train_batch_size, max_epochs, grad_tol, seed, **schedule):
    from nn_bridge.training.train import TrainConfig

    return TrainConfig(lr=lr, batch_size=train_batch_size, max_epochs=max_epochs,
                       grad_tol=grad_tol, seed=seed, **schedule)


#: SGD as the papers' large networks were trained: momentum, weight decay, steps.
_schedule_options = options(
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
)


def _network(dataset, test_fraction, seed, model, width, depth, device, user=(None,) * 3):
    """The network of the common options: yours (``user`` = model file, data, loss) or the
    built-in ``model`` on ``dataset``."""
    from nn_bridge.data.datasets import load_dataset
    from nn_bridge.data.network import Network

    net = user_network(*user, seed=seed, device=device, test_fraction=test_fraction)
    if net is not None:
        return net
    data = load_dataset(dataset, test_fraction=test_fraction, seed=seed)
    return Network.builtin(data, kind=model, width=width, depth=depth, seed=seed, device=device)


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
@user_network_options
@click.option("-v", "--verbose", is_flag=True)
def train_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
              test_fraction, seed, device, checkpoint, out, momentum, weight_decay, milestones,
              decay, decay_mode, track_every, model_file, data_file, loss, verbose):
    """Train with SGD (plain by default; momentum, weight decay, steps optional).

    Your own network: --model-file FILE.py:FUNC --data D.npz [--loss mse]; the weights file
    records its identity (model file sha256, loss) for `nn measure/stability --weights`."""
    need_nn_extra()
    from nn_bridge.training.tables import training_blocks
    from nn_bridge.training.train import save_weights, train_network

    with library_errors():
        network = _network(dataset, test_fraction, seed, model, width, depth, device,
                           (model_file, data_file, loss))
        cfg = _train_config(lr, train_batch_size, max_epochs, grad_tol, seed,
                            **_schedule_kwargs(momentum, weight_decay, milestones, decay,
                                               decay_mode, track_every))
        click.echo(f"training {network.label} on {network.data.name} "
                   f"({network.data.n_train} samples) on {network.device}", err=True)
        res = train_network(network, cfg, checkpoint=checkpoint, verbose=verbose)
    save_weights(res, out, network.data)
    echo_blocks(training_blocks(res, out))


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
    from nn_bridge.training.lr_decay import lr_decay_experiment
    from nn_bridge.training.tables import lr_decay_blocks

    with library_errors():
        network = _network(dataset, test_fraction, seed, model, width, depth, device)
        cfg = _train_config(lr, train_batch_size, max_epochs, grad_tol, seed,
                            **_schedule_kwargs(momentum, weight_decay, milestones, decay,
                                               decay_mode, track_every or 20))
        out = lr_decay_experiment(network.data, network.spec, cfg, milestone,
                                  n_windows=windows, device=network.device)
    echo_blocks(lr_decay_blocks(out, f"{dataset}, {model}: milestone epoch {milestone}, decay "
                                     f"{decay}, {max_epochs} epochs; medians over parameters, "
                                     "mean over windows"))
    if json_path:
        echo_wrote(atomic_write_json(json_path, out))


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
@user_network_options
@click.option("--sampled", type=click.IntRange(min=1), default=100, show_default=True,
              help="with --model-file: parameters per tensor kept for the full estimators")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=100, show_default=True,
              help="with --model-file: minibatches between resumable checkpoints")
@click.option("-v", "--verbose", is_flag=True)
def measure_cmd(dataset, model, width, depth, lr, train_batch_size, max_epochs, grad_tol,
                test_fraction, seed, device, batch_sizes, minibatches, sampling, estimator,
                n_fit, level, weights, workdir, plot, json_path, profile, model_file, data_file,
                loss, sampled, checkpoint_every, verbose):
    """Train (or load) a network, then measure alpha_i, sigma_i, Gaussianity, fit errors.

    With --model-file and --data: measure your own network on your own data, streaming
    (per-parameter log-moment alpha_i, beta/sigma^3; full estimators on a sample), at the
    weights of --weights (from `nn train --model-file`), else as built.
    """
    need_nn_extra()
    if model_file is not None or data_file is not None or loss is not None:
        return _measure_stream((model_file, data_file, loss), batch_sizes, minibatches,
                               estimator, n_fit, level, seed, test_fraction, device, sampled,
                               checkpoint_every, workdir, lr, weights, json_path, profile,
                               verbose)
    from nn_bridge.noise.measure import MeasureConfig, run_measurement
    from nn_bridge.noise.profile import save_profiles
    from nn_bridge.noise.tables import measurement_blocks
    from nn_bridge.training.checkpoint import atomic_write_json
    from nn_bridge.training.device import resolve_device

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
    echo_blocks(measurement_blocks(m, batch_sizes))
    if plot:
        from nn_bridge.noise.plots import plot_alpha_histograms

        echo_wrote(plot_alpha_histograms(m, plot))
    if json_path:
        echo_wrote(atomic_write_json(json_path, m.report()))
    if profile:
        for p in save_profiles({b: m.profile(b) for b in batch_sizes}, profile):
            echo_wrote(p)


def _measure_stream(user, batch_sizes, minibatches, estimator, n_fit, level, seed,
                    test_fraction, device, sampled, checkpoint_every, workdir, lr, weights,
                    json_path, profile, verbose):
    from nn_bridge.noise.profile import save_profiles
    from nn_bridge.noise.stream import StreamConfig, stream_noise, stream_report
    from nn_bridge.noise.tables import stream_blocks
    from nn_bridge.training.checkpoint import atomic_write_json
    from nn_bridge.training.train import load_weights

    model_file, data_file = user[0], user[1]
    if profile is not None and Path(profile).suffix.lower() not in (".json", ".npz"):
        raise click.BadParameter(f"{profile!r}: must end in .json or .npz",
                                 param_hint="'--profile'")
    results = []
    with library_errors():
        network = user_network(*user, seed=seed, device=device, test_fraction=test_fraction)
        dev, loss_fn = network.device, network.loss_fn
        if weights is not None:
            net, _ = load_weights(weights, network=network)
        else:
            net = network.build()
        X, y = network.tensors()
        at = f"weights {weights}" if weights is not None else "weights as built"
        click.echo(f"model {model_file} at {at}, data {data_file} ({X.shape[0]} training "
                   f"samples), device {dev}, workdir {workdir}", err=True)
        for b in batch_sizes:
            cfg = StreamConfig(n_minibatches=minibatches, batch_size=b, n_sampled=sampled,
                               estimator=estimator, level=level, n_fit=n_fit, seed=seed,
                               checkpoint_every=checkpoint_every)
            results.append(stream_noise(net, (X, y), loss_fn, cfg, device=dev, workdir=workdir,
                                        verbose=verbose))
    for st in results:
        echo_blocks(stream_blocks(st))
    if json_path:
        echo_wrote(atomic_write_json(json_path, stream_report(results, model_file=model_file,
                                                              data=data_file)))
    if profile:
        profiles = {st.batch_size: st.profile(lr, dataset=str(data_file),
                                              model={"model_file": model_file})
                    for st in results}
        for p in save_profiles(profiles, profile):
            echo_wrote(p)


# escape experiments and prediction vs measurement (nn_bridge part 2)
from cli.nn_escape import COMMANDS as _ESCAPE_COMMANDS  # noqa: E402

for _cmd in _ESCAPE_COMMANDS:
    nn.add_command(_cmd)

# papers 000 / 003 / 004 on one grid of small offline networks
from cli.nn_reproduce import reproduce_cmd as _reproduce  # noqa: E402

nn.add_command(_reproduce)

# which mechanism carries the slow escapes (escape time vs radius and lr, chi2 verdicts)
from cli.nn_mechanism import mechanism_cmd as _mechanism  # noqa: E402

nn.add_command(_mechanism)
