"""``levydyn nn study | escape | predict | fit | stability``: real escapes vs the models.

- ``study``: the whole loop in one command (train -> minimum -> curvature and noise profiles
  -> escape experiments over (batch size, lr) -> predictions of the ladder -> table, fits,
  plots; ``--radius-scan``: escape time against the ball radius at one cell);
- ``escape``: only the network's escape experiments (and the basin / profile files);
- ``predict``: a noise profile + basin file -> levydyn prediction for given lr's;
- ``fit``: mean escape time vs lr with the Levy and the Gaussian theory, from a JSON report;
- ``stability``: the stability diagram of SGD at the minimum (top Lyapunov exponent lambda_1
  and Kesten tail index alpha_K of the random recursion per (lr, B)), heat map and JSON.

The work is ``nn_bridge.escape`` (``run_study``, ``radius_scan``, ``predict_from_profile``,
``fits_from_report``, the text in ``nn_bridge.escape.tables``); this module parses and
prints. Registered on the ``nn`` group by ``cli/nn.py`` (``COMMANDS``). torch is imported
only inside the commands.
"""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import FLOATS, CliError, library_errors, need_nn_extra
from cli.nn_options import (MODELS, device_option, echo_blocks, echo_wrote, grid_options,
                            models_option, network_options, progress, run_options,
                            study_options, user_network, user_network_options)
from cli.types import cluster_options


def _study(quick, models, workdir, quiet, user, cached_only=False, cluster=None, **kw):
    """The study, serially or (``cluster``: ``run_study_on_dask``'s scheduler, workers,
    scan) on Dask."""
    from nn_bridge.escape.config import StudyConfig
    from nn_bridge.escape.study import run_study

    with library_errors():
        network = user_network(*user[:3], device=user[3], seed=kw.get("seed") or 0)
        cfg = StudyConfig.from_options(quick, models, network=network, **kw)
        log = progress(quiet)
        log(f"study: batch sizes {list(cfg.batch_sizes)}, lrs {list(cfg.lrs)}, radius "
            f"{cfg.radius:g}, {cfg.n_seeds} seeds, max {cfg.max_iter} iterations; workdir {workdir}")
        if cluster is None:
            return run_study(cfg, workdir=workdir, log=log, cached_only=cached_only)
        from nn_bridge.escape.distributed import StudyTaskError, run_study_on_dask

        try:
            return run_study_on_dask(cfg, workdir, log=log, **cluster)
        except (ConnectionError, TimeoutError, StudyTaskError) as exc:
            raise CliError(" ".join(str(exc).split())) from None


def _cluster(scheduler, workers, cached_only, radius_scan):
    """``run_study_on_dask``'s cluster settings from the options, or None (serial)."""
    if not (scheduler or workers):
        return None
    if scheduler and (click.get_current_context().get_parameter_source("workdir")
                      is click.core.ParameterSource.DEFAULT):
        raise CliError("--scheduler needs --workdir: a directory every worker reads and "
                       "writes at the same path (the workers exchange results through it)")
    if cached_only:
        raise CliError("--cached-only runs nothing: drop --scheduler / --workers")
    return {"scheduler": scheduler, "workers": workers, "scan": radius_scan}


def _write_outputs(study, json_path, basin_out, profile_out):
    from nn_bridge.escape.basin import save_basin
    from nn_bridge.noise.profile import save_profiles
    from nn_bridge.training.checkpoint import atomic_write_json

    if json_path:
        echo_wrote(atomic_write_json(json_path, study.report()))
    if basin_out:
        echo_wrote(save_basin(study.basin, basin_out))
    if profile_out:
        if Path(profile_out).suffix.lower() not in (".json", ".npz"):
            raise CliError(f"--profile-out {profile_out!r}: must end in .json or .npz")
        for p in save_profiles(study.basin.profiles, profile_out):
            echo_wrote(p)


def _grid(dataset, width, depth, seed, weight_decay, batch_sizes, lrs, radius, loss_rise, seeds,
          max_iter, train_batch_size, splitting, split_replicas, split_runs, **horizon):
    """The StudyConfig fields of the shared options; ``horizon``: long_max_iter,
    model_max_iter, precision, slow_cells, minimum_evals."""
    return dict(dataset=dataset, width=width, depth=depth, seed=seed, weight_decay=weight_decay,
                batch_sizes=batch_sizes, lrs=lrs, radius=radius, loss_rise=loss_rise,
                n_seeds=seeds, max_iter=max_iter, train_batch_size=train_batch_size,
                splitting=splitting or None, split_replicas=split_replicas,
                split_runs=split_runs, **horizon)


@click.command("study")
@study_options
@click.option("--models", callback=models_option, default=None,
              help=f"predictions to run, of {','.join(MODELS)} (default all but "
                   "nonlinear_gauss, rung (i): its step is a full-batch gradient)")
@click.option("--paths", type=click.IntRange(min=2), default=None,
              help="paths per prediction [200; quick: 32]")
@click.option("--k", type=click.IntRange(min=1), default=None,
              help="Hessian eigenpairs kept [20; quick: 5]")
@click.option("--torch-paths", type=click.IntRange(min=2), default=None,
              help="paths per torch rung (f'), (g), (h) [64; quick: 16]")
@click.option("--tail-particles", type=click.IntRange(min=2), default=None,
              help="particles of the Kesten tail index alpha_K in stable cells (cloning; "
                   "its cost grows with them and the reachable dimension) [128; quick: 32]")
@click.option("--radius-scan", is_flag=True,
              help="also escape time vs radius R in 0.25,0.5,1,2,4 at B=8, lr=0.5 (measured, "
                   "(f), (h), the regime's law)")
@click.option("--cached-only", is_flag=True,
              help="report only the cells and predictions already in --workdir (a study "
                   "still being filled by another process); nothing new is simulated")
@click.option("--model-out", type=click.Path(dir_okay=False), default=None,
              help="write the minibatch-model profile (.npz) for `levydyn nn stability`")
@click.option("--plot-dir", type=click.Path(file_okay=False), default=None,
              help="write nn_escape_curves.png, nn_survival.png and nn_ladder_<dataset>.png here")
@cluster_options("the cells run one after another in this process")
def study_cmd(dataset, width, depth, seed, weight_decay, minimum_evals, model_file, data_file,
              loss, device,
              batch_sizes, lrs, radius, loss_rise, seeds, max_iter, long_max_iter,
              model_max_iter, precision, slow_cells, train_batch_size, splitting,
              split_replicas, split_runs, quick, workdir, json_path, quiet, basin_out,
              profile_out, models, paths, k, torch_paths, tail_particles, radius_scan,
              cached_only, model_out, plot_dir, scheduler, workers):
    """Measured alpha_i -> simulator -> predicted escapes vs the network's real escapes.

    The network: the built-in MLP (--dataset, --width, --depth) or yours (--model-file,
    --data, --loss). With --scheduler or --workers the cells (and the radius scan's
    radii) run as Dask tasks that exchange results through --workdir; a rerun resumes."""
    need_nn_extra()
    cluster = _cluster(scheduler, workers, cached_only, radius_scan)
    st = _study(quick, models, workdir, quiet, (model_file, data_file, loss, device),
                cached_only=cached_only, cluster=cluster, n_paths=paths, k=k,
                torch_paths=torch_paths, tail_particles=tail_particles,
                **_grid(dataset, width, depth, seed, weight_decay, batch_sizes, lrs, radius,
                        loss_rise, seeds, max_iter, train_batch_size, splitting,
                        split_replicas, split_runs, long_max_iter=long_max_iter,
                        model_max_iter=model_max_iter, precision=precision,
                        slow_cells=slow_cells, minimum_evals=minimum_evals))
    if radius_scan and cluster is None:
        from nn_bridge.escape.radius_scan import radius_scan as scan

        with library_errors():
            st.scan = scan(st.config, st.basin, workdir=workdir, log=progress(quiet),
                           cached_only=cached_only)
    from nn_bridge.escape.tables import study_blocks

    echo_blocks(study_blocks(st))
    _write_outputs(st, json_path, basin_out, profile_out)
    if model_out:
        from nn_bridge.curvature.minibatch_model import save_minibatch_model

        with library_errors():
            echo_wrote(save_minibatch_model(st.basin.minibatch, model_out))
    if plot_dir:
        from nn_bridge.escape.plots import plot_escape_curves, plot_ladder, plot_survival

        d = Path(plot_dir)
        echo_wrote(plot_escape_curves(st, d / "nn_escape_curves.png"))
        echo_wrote(plot_survival(st, d / "nn_survival.png"))
        echo_wrote(plot_ladder(st, d / f"nn_ladder_{st.config.dataset}.png"))


@click.command("escape")
@study_options
def escape_cmd(dataset, width, depth, seed, weight_decay, minimum_evals, model_file, data_file,
               loss, device,
               batch_sizes, lrs, radius, loss_rise, seeds, max_iter, long_max_iter,
               model_max_iter, precision, slow_cells, train_batch_size, splitting,
               split_replicas, split_runs, quick, workdir, json_path, quiet, basin_out,
               profile_out):
    """Escape experiments only: SGD from w*, many seeds at once, until ||w - w*|| > radius
    (no slow cells unless --slow-cells is given; horizons grow as in `nn study`)."""
    need_nn_extra()
    st = _study(quick, [], workdir, quiet, (model_file, data_file, loss, device),
                **_grid(dataset, width, depth, seed, weight_decay, batch_sizes, lrs, radius,
                        loss_rise, seeds, max_iter, train_batch_size, splitting,
                        split_replicas, split_runs, long_max_iter=long_max_iter,
                        model_max_iter=model_max_iter, precision=precision,
                        slow_cells=0 if slow_cells is None else slow_cells,
                        minimum_evals=minimum_evals))
    from nn_bridge.escape.tables import basin_blocks, cells_blocks

    echo_blocks(basin_blocks(st) + cells_blocks(st, with_models=False))
    _write_outputs(st, json_path, basin_out, profile_out)


@click.command("predict")
@click.argument("profile", type=click.Path(dir_okay=False))
@click.option("--basin", "basin_path", type=click.Path(dir_okay=False), required=True,
              help="w* and curvature from `levydyn nn study/escape --basin-out`")
@click.option("--lrs", type=FLOATS, required=True, help="escape learning rates")
@click.option("--radius", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True)
@click.option("--paths", type=click.IntRange(min=2), default=200, show_default=True)
@click.option("--max-iter", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--max-axes", type=click.IntRange(min=1), default=None,
              help="keep only this many parameters (largest Gaussian spread)")
def predict_cmd(profile, basin_path, lrs, radius, paths, max_iter, seed, max_axes):
    """Noise profile + basin -> levydyn prediction (Levy and Gaussian twin, closed forms)."""
    from nn_bridge.escape.basin import load_basin_curvature
    from nn_bridge.escape.ladder import predict_from_profile
    from nn_bridge.escape.tables import profile_prediction_blocks
    from nn_bridge.noise.profile import load_profile

    with library_errors():
        prof = load_profile(profile)
        rows = predict_from_profile(prof, load_basin_curvature(basin_path), lrs, radius=radius,
                                    n_paths=paths, max_iter=max_iter, seed=seed,
                                    max_axes=max_axes)
    echo_blocks(profile_prediction_blocks(profile, prof, rows))


@click.command("fit")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("--criterion", type=click.Choice(["distance", "loss"]), default="distance",
              show_default=True)
def fit_cmd(report, criterion):
    """Fit mean escape time vs lr (and batch size): Levy vs Gaussian, from a study JSON."""
    from nn_bridge.escape.study import fits_from_report
    from nn_bridge.escape.tables import fits_blocks

    with library_errors():
        fits = fits_from_report(report, criterion)
    echo_blocks(fits_blocks(fits))


@click.command("stability")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False), default=None,
              help="minibatch-model profile (.npz from --profile-out); no torch needed")
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="trained weights from `levydyn nn train` (default: train the built-in MLP)")
@network_options(16, "built-in MLP width (ignored with --weights)")
@user_network_options
@device_option
@grid_options("grid of B [the profile's grid; new profile: 4,8,16]",
              "grid of lr [the profile's grid; new profile: 0.2,0.3,0.5,0.8]")
@click.option("--tail/--no-tail", default=True, show_default=True,
              help="Kesten tail index alpha_K in the stable cells (cloning)")
@click.option("--remainder", is_flag=True,
              help="add the dense shared remainder R to every H_B (exact mean Hessian; "
                   "O(P^2) per step)")
@click.option("--lyap-paths", type=click.IntRange(min=2), default=64, show_default=True)
@click.option("--lyap-steps", type=click.IntRange(min=10), default=1000, show_default=True)
@click.option("--tail-particles", type=click.IntRange(min=2), default=64, show_default=True,
              help="cloning population for Lambda(s) (alpha_K)")
@click.option("--tail-steps", type=click.IntRange(min=10), default=100, show_default=True)
@click.option("--memory-limit", type=click.FloatRange(min=0, min_open=True), default=2.0,
              show_default=True,
              help="GiB: above it (per-sample factors + dense Hessian) the recursion runs "
                   "matrix-free (lambda_1 only)")
@click.option("--matrix-free", is_flag=True, help="matrix-free products whatever the size")
@run_options("checkpoints (training, minimum, Hessian, factors)",
             json_type=click.Path(dir_okay=False))
@click.option("--profile-out", type=click.Path(dir_okay=False), default=None,
              help="write the minibatch-model profile (.npz)")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="heat map (.png)")
def stability_cmd(profile_path, weights, dataset, width, depth, seed, weight_decay,
                  minimum_evals, model_file, data_file, loss, device, batch_sizes, lrs, tail, remainder, lyap_paths,
                  lyap_steps, tail_particles, tail_steps, memory_limit, matrix_free, workdir,
                  json_path, quiet, profile_out, plot):
    """Stability diagram of SGD at a network's minimum: lambda_1 and alpha_K per (lr, B).

    SGD near w* is x' = (I - lr H_B) x - lr u_B with per-sample (Gauss-Newton) curvature;
    lambda_1 > 0: unstable (escape ~ log R / lambda_1), lambda_1 < 0: stable with heavy
    tails P(|x| > R) ~ R^-alpha_K. Networks whose per-sample factors exceed --memory-limit
    (or with --matrix-free) get lambda_1 from matrix-free Gauss-Newton products.
    """
    import time

    from nn_bridge.curvature.stability import plot_stability, stability_diagram

    t0 = time.perf_counter()
    log = progress(quiet)
    kw = dict(remainder=remainder, tail=tail, lyap_paths=lyap_paths, lyap_steps=lyap_steps,
              tail_particles=tail_particles, tail_steps=tail_steps, seed=seed)
    with library_errors():
        if profile_path is not None:
            from nn_bridge.curvature.minibatch_model import check_weights, load_minibatch_model

            mbm = load_minibatch_model(profile_path)
            if weights is not None:
                need_nn_extra()
                check_weights(mbm, weights)
            diag = stability_diagram(mbm, lrs, batch_sizes, log=log, **kw)
        else:
            need_nn_extra()
            from nn_bridge.escape.basin import network_stability
            from nn_bridge.escape.config import StudyConfig

            cfg = StudyConfig(dataset=dataset, width=width, depth=depth, seed=seed,
                              weight_decay=weight_decay,
                              **({} if minimum_evals is None else
                                 {"minimum_evals": minimum_evals}),
                              network=user_network(model_file, data_file, loss, seed=seed,
                                                   device=device),
                              batch_sizes=tuple(batch_sizes or (4, 8, 16)),
                              lrs=tuple(lrs or (0.2, 0.3, 0.5, 0.8)))
            diag, mbm = network_stability(cfg, weights=weights, workdir=workdir, log=log,
                                          matrix_free=True if matrix_free else None,
                                          memory_limit=memory_limit * 2 ** 30, **kw)
    from nn_bridge.escape.tables import stability_blocks
    from nn_bridge.training.checkpoint import atomic_write_json

    echo_blocks(stability_blocks(diag))
    click.echo(f"wall time {time.perf_counter() - t0:.1f}s (diagram {diag.wall_time:.1f}s)")
    if profile_out and mbm is None:
        click.echo("no --profile-out: the matrix-free path stores no per-sample factors",
                   err=True)
    elif profile_out:
        from nn_bridge.curvature.minibatch_model import save_minibatch_model

        with library_errors():
            echo_wrote(save_minibatch_model(mbm, profile_out))
    if json_path:
        echo_wrote(atomic_write_json(json_path, diag.report()))
    if plot:
        echo_wrote(plot_stability(diag, plot))


COMMANDS = (study_cmd, escape_cmd, predict_cmd, fit_cmd, stability_cmd)
