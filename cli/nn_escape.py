"""``levydyn nn study | escape | predict | fit``: real escapes vs the simulator's prediction.

- ``study``: the whole loop in one command (train -> minimum -> curvature and noise profiles
  -> escape experiments over (batch size, lr) -> levydyn predictions -> table, fits, plots);
- ``escape``: only the network's escape experiments (and the basin / profile files);
- ``predict``: a noise profile + basin file -> levydyn prediction for given lr's;
- ``fit``: mean escape time vs lr with the Levy and the Gaussian theory, from a JSON report;
- ``stability``: the stability diagram of SGD at the minimum (top Lyapunov exponent lambda_1
  and Kesten tail index alpha_K of the random recursion per (lr, B)), heat map and JSON;
- ``radius-scan``: escape time against the ball radius at one cell (measured, (f), (h) and
  the regime's law).

Registered on the ``nn`` group by ``cli/nn.py`` (``COMMANDS``). torch is imported only
inside the commands.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import click

from cli.common import FLOATS, CliError, format_table, library_errors, need_nn_extra
from cli.types import OutputFile, json_file

_MODELS = ("levy", "gauss", "lin_gauss", "lin_minibatch", "multiplicative", "multiplicative_exact",
           "nonlinear_frozen", "nonlinear_multiplicative")


def _ints(ctx, param, value):
    if value is None or isinstance(value, (list, tuple)):
        return value
    try:
        out = [int(v) for v in str(value).split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated positive integers, got {value!r}")
    if not out or any(v < 1 for v in out) or len(set(out)) != len(out):
        raise click.BadParameter(f"expected distinct comma-separated positive integers, got {value!r}")
    return out


def _models(ctx, param, value):
    if value is None:
        return value
    out = [v.strip() for v in str(value).split(",") if v.strip()]
    bad = [m for m in out if m not in _MODELS]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not one of {', '.join(_MODELS)}")
    return out


def _fmt(x, spec=".3g"):
    return "nan" if x is None or x != x else ("inf" if math.isinf(x) else format(x, spec))


def _est(e) -> str:
    if not math.isfinite(e.value):
        return f"> {_fmt(e.low)}"
    return f"{_fmt(e.value)} [{_fmt(e.low)}, {_fmt(e.high)}]"


def _ratio(e) -> str:
    if not math.isfinite(e.value):
        return "n/a" if e.value != e.value else "inf"
    if not math.isfinite(e.low):
        return _fmt(e.value)
    return f"{_fmt(e.value, '.2g')} [{_fmt(e.low, '.2g')}, {_fmt(e.high, '.2g')}]"


def _study_options(f):
    opts = [
        click.option("--dataset", default="breast_cancer", show_default=True),
        click.option("--width", type=click.IntRange(min=1), default=None,
                     help="hidden units of the 3-layer ReLU MLP [16; quick: 8]"),
        click.option("--depth", type=click.IntRange(min=2), default=3, show_default=True),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--weight-decay", type=click.FloatRange(min=0), default=1e-2,
                     show_default=True, help="L2 term of U: makes w* an isolated minimum"),
        click.option("--batch-sizes", callback=_ints, default=None,
                     help="escape batch sizes [4,8,16; quick: 8,32]"),
        click.option("--lrs", type=FLOATS, default=None,
                     help="escape learning rates [0.2,0.3,0.5,0.8; quick: 0.4,0.8]"),
        click.option("--radius", type=click.FloatRange(min=0, min_open=True), default=1.0,
                     show_default=True, help="distance criterion ||w - w*|| > radius"),
        click.option("--loss-rise", type=click.FloatRange(min=0), default=0.1,
                     show_default=True, help="loss criterion U(w) - U(w*) > this (0: off)"),
        click.option("--seeds", type=click.IntRange(min=2), default=None,
                     help="SGD replicas per cell [200; quick: 16]"),
        click.option("--max-iter", type=click.IntRange(min=1), default=None,
                     help="censoring horizon in iterations [2000; quick: 300]"),
        click.option("--quick", is_flag=True, help="seconds-long smoke version (tests)"),
        click.option("--workdir", type=click.Path(file_okay=False), default=".levydyn-nn",
                     show_default=True, help="checkpoints and finished parts; reruns resume"),
        click.option("--json", "json_path", type=json_file(), default=None),
        click.option("--basin-out", type=OutputFile(None, "basin_out"), default=None,
                     help="write w*, curvature (.npz) for `levydyn nn predict`"),
        click.option("--profile-out", type=OutputFile(None, "profile_out"), default=None,
                     help="noise profiles PATH.json|.npz, written as PATH_b<B>.<ext>"),
        click.option("-q", "--quiet", is_flag=True, help="no progress lines on stderr"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _config(quick, models, **kw):
    from nn_bridge.escape.predict import StudyConfig

    given = {k: v for k, v in kw.items() if v is not None}
    if "lrs" in given:
        given["lrs"] = tuple(given["lrs"])
    if "batch_sizes" in given:
        given["batch_sizes"] = tuple(given["batch_sizes"])
    if given.get("loss_rise") == 0:
        given["loss_rise"] = None
    if models is not None:
        given["models"] = tuple(models)
    return StudyConfig.quick(**given) if quick else StudyConfig(**given)


def _write_outputs(study, json_path, basin_out, profile_out):
    import numpy as np

    from nn_bridge.training.checkpoint import atomic_save_npz, atomic_write_json
    from nn_bridge.noise.profile import save_profile

    if json_path:
        click.echo(f"wrote {atomic_write_json(json_path, study.report())}", err=True)
    if basin_out:
        b = study.basin
        meta = {"curvature": b.curvature.summary(), "minimum": b.minimum.summary(),
                "model": b.spec.to_dict(), "data": b.data}
        p = atomic_save_npz(basin_out, w_star=b.minimum.w, **b.curvature.arrays(),
                            meta=np.array(json.dumps(_json_safe(meta))))
        click.echo(f"wrote {p}", err=True)
    if profile_out:
        p = Path(profile_out)
        if p.suffix.lower() not in (".json", ".npz"):
            raise CliError(f"--profile-out {profile_out!r}: must end in .json or .npz")
        for B, prof in study.basin.profiles.items():
            q = p.with_name(f"{p.stem}_b{B}{p.suffix}")
            click.echo(f"wrote {save_profile(prof, q)}", err=True)


def _json_safe(obj):
    from nn_bridge.training.checkpoint import json_safe

    return json_safe(obj)


def _print_basin(study):
    b = study.basin
    m, cs = b.minimum, b.curvature.summary()
    click.echo(f"network: {b.spec.in_features}-{b.spec.width}x{b.spec.depth - 1}-"
               f"{b.spec.n_classes} ReLU MLP on {b.data['name']} ({b.data['n_train']} training "
               f"samples), {b.flat.n_params} parameters")
    click.echo(f"minimum w*: U = CE + {m.weight_decay:g}/2 ||w||^2 = {m.objective:.4g} "
               f"(CE {m.loss:.4g}), ||grad U(w*)|| {m.grad_norm:.2e}, ||w*|| "
               f"{float((m.w ** 2).sum()) ** 0.5:.3g}, train acc {m.train_acc:.3f}")
    click.echo(f"curvature ({cs['method']}): lambda_1..3 = "
               f"{', '.join(_fmt(v, '.3g') for v in cs['top_eigvals'][:3])}; model H = top-"
               f"{cs['k']} + diagonal (covers {100 * cs['top_k_trace_share']:.0f} % of the trace, "
               f"Frobenius error {_fmt(cs['frob_rel_error'], '.2f')}); smallest eigenvalue "
               f"{_fmt(cs['min_eig'], '.2g')}")
    rows = [[str(B), f"{n['alpha_median']:.2f} [{n['alpha_q10']:.2f}, {n['alpha_q90']:.2f}]",
             _fmt(n["pooled_alpha"], ".2f"), _fmt(n["noise_std_total"]),
             _fmt(n["max_noise_norm"])] for B, n in b.noise.items()]
    click.echo("noise at w* (per parameter, SaS(1) fits; std exact for iid minibatches):")
    click.echo(format_table(["batch", "alpha_i median [q10, q90]", "pooled alpha",
                             "||std||", "max ||u|| measured"], rows))


def _pred(p, m) -> str:
    """``value (ratio)`` of a prediction against the measured mean; censored: lower bounds."""
    if not math.isfinite(p.value):
        r = p.low / m.value if math.isfinite(m.value) else math.nan
        return f"> {_fmt(p.low)} (> {_fmt(r, '.2g')})"
    r = p.value / m.value if math.isfinite(m.value) else math.nan
    return f"{_fmt(p.value)} ({_fmt(r, '.2g')})"


def _print_cells(study, with_models=True):
    from levydyn.results import Estimate
    from nn_bridge.escape.predict import MODEL_LABELS

    models = list(study.config.models) if with_models else []
    head = ["B", "lr", "measured mean [95% CI]", "cens", "loss criterion"]
    for m in models:
        head.append(MODEL_LABELS[m])
    if with_models:
        head.append("(b) Levy 1-jump")
    rows = []
    for c in study.cells:
        e = c.measured.mean_iterations()
        lc = c.measured.mean_iterations("loss") if c.measured.loss_iter is not None else None
        row = [str(c.batch_size), f"{c.lr:g}", _est(e),
               f"{100 * (1 - c.measured.dist_exited.mean()):.0f}%",
               _est(lc) if lc is not None else "-"]
        for m in models:
            row.append(_pred(c.predicted[m].mean_iterations(), e) if m in c.predicted
                       else "not run")
        if with_models:
            cf = c.closed_levy.get("mean_iterations", math.nan)
            row.append(_pred(Estimate(cf, cf, cf), e))
        rows.append(row)
    click.echo("\nmean escape time in SGD iterations (SDE time = iterations x lr); model "
               "columns: predicted (predicted / measured)")
    click.echo(format_table(head, rows))
    if with_models:
        rows = []
        for c in study.cells:
            sc = c.survival_check()
            if not all(math.isfinite(t) for t in sc["t"]):
                continue
            rows.append([str(c.batch_size), f"{c.lr:g}",
                         " / ".join(_fmt(t, ".3g") for t in sc["t"])]
                        + [" / ".join(_fmt(v, ".2f") for v in sc[m]) if m in sc else "not run"
                           for m in models])
        click.echo("\nsurvival P(escape > t) at the measured quartiles t (measured: 0.75 / 0.50 "
                   "/ 0.25)")
        click.echo(format_table(["B", "lr", "t (iterations)"] + [MODEL_LABELS[m] for m in models],
                                rows))
    # exit layers
    names = study.basin.layer_names
    rows = []
    for c in study.cells:
        meas = c.measured.layer_probability()
        row = [str(c.batch_size), f"{c.lr:g}",
               " ".join(f"{n}:{_fmt(meas[n].value, '.2f')}" for n in names),
               " ".join(f"{n}:{_fmt(v, '.2f')}" for n, v in c.measured.mean_layer_share().items())]
        for m in models:
            if m not in c.predicted:
                row.append("not run")
                continue
            pl = c.predicted[m].layer_probability()
            row.append(" ".join(f"{n}:{_fmt(pl[n].value, '.2f')}" for n in names))
        rows.append(row)
    click.echo("\nexit layer (coordinate of largest |w - w*| at the exit; P among exits) and "
               "the layers' share of ||w - w*||^2 at the exit")
    click.echo(format_table(["B", "lr", "measured P(layer)", "measured share"]
                            + [MODEL_LABELS[m] for m in models], rows))


def _print_ladder(study):
    from nn_bridge.escape.predict import LADDER, MODEL_LABELS

    models = [m for m in LADDER if m in study.config.models]
    if not models:
        return
    rows = []
    for c in study.cells:
        e = c.measured.mean_iterations()
        row = [str(c.batch_size), f"{c.lr:g}", _est(e),
               f"{100 * (1 - c.measured.dist_exited.mean()):.0f}%"]
        row += [_ratio(c.ratio(m)) if m in c.predicted else "not run" for m in models]
        rows.append(row)
    click.echo("\nthe ladder: predicted / measured mean escape iterations [95% CI] "
               "(measured -> (h) -> (g) -> (f) -> (e) -> (d) -> (a))")
    click.echo(format_table(["B", "lr", "measured", "cens"] + [MODEL_LABELS[m] for m in models],
                            rows))


def _print_scan(scan):
    from nn_bridge.escape.predict import MODEL_LABELS

    models = list(scan.predicted)
    rows = []
    for R in scan.radii:
        e = scan.measured[R]
        rows.append([f"{R:g}", _est(e.mean_iterations()),
                     f"{100 * (1 - e.dist_exited.mean()):.0f}%"]
                    + [_pred(scan.predicted[m][R].mean_iterations(), e.mean_iterations())
                       for m in models])
    click.echo(f"\nescape time vs ball radius R at B={scan.batch_size}, lr={scan.lr:g} "
               "(iterations; predicted (predicted / measured))")
    click.echo(format_table(["R", "measured", "cens"] + [MODEL_LABELS[m] for m in models], rows))
    g = scan.growth()
    lam = scan.stability.get("lambda_1")
    if g.get("verdict"):
        click.echo(f"measured growth with R: {g['verdict']} (chi2/dof, p: E tau linear in log R "
                   f"{g['logarithmic']['chi2_dof']:.2g}, p {g['logarithmic']['p_value']:.2g}, slope "
                   f"{g['logarithmic']['slope']:.3g}; power law {g['polynomial']['chi2_dof']:.2g}, "
                   f"p {g['polynomial']['p_value']:.2g}, exponent {g['polynomial']['slope']:.3g})")
    if lam is not None:
        a = scan.stability.get("alpha_K")
        click.echo(f"multiplicative model: lambda_1 = {lam} -> {scan.stability['regime']}"
                   + (f", alpha_K = {a}" if a is not None else "")
                   + (f"; predicted slope of E tau vs log R = 1/lambda_1 = {1 / lam.value:.3g}"
                      if scan.stability['regime'] == "unstable" else "")
                   + f"; agrees with the measured growth: {g.get('agrees')}")
    for m in models:
        click.echo(f"largest R with {MODEL_LABELS[m]} within 2x (all smaller R too): "
                   f"{scan.largest_radius_within(m)}")


def _print_targets(study):
    t = study.targets()
    if t["f_within_2x_in_every_counted_cell"] is None:
        return
    click.echo(f"\ntarget: (f) within 2x of the measured mean in {t['n_f_within_2x']} of "
               f"{t['n_counted']} cells with < 50% censoring")
    sign = {"unstable": ">", "stable": "<"}
    split = [f"{v['n_f_within_2x']} of {v['n_counted']} {reg} (lambda_1 {sign[reg]} 0)"
             for reg, v in t["by_regime"].items() if v["n_counted"]]
    if split:
        click.echo("  by the sign of lambda_1: " + "; ".join(split))
    for r in t["cells"]:
        if not r.get("f_within_2x", True):
            click.echo(f"  B={r['batch_size']} lr={r['lr']:g}: (f) ratio {_fmt(r['f_ratio'], '.3g')}"
                       f", first rung off by > 2x: {r['first_rung_off_by_2x']}"
                       + ("" if r["counted"] else " (measurement >= 50% censored: not counted)"))


def _lam(c) -> list[str]:
    st = c.stability
    if not st:
        return ["-", "-", "-"]
    lam, a = st["lambda_1"], st["alpha_K"]
    return [f"{lam.value:+.4f} [{lam.low:+.4f}, {lam.high:+.4f}]", st["regime"],
            "-" if a is None else _est(a)]


def _print_stability_cells(study):
    if not any(c.stability for c in study.cells):
        return
    rows = [[str(c.batch_size), f"{c.lr:g}"] + _lam(c) for c in study.cells]
    click.echo("\nstability of the random product prod (I - lr H_B) (levydyn.kesten): top "
               "Lyapunov exponent per iteration [95% CI], regime, Kesten tail index")
    click.echo(format_table(["B", "lr", "lambda_1", "regime", "alpha_K"], rows))


def _print_fits(fits):
    from nn_bridge.escape.fit import CurveFit

    rows = []
    for B, f in fits["vs_lr"].items():
        def one(name, label):
            v = f.get(name)
            if not isinstance(v, CurveFit):
                rows.append([str(B), label, "-", "-", "-", str(v)[:70]])
                return
            p = v.params
            par = (f"alpha {p['alpha']:.2f} +- {v.se['alpha']:.2f}" if "alpha" in p
                   else f"K {p['K']:.3g} +- {v.se['K']:.2g}")
            rows.append([str(B), label, par, _fmt(v.chi2_dof, ".2f"), _fmt(v.r2, ".3f"),
                         f"{v.n} pts ({v.n_left_out} censored left out)"])
        one("levy_free", "Levy, alpha fitted")
        if "alpha_measured_median" in f:
            one("levy_measured_alpha",
                f"Levy, alpha = measured {f['alpha_measured_median']:.2f}")
        one("gaussian", "Gaussian/Kramers")
    click.echo("\nfits of the measured mean escape time vs lr (log tau = c - alpha log lr | "
               "c - log lr + K/lr)")
    click.echo(format_table(["B", "model", "parameter", "chi2/dof", "R^2", "points"], rows))
    rows = []
    for lr, f in fits["vs_batch"].items():
        for name in ("levy", "gaussian"):
            v = f.get(name)
            if isinstance(v, CurveFit):
                p = v.params
                par = (f"alpha {p['alpha']:.2f} +- {v.se['alpha']:.2f}" if "alpha" in p
                       else f"K {p['K']:.3g} +- {v.se['K']:.2g}")
                rows.append([f"{lr:g}", name, par, _fmt(v.chi2_dof, ".2f"), _fmt(v.r2, ".3f")])
    if rows:
        click.echo("\nfits vs batch size at fixed lr (log tau = c + (alpha-1) log B | c + K B)")
        click.echo(format_table(["lr", "model", "parameter", "chi2/dof", "R^2"], rows))


def _run(quick, models, workdir, quiet, cached_only=False, **kw):
    from nn_bridge.escape.predict import run_study

    with library_errors():
        cfg = _config(quick, models, **kw)
        log = (lambda s: None) if quiet else (lambda s: click.echo(s, err=True))
        log(f"study: batch sizes {list(cfg.batch_sizes)}, lrs {list(cfg.lrs)}, radius "
            f"{cfg.radius:g}, {cfg.n_seeds} seeds, max {cfg.max_iter} iterations; workdir {workdir}")
        return run_study(cfg, workdir=workdir, log=log, cached_only=cached_only)


@click.command("study")
@_study_options
@click.option("--models", callback=_models, default=None,
              help=f"predictions to run (default all: {','.join(_MODELS)})")
@click.option("--paths", type=click.IntRange(min=2), default=None,
              help="paths per prediction [200; quick: 32]")
@click.option("--k", type=click.IntRange(min=1), default=None,
              help="Hessian eigenpairs kept [20; quick: 5]")
@click.option("--torch-paths", type=click.IntRange(min=2), default=None,
              help="paths per torch rung (f'), (g), (h) [64; quick: 16]")
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
def study_cmd(dataset, width, depth, seed, weight_decay, batch_sizes, lrs, radius, loss_rise,
              seeds, max_iter, quick, workdir, json_path, basin_out, profile_out, quiet,
              models, paths, k, torch_paths, radius_scan, cached_only, model_out, plot_dir):
    """Measured alpha_i -> simulator -> predicted escapes vs the network's real escapes."""
    need_nn_extra()
    st = _run(quick, models, workdir, quiet, dataset=dataset, width=width, depth=depth,
              seed=seed, weight_decay=weight_decay, batch_sizes=batch_sizes, lrs=lrs,
              radius=radius, loss_rise=loss_rise, n_seeds=seeds, max_iter=max_iter,
              n_paths=paths, k=k, torch_paths=torch_paths, cached_only=cached_only)
    if radius_scan:
        from nn_bridge.escape.predict import radius_scan as _scan

        with library_errors():
            log = (lambda s: None) if quiet else (lambda s: click.echo(s, err=True))
            st.scan = _scan(st.config, st.basin, workdir=workdir, log=log,
                            cached_only=cached_only)
    _print_basin(st)
    _print_cells(st, with_models=True)
    _print_ladder(st)
    _print_stability_cells(st)
    _print_fits(st.fits())
    if st.scan is not None:
        _print_scan(st.scan)
    _print_targets(st)
    click.echo(f"\nwall time {st.wall_time:.0f}s")
    _write_outputs(st, json_path, basin_out, profile_out)
    if model_out:
        from nn_bridge.curvature.minibatch_model import save_minibatch_model

        with library_errors():
            click.echo(f"wrote {save_minibatch_model(st.basin.minibatch, model_out)}", err=True)
    if plot_dir:
        from nn_bridge.escape.plots import plot_escape_curves, plot_survival

        d = Path(plot_dir)
        d.mkdir(parents=True, exist_ok=True)
        click.echo(f"wrote {plot_escape_curves(st, d / 'nn_escape_curves.png')}", err=True)
        click.echo(f"wrote {plot_survival(st, d / 'nn_survival.png')}", err=True)
        from nn_bridge.escape.plots import plot_ladder

        click.echo(f"wrote {plot_ladder(st, d / f'nn_ladder_{st.config.dataset}.png')}",
                   err=True)


@click.command("escape")
@_study_options
def escape_cmd(dataset, width, depth, seed, weight_decay, batch_sizes, lrs, radius, loss_rise,
               seeds, max_iter, quick, workdir, json_path, basin_out, profile_out, quiet):
    """Escape experiments only: SGD from w*, many seeds at once, until ||w - w*|| > radius."""
    need_nn_extra()
    st = _run(quick, [], workdir, quiet, dataset=dataset, width=width, depth=depth, seed=seed,
              weight_decay=weight_decay, batch_sizes=batch_sizes, lrs=lrs, radius=radius,
              loss_rise=loss_rise, n_seeds=seeds, max_iter=max_iter)
    _print_basin(st)
    _print_cells(st, with_models=False)
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
    import numpy as np

    from levydyn.simulate import simulate
    from nn_bridge.escape.bridge import build_bridge
    from nn_bridge.curvature.per_sample import Curvature
    from nn_bridge.escape.experiment import EscapeConfig
    from nn_bridge.escape.predict import escape_from_levydyn
    from nn_bridge.noise.profile import load_profile

    with library_errors():
        prof = load_profile(profile)
        p = Path(basin_path)
        if not p.is_file():
            raise ValueError(f"basin={basin_path!r}: file not found")
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in ("eigvals", "eigvecs", "diag")}
                meta = json.loads(str(z["meta"]))
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(f"basin={basin_path!r}: not a basin file ({exc})") from None
        curv = Curvature.from_arrays(arrays, meta["curvature"])
        rows = []
        for lr in lrs:
            br = build_bridge(prof, curv, lr, radius, max_axes=max_axes)
            cfg = EscapeConfig(lr=lr, batch_size=prof.batch_size, n_seeds=paths, radius=radius,
                               max_iter=max_iter, seed=seed)
            out = [f"{lr:g}"]
            for name, pr in (("levy", br.problem), ("gauss", br.gaussian)):
                if pr is None:
                    out.append("- (no noise_std in profile)")
                    continue
                e = escape_from_levydyn(simulate(pr, n_paths=paths, dt=lr, t_max=lr * max_iter,
                                                 seed=seed), br, cfg)
                lp = e.layer_probability()
                out.append(f"{_est(e.mean_iterations())}  "
                           + " ".join(f"{n}:{_fmt(v.value, '.2f')}" for n, v in lp.items()))
            cl = br.closed_form_levy()
            out.append(_fmt(cl["mean_iterations"]))
            rows.append(out)
    click.echo(f"profile {profile}: batch {prof.batch_size}, {br.reduction['n_axes']} of "
               f"{br.reduction['n_params']} parameters as axes; {br.reduction['hessian']}")
    click.echo(format_table(["lr", "Levy sim: mean [CI]  P(exit layer)",
                             "Gauss sim: mean [CI]  P(exit layer)", "Levy 1-jump"], rows))
    click.echo("(SGD iterations; levydyn Euler with dt = lr, eps_i = lr^(1-1/alpha_i) sigma_i)")


@click.command("fit")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("--criterion", type=click.Choice(["distance", "loss"]), default="distance",
              show_default=True)
def fit_cmd(report, criterion):
    """Fit mean escape time vs lr (and batch size): Levy vs Gaussian, from a study JSON."""
    from nn_bridge.escape.fit import fit_escape_table

    p = Path(report)
    if not p.is_file():
        raise CliError(f"report={report!r}: file not found")
    try:
        rep = json.loads(p.read_text())
        cells = rep["cells"]
        noise = rep["basin"]["noise"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"report={report!r}: not a `levydyn nn study/escape --json` report "
                       f"({exc})") from None
    if rep.get("schema") not in ("levydyn.nn_study/1", "levydyn.nn_study/2"):
        raise CliError(f"report={report!r}: schema {rep.get('schema')!r}, expected "
                       "'levydyn.nn_study/2' (or /1)")

    def est(c):
        m = c["measured"].get(criterion)
        if m is None:
            raise CliError(f"criterion={criterion!r}: not in the report (loss criterion off?)")
        e = m["mean_iterations"]
        return tuple(math.inf if v is None else float(v) for v in (e["value"], e["low"], e["high"]))

    with library_errors():
        rows = [(c["batch_size"], c["lr"], *est(c)) for c in cells]
        alpha = {int(B): n.get("alpha_median") for B, n in noise.items()}
        fits = fit_escape_table(rows, alpha)
    _print_fits(fits)


@click.command("stability")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False), default=None,
              help="minibatch-model profile (.npz from --profile-out); no torch needed")
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="trained weights from `levydyn nn train` (default: train the built-in MLP)")
@click.option("--dataset", default="breast_cancer", show_default=True)
@click.option("--width", type=click.IntRange(min=1), default=16, show_default=True,
              help="built-in MLP width (ignored with --weights)")
@click.option("--depth", type=click.IntRange(min=2), default=3, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=1e-2, show_default=True)
@click.option("--batch-sizes", callback=_ints, default=None,
              help="grid of B [the profile's grid; new profile: 4,8,16]")
@click.option("--lrs", type=FLOATS, default=None,
              help="grid of lr [the profile's grid; new profile: 0.2,0.3,0.5,0.8]")
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
@click.option("--workdir", type=click.Path(file_okay=False), default=".levydyn-nn",
              show_default=True, help="checkpoints (training, minimum, Hessian, factors)")
@click.option("--profile-out", type=click.Path(dir_okay=False), default=None,
              help="write the minibatch-model profile (.npz)")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="heat map (.png)")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
@click.option("-q", "--quiet", is_flag=True)
def stability_cmd(profile_path, weights, dataset, width, depth, seed, weight_decay, batch_sizes,
                  lrs, tail, remainder, lyap_paths, lyap_steps, tail_particles, tail_steps,
                  workdir, profile_out, plot, json_path, quiet):
    """Stability diagram of SGD at a network's minimum: lambda_1 and alpha_K per (lr, B).

    SGD near w* is x' = (I - lr H_B) x - lr u_B with per-sample (Gauss-Newton) curvature;
    lambda_1 > 0: unstable (escape ~ log R / lambda_1), lambda_1 < 0: stable with heavy
    tails P(|x| > R) ~ R^-alpha_K.
    """
    import time

    t0 = time.perf_counter()
    log = (lambda s: None) if quiet else (lambda s: click.echo(s, err=True))
    with library_errors():
        if profile_path is not None:
            from nn_bridge.curvature.minibatch_model import load_minibatch_model

            mbm = load_minibatch_model(profile_path)
            if weights is not None:
                need_nn_extra()
                _check_profile_weights(mbm, weights)
        else:
            need_nn_extra()
            mbm = _measure_model(weights, dataset, width, depth, seed, weight_decay,
                                 tuple(batch_sizes or (4, 8, 16)),
                                 tuple(lrs or (0.2, 0.3, 0.5, 0.8)), workdir, log)
        from nn_bridge.curvature.stability import plot_stability, stability_diagram

        diag = stability_diagram(mbm, lrs, batch_sizes, remainder=remainder, log=log, tail=tail,
                                 lyap_paths=lyap_paths, lyap_steps=lyap_steps,
                                 tail_particles=tail_particles, tail_steps=tail_steps, seed=seed)
    _print_stability(diag)
    click.echo(f"wall time {time.perf_counter() - t0:.1f}s (diagram {diag.wall_time:.1f}s)")
    from nn_bridge.training.checkpoint import atomic_write_json

    if profile_out:
        from nn_bridge.curvature.minibatch_model import save_minibatch_model

        with library_errors():
            click.echo(f"wrote {save_minibatch_model(mbm, profile_out)}", err=True)
    if json_path:
        click.echo(f"wrote {atomic_write_json(json_path, diag.report())}", err=True)
    if plot:
        click.echo(f"wrote {plot_stability(diag, plot)}", err=True)


def _check_profile_weights(mbm, weights):
    from nn_bridge.data.models import weights_checksum
    from nn_bridge.training.train import load_weights

    model, _ = load_weights(weights)
    want = mbm.extra.get("trained_weights_sha256") or mbm.weights_sha256
    mbm_sum = weights_checksum(model)
    if mbm_sum != want:
        raise ValueError(f"weights={weights!r}: sha256 {mbm_sum[:16]}... does not match the "
                         f"profile's weights ({want[:16]}...)")


def _measure_model(weights, dataset, width, depth, seed, weight_decay, batch_sizes, lrs,
                   workdir, log):
    """Trained network -> w* -> minibatch model (cached in ``workdir``)."""


    from nn_bridge.data.datasets import load_dataset
    from nn_bridge.data.models import ModelSpec, weights_checksum
    from nn_bridge.escape.predict import StudyConfig, _store, basin_at, cached_minimum
    from nn_bridge.curvature.stability import measure_minibatch_model
    from nn_bridge.training.train import load_weights, train, train_key

    cfg = StudyConfig(dataset=dataset, width=width, depth=depth, seed=seed,
                      weight_decay=weight_decay, batch_sizes=batch_sizes, lrs=lrs)
    data = load_dataset(dataset, test_fraction=cfg.test_fraction, seed=seed)
    if weights is not None:
        model, meta = load_weights(weights)
        spec = meta["spec"]
        if spec.in_features != data.n_features or spec.n_classes != data.n_classes:
            raise ValueError(f"weights={weights!r}: a {spec.in_features}-input, "
                             f"{spec.n_classes}-class model does not fit dataset={dataset!r}")
        trained = weights_checksum(model)
    else:
        spec = ModelSpec(kind="mlp", in_features=data.n_features, n_classes=data.n_classes,
                         width=width, depth=depth, seed=seed)
        tcfg = cfg.train_config()
        ckpt = Path(workdir) / f"train-{train_key(data, spec, tcfg)}.pt"
        res = train(data, spec, tcfg, device="cpu", checkpoint=ckpt)
        model, trained = res.model, res.weights_sha256
        log(f"trained: {res.epochs} epochs ({res.reason})")
    store = _store(workdir)
    mn = cached_minimum(store, model, data, trained, weight_decay)
    log(f"minimum: U {mn.objective:.4g}, ||grad U|| {mn.grad_norm:.2e}, train acc "
        f"{mn.train_acc:.3f}")
    flat, X, y, G = basin_at(spec, data, mn.w)
    mbm, _ = measure_minibatch_model(flat, X, y, mn, G, lrs=lrs, batch_sizes=batch_sizes,
                                     dataset=data, spec=spec.to_dict(), trained_sha256=trained,
                                     store=store, factor_probes=cfg.factor_probes, seed=seed,
                                     log=log)
    return mbm


def _print_stability(diag):
    rows = []
    for (B, lr), c in sorted(diag.cells.items()):
        lam, a = c["lambda_1"], c["alpha_K"]
        rows.append([str(B), f"{lr:g}", f"{lam.value:+.4f} [{lam.low:+.4f}, {lam.high:+.4f}]",
                     c["regime"], "-" if a is None else _est(a)])
    m = diag.model
    click.echo(f"SGD at w* as x' = (I - lr H_B) x - lr u_B: {m['dataset']}, N = "
               f"{m['n_samples']}, P = {m['n_params']}; H_B: {m['curvature']} (rank "
               f"{m['factor_rank']} per sample)")
    click.echo(format_table(["B", "lr", "lambda_1 per iteration [95% CI]", "regime",
                             "alpha_K [95% CI]"], rows))


COMMANDS = (study_cmd, escape_cmd, predict_cmd, fit_cmd, stability_cmd)
