"""``levydyn exit-axis``: which coordinate carries the escape from an N-d box (paper 004).

JSON schema (``--json``): :data:`JSON_SCHEMA`.
"""
from __future__ import annotations

import math

import click
import numpy as np

from cli.common import (CliError, array_of, exit_if_interrupted, format_table, library_errors, obj,
                        output_errors, run_schema, schema_option, write_json)
from cli.runs import simulate_rows, check_runs, fmt, fmt_est, row_seed
from cli.splitting import run_splitting, splitting_options
from cli.types import (ALPHA_T, FINITE_T, FloatList, FLOATS, potential_option, run_controls,
                       run_outputs)
from levydyn import Ackley2D, Box, Problem, Quadratic, parse_schedule
from levydyn.model.validation import ALPHA, POSITIVE
from levydyn.results import to_jsonable
from levydyn.theory import closed_forms

JSON_SCHEMA = run_schema(
    "exit-axis", {"potential": {"enum": ["quadratic", "ackley"]}},
    {"runs": array_of(obj("alpha", "result", "p_axis", "theory",
                          alpha=array_of({"type": "number"}), delta={"type": "number"},
                          result=obj("summary", "dt", "t_max", "seed"),
                          p_axis=array_of(obj("value", "low", "high")),
                          theory=obj("p_axis", "mean_exit_time")))})


def _theory(problem):
    """``(P(exit along axis l), E tau)`` of the small-noise law, or ``(None, None)``."""
    cf = closed_forms(problem)
    if cf.kind != "levy":
        return None, None
    try:
        return cf.value("exit_axis_probabilities"), cf.value("mean_exit_time")
    except ValueError:
        return None, None


def _broadcast(name, values, n):
    if len(values) not in (1, n):
        raise CliError(f"--{name} needs 1 or {n} numbers (one per axis), got {name}={values}")
    return list(values) * n if len(values) == 1 else list(values)


@click.command("exit-axis")
@schema_option(JSON_SCHEMA)
@potential_option("quadratic: N-d box around the minimum of sum h_l x_l^2 / 2; ackley: "
                  "paper 004's 2-D Ackley experiment, alpha_1 = alpha_2 - delta.")
@click.option("--alphas", type=FloatList(ALPHA, "alpha"), default=None,
              help="Tail index per axis [quadratic; default 1.2,1.8].")
@click.option("--eps", type=FloatList(POSITIVE, "eps"), default="0.1", show_default=True,
              help="Noise level (one, or one per axis for quadratic).")
@click.option("--widths", type=FLOATS, default="1", show_default=True,
              help="Half-width of the box per axis, d-_l = d+_l (one, or one per axis) [quadratic].")
@click.option("--curvature", type=FloatList(POSITIVE, "curvature"), default="1", show_default=True,
              help="Diagonal Hessian h_l (one, or one per axis) [quadratic].")
@click.option("--alpha2", type=ALPHA_T, default=1.8, show_default=True,
              help="alpha_2 of the Ackley experiment [ackley].")
@click.option("--deltas", type=FLOATS, default=None,
              help="delta = alpha_2 - alpha_1 values [ackley; default 0,0.1,...,0.6].")
@click.option("--radius", type=FINITE_T, default=0.5, show_default=True,
              help="Half-width of the exit box (-r, r)^2 around the Ackley minimum [ackley].")
@click.option("--schedule", default="constant", show_default=True,
              help="constant | power:GAMMA[:T0] | multistep:T1,T2:F1,F2")
@run_controls(paths=None, paths_help="Paths per run [default 2000; ackley 500 per delta].",
              dt=None, dt_help="Time step [default 0.01; ackley 0.005].",
              t_max=1e4, t_max_help="Horizon; paths still inside are censored.",
              method_help="Solver (jump_adapted for small eps; quadratic only), or splitting "
                          "(rare exits by adaptive multilevel splitting; --replicas, --runs).",
              methods=("euler", "jump_adapted", "splitting"))
@splitting_options
@run_outputs(trajectories_help="Draw this many sample paths in the (x1, x2) plane in the plot.",
             plot_help="Write the per-axis bar chart (quadratic) or P(x1) vs delta (ackley) to "
                       "this PNG.",
             json_help="Write results and closed forms to this JSON file.")
def exit_axis(potential, alphas, eps, widths, curvature, alpha2, deltas, radius, schedule, paths,
              dt, t_max, method, replicas, split_runs, seed, n_traj, plot_path, json_path):
    """Which axis carries the escape: per-coordinate tail indices alpha_l (paper 004).

    dX^l = -d_l U dt + eps_l s_t^((alpha_l-1)/alpha_l) dL^l_t with independent SaS(1)
    noises. For small eps the process leaves the box by one large jump of one coordinate,
    and P(exit along l) = lambda_l / sum lambda, lambda_l = eps_l^alpha_l c_alpha_l
    (d-_l^-alpha_l + d+_l^-alpha_l) / alpha_l: the heavier-tailed axis (smaller alpha)
    carries the escape, more so as eps -> 0 (levydyn.theory.box / .schedules).

    --potential ackley reproduces paper 004's experiment: 2-D Ackley function, start at
    the global minimum 0, alpha_1 = alpha_2 - delta, exit from (-r, r)^2; prints
    P(exit along x1) vs delta.

    \b
    Examples:
      levydyn exit-axis --alphas 1.2,1.8
      levydyn exit-axis --alphas 1.2,1.5,1.8 --widths 1,1,2 --plot axes.png
      levydyn exit-axis --alphas 1.4,1.6 --eps 0.01 --method jump_adapted --paths 5000
      levydyn exit-axis --potential ackley --plot ackley.png --trajectories 5
    """
    is_ackley = potential == "ackley"
    if is_ackley:
        if alphas is not None:
            raise CliError("--alphas applies to --potential quadratic; for ackley give "
                           "--alpha2 and --deltas")
        if method == "jump_adapted":
            raise CliError("--potential ackley needs --method euler (its minimum is a cone "
                           "point, which the jump-adapted relaxation cannot resolve)")
        deltas = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6] if deltas is None else deltas
        if len(eps) != 1:
            raise CliError(f"--eps takes one number for --potential ackley, got eps={eps}")
        alpha_sets = [[alpha2 - d, alpha2] for d in deltas]
        eps_v, dm = [eps[0]] * 2, [radius] * 2
        paths = 500 if paths is None else paths
        dt = 0.005 if dt is None else dt
    else:
        if deltas is not None:
            raise CliError("--deltas applies to --potential ackley; give --alphas per axis")
        alphas = [1.2, 1.8] if alphas is None else alphas
        n = len(alphas)
        eps_v = _broadcast("eps", eps, n)
        dm = _broadcast("widths", widths, n)
        curv = _broadcast("curvature", curvature, n)
        alpha_sets = [list(alphas)]
        paths = 2000 if paths is None else paths
        dt = 0.01 if dt is None else dt
    with library_errors():
        sched = parse_schedule(schedule)
        if is_ackley:
            pot = Ackley2D()
            dom = Box.around([0.0, 0.0], dm, dm)
        else:
            pot = Quadratic(curv)
            dom = Box.around(np.zeros(len(dm)), dm, dm)
        problems = [Problem(pot, alpha=a, eps=eps_v, domain=dom, schedule=sched)
                    for a in alpha_sets]
    theory = [_theory(p) for p in problems]
    if method == "splitting":
        if plot_path or n_traj:
            raise CliError("--plot and --trajectories go with --method euler or jump_adapted")
        labels = ([{"delta": d, "alpha_1": a[0]} for d, a in zip(deltas, alpha_sets)]
                  if is_ackley else [{"alphas": ",".join(f"{a:g}" for a in alphas)}])
        return run_splitting("exit-axis", problems, labels, [m for _, m in theory], dt, seed,
                             replicas, split_runs, json_path, f"potential={potential}")
    seeds = [row_seed(seed, prob, method, dt, t_max) for prob in problems]
    check_runs((prob, dict(n_paths=paths, dt=dt, t_max=t_max, seed=sd, method=method))
               for prob, sd in zip(problems, seeds))

    results, interrupted = simulate_rows(
        problems, [dict(n_paths=paths, dt=dt, t_max=t_max, seed=sd, method=method) for sd in seeds])
    runs_json = []
    for k, res in enumerate(results):
        p_th, m_th = theory[k]
        entry = {"alpha": alpha_sets[k], "result": res.to_dict(),
                 "p_axis": [res.axis_probability(l) for l in range(res.points.shape[1])],
                 "theory": {"p_axis": p_th, "mean_exit_time": m_th}}
        if is_ackley:
            entry["delta"] = deltas[k]
        runs_json.append(entry)

    head_line = (f"schedule={sched}  method={method}  dt={dt:g}  t_max={t_max:g}  seed={seed}")
    if is_ackley:
        click.echo(f"Ackley2D  box=(-{radius:g}, {radius:g})^2  eps={eps[0]:g}  alpha_2="
                   f"{alpha2:g}  paths={paths}  {head_line}")
        rows = []
        for k, res in enumerate(results):
            p_th, m_th = theory[k]
            rows.append([f"{deltas[k]:g}", f"{alpha_sets[k][0]:g}", str(res.n_paths),
                         fmt_est(res.axis_probability(0)),
                         fmt(None if p_th is None else p_th[0]), fmt_est(res.mean_exit_time()),
                         fmt(m_th), f"{res.censored_fraction:.3f}"])
        click.echo(format_table(["delta", "alpha_1", "paths", "P(exit along x1) [95% CI]",
                                 "theory", "mean exit time [95% CI]", "theory", "censored"], rows))
    else:
        res = results[0]
        p_th, m_th = theory[0]
        click.echo(f"U = sum h_l x_l^2 / 2, h={tuple(curv)}  paths={paths}  {head_line}")
        rows = [[str(l + 1), f"{alphas[l]:g}", f"{eps_v[l]:g}", f"{dm[l]:g}",
                 fmt_est(res.axis_probability(l)), fmt(None if p_th is None else p_th[l])]
                for l in range(len(alphas))]
        click.echo(format_table(["axis", "alpha", "eps", "half-width",
                                 "P(exit along axis) [95% CI]", "theory"], rows))
        click.echo(f"mean exit time {fmt_est(res.mean_exit_time())}  theory {fmt(m_th)}  "
                   f"censored {res.censored_fraction:.3f}")
    click.echo("theory: P(axis l) = lambda_l / sum lambda, lambda_l = eps_l^alpha_l c_alpha_l "
               "(d-_l^-alpha_l + d+_l^-alpha_l) / alpha_l (paper 004, small-noise limit)")

    traj = None
    if n_traj and plot_path and not interrupted:
        from levydyn.simulate import record_paths

        k = len(results) - 1
        n_tr = min(n_traj, results[k].n_paths)
        if method == "euler":
            horizon = float(results[k].times[:n_tr].max())
        else:
            m_th = theory[k][1]
            horizon = min(t_max, 3 * m_th if m_th else t_max, 2e5 * dt)
        try:
            traj = record_paths(problems[k], n_tr, dt=dt, t_max=max(horizon, dt), seed=seeds[k],
                                max_points=20000)
        except KeyboardInterrupt:
            traj, interrupted = None, True
    if plot_path:
        with output_errors(plot_path):
            _plot(plot_path, is_ackley, results, theory, alpha_sets, deltas, eps_v, dm, alpha2,
                  sched, traj, dom, problems[0])
        click.echo(f"wrote {plot_path}", err=True)
    if json_path:
        payload = {"command": "exit-axis", "potential": potential,
                   "interrupted": interrupted, "runs": runs_json}
        if traj is not None:
            payload["trajectories"] = traj.to_dict()
        write_json(json_path, to_jsonable(payload))
    exit_if_interrupted(interrupted)


def _plot(path, is_ackley, results, theory, alpha_sets, deltas, eps_v, dm, alpha2, sched, traj,
          dom, problem):
    import dataclasses

    from levydyn import plots

    if is_ackley:
        d = np.asarray(deltas[:len(results)], dtype=float)
        grid = np.linspace(min(d.min(), 0.0), d.max(), 80)
        th = [_theory(dataclasses.replace(problem, alpha=[alpha2 - g, alpha2]))[0] for g in grid]
        ok = [t is not None for t in th]
        series = [{"label": f"eps = {eps_v[0]:g}", "x": d,
                   "estimates": [r.axis_probability(0) for r in results],
                   "theory_x": grid[ok] if any(ok) else None,
                   "theory_y": [t[0] for t in th if t is not None]}]
        plots.probability_curves(
            series, xlabel="delta = alpha_2 - alpha_1", ylabel="P(exit along x1)  (95% CI)",
            title=(f"2-D Ackley, start at the global minimum, box (-{dm[0]:g}, {dm[0]:g})^2, "
                   f"alpha_2 = {alpha2:g}"),
            trajectories=traj, traj_lower=dom.lower, traj_upper=dom.upper,
            traj_title=f"sample paths, delta = {d[-1]:g} (x: exit point)", path=path)
    else:
        res = results[0]
        n = res.points.shape[1]
        p_th = theory[0][0]
        labels = [f"axis {l + 1}\nalpha = {alpha_sets[0][l]:g}\neps = {eps_v[l]:g}, d = {dm[l]:g}"
                  for l in range(n)]
        plots.axis_probabilities(
            labels, [res.axis_probability(l) for l in range(n)],
            p_th if p_th is not None else [math.nan] * n,
            title=f"Which coordinate carries the escape? (schedule {sched}, {res.n_paths} paths)",
            trajectories=traj, traj_lower=dom.lower, traj_upper=dom.upper, path=path)
