"""``levydyn escape``: first exit from a basin over a list of noise levels, vs theory.

Quadratic basin (1-D interval, Theorem 1 of Simsekli et al. 2019) or the 2-D Ackley
global basin (a box, paper 004). JSON schema (``--json``): :data:`JSON_SCHEMA`.
"""
from __future__ import annotations

import dataclasses
import math

import click
import numpy as np

from cli.common import (CliError, array_of, exit_if_interrupted, format_table, library_errors, obj,
                        output_errors, run_schema, schema_option, write_json)
from cli.runs import Runs, check_runs, fmt, fmt_est, row_seed
from cli.splitting import run_splitting, splitting_options
from cli.types import (ALPHA_T, FloatList, FLOATS, POSITIVE_T, potential_option, run_controls,
                       run_outputs)
from levydyn import Ackley2D, Box, Problem, Quadratic, parse_schedule
from levydyn.model.validation import POSITIVE
from levydyn.results import to_jsonable
from levydyn.theory import closed_forms

JSON_SCHEMA = run_schema(
    "escape", {"potential": {"enum": ["quadratic", "ackley"]}},
    {"results": array_of(obj("problem", "summary", "dt", "t_max", "seed")),
     "theory": array_of(obj("eps", "levy_mean", "brownian_mean", "p_side",
                            eps={"type": "number"},
                            levy_mean={"type": ["number", "string", "null"]},
                            brownian_mean={"type": ["number", "string", "null"]},
                            p_side={"type": ["number", "null"]})),
     "brownian": {"type": "array"}}, optional=("brownian",))

# Brownian paths are simulated only when the exact mean exit time says the run is cheap:
# E tau * paths / dt path-steps at most this many (E tau ~ exp(height / eps^2) explodes).
BROWNIAN_BUDGET = 4e7


def _levy_mean(problem):
    """Small-noise Levy mean exit time (None where it does not apply, e.g. alpha = 2)."""
    cf = closed_forms(problem)
    try:
        return cf.value("mean_exit_time") if cf.kind == "levy" else None
    except ValueError:
        return None


def _brownian_mean(problem):
    """Exact Brownian (alpha = 2) mean exit time of the problem at alpha = 2 (None where no
    closed form applies: Ackley, a schedule; inf where it overflows)."""
    cf = closed_forms(dataclasses.replace(problem, alpha=2.0))
    if cf.kind != "brownian":
        return None
    try:
        return cf.value("mean_exit_time")
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.inf


@click.command("escape")
@schema_option(JSON_SCHEMA)
@potential_option("quadratic: U = h x^2/2 on (-d-, d+); ackley: 2-D Ackley, box "
                  "(-d-, d+)^2 around its global minimum.")
@click.option("--alpha", type=ALPHA_T, default=1.5, show_default=True,
              help="Tail index in (0, 2]; 2 is Brownian noise.")
@click.option("--widths", type=FLOATS, default=None,
              help="Distances d-,d+ from the minimum to the boundary [default 1,2; ackley 0.5,0.5].")
@click.option("--eps", "eps_list", type=FloatList(POSITIVE, "eps"), default="0.5,0.2,0.1,0.05",
              show_default=True,
              help="Noise levels eps to simulate.")
@click.option("--curvature", type=POSITIVE_T, default=None,
              help="h in U(x) = h x^2 / 2 [default 1; quadratic only].")
@click.option("--schedule", default="constant", show_default=True,
              help="constant | power:GAMMA[:T0] | multistep:T1,T2:F1,F2")
@run_controls(paths=2000, paths_help="Paths per noise level.",
              dt=None, dt_help="Time step [default 0.01; ackley 0.002 (curvature ~54 at the "
                               "minimum)].",
              t_max=1e4, t_max_help="Horizon; paths still inside are censored.",
              method_help="euler, jump_adapted for small eps (skips the quiet time between "
                          "large jumps), or splitting (rare exits by adaptive multilevel "
                          "splitting, Euler chain; --replicas, --runs).",
              methods=("euler", "jump_adapted", "splitting"))
@splitting_options
@click.option("--gaussian", is_flag=True,
              help="Add the Brownian (alpha = 2) comparison: exact mean exit time at the same "
                   "eps, and a simulation where it is affordable.")
@run_outputs(trajectories_help="Record this many sample paths at the smallest eps (Euler "
                               "paths of the same seed) and draw them next to the plot.",
             plot_help="Write mean exit time vs eps (log-log, theory lines, 95% CIs) to this PNG.",
             json_help="Write the results (with CIs) and the closed forms to this JSON file.")
def escape(potential, alpha, widths, eps_list, curvature, schedule, paths, dt, t_max, method,
           replicas, split_runs, gaussian, n_traj, seed, plot_path, json_path):
    """First exit of dX = -grad U(X) dt + eps s_t^((alpha-1)/alpha) dL_t from a basin.

    L is SaS(1) noise (E exp(iwL_1) = exp(-|w|^alpha)). Prints, per eps: the mean exit
    time with a 95 % CI next to the small-noise Levy law E tau = alpha / (c_alpha
    eps^alpha (d-^-alpha + d+^-alpha)) (under a schedule: the exact law of paper 004),
    the exit side (quadratic) or axis (ackley) with a Wilson CI, and the censored
    fraction. --gaussian adds the Brownian mean exit time, which grows like
    exp(height / eps^2): Brownian noise climbs, Levy noise jumps.

    \b
    Examples:
      levydyn escape --alpha 1.5 --widths 1,2
      levydyn escape --alpha 1.5 --gaussian --plot escape.png
      levydyn escape --alpha 1.2 --eps 0.1,0.05 --paths 5000 --json out.json
      levydyn escape --alpha 1.8 --schedule power:0.7
      levydyn escape --alpha 1.5 --eps 1e-2,1e-3 --method jump_adapted --paths 10000
      levydyn escape --potential ackley --eps 0.2,0.1 --trajectories 5 --plot ackley.png
      levydyn escape --alpha 2 --eps 0.3,0.2 --method splitting --json split.json
    """
    is_ackley = potential == "ackley"
    if widths is None:
        widths = [0.5, 0.5] if is_ackley else [1.0, 2.0]
    if len(widths) != 2:
        raise CliError(f"--widths needs two numbers d-,d+, got widths={widths}")
    if is_ackley and curvature is not None:
        raise CliError("--curvature applies to --potential quadratic only")
    if is_ackley and gaussian:
        raise CliError("--gaussian needs --potential quadratic (the Brownian closed form is 1-D)")
    curvature = 1.0 if curvature is None else curvature
    dt = (0.002 if is_ackley else 0.01) if dt is None else dt
    dm, dp = widths
    with library_errors():
        sched = parse_schedule(schedule)
        if is_ackley:
            pot = Ackley2D()
            dom = Box.around([0.0, 0.0], [dm, dm], [dp, dp])
        else:
            pot = Quadratic([curvature])
            dom = Box.around([0.0], [dm], [dp])
        problems = [Problem(pot, alpha=alpha, eps=e, domain=dom, schedule=sched) for e in eps_list]
    if method == "splitting":
        if gaussian or plot_path or n_traj:
            raise CliError("--gaussian, --plot and --trajectories go with --method euler or "
                           "jump_adapted, not splitting")
        theory = [_brownian_mean(p) if alpha == 2.0 else _levy_mean(p) for p in problems]
        return run_splitting("escape", problems, [{"eps": e} for e in eps_list], theory, dt,
                             seed, replicas, split_runs, json_path,
                             f"alpha={alpha:g}  widths=({dm:g}, {dp:g})  potential={potential}")
    seeds = [row_seed(seed, prob, method, dt, t_max) for prob in problems]
    check_runs((prob, dict(n_paths=paths, dt=dt, t_max=t_max, seed=sd, method=method))
               for prob, sd in zip(problems, seeds))

    brown_th = [None] * len(eps_list)
    if gaussian or alpha == 2.0:
        brown_th = [_brownian_mean(p) for p in problems]
    brown_sim_ok = [gaussian and b is not None and math.isfinite(b) and b * paths / dt <= BROWNIAN_BUDGET
                    and b <= t_max / 20 and alpha != 2.0 for b in brown_th]
    total = paths * (len(problems) + sum(brown_sim_ok))
    results, brown = [], [None] * len(eps_list)
    with Runs(total) as runs:
        for k, prob in enumerate(problems):
            res = runs.simulate(prob, n_paths=paths, dt=dt, t_max=t_max, seed=seeds[k],
                                method=method)
            if res is not None and res.n_paths:
                results.append(res)
            if runs.interrupted:
                break
            if brown_sim_ok[k]:
                bp = Problem(pot, alpha=2.0, eps=eps_list[k], domain=dom, schedule=sched)
                brown[k] = runs.simulate(bp, n_paths=paths, dt=dt, t_max=t_max,
                                         seed=row_seed(seed, bp, "euler", dt, t_max),
                                         method="euler")
                if runs.interrupted:
                    break
    interrupted = runs.interrupted
    if not results:
        exit_if_interrupted(interrupted)
        raise click.Abort()

    levy_th = [_levy_mean(p) for p in problems]
    if alpha == 2.0:
        theory_main = brown_th
    else:
        theory_main = levy_th
    # exit side (quadratic) or axis (ackley) of the small-noise law: independent of eps
    forms = closed_forms(problems[0])
    if is_ackley:
        side_th = float(forms.value("exit_axis_probabilities")[0]) if forms.kind == "levy" else None
        side_name = "P(exit along x1)"
    else:
        side_th = float(forms.value("exit_side_probabilities")[0, 1]) if forms.kind == "levy" else None
        side_name = "P(exit right)"
    rows, theory_json = [], []
    for k, res in enumerate(results):
        e = eps_list[k]
        side = res.axis_probability(0) if is_ackley else res.side_probability(+1)
        row = [f"{e:g}", str(res.n_paths), fmt_est(res.mean_exit_time()), fmt(theory_main[k]),
               fmt_est(side), f"{res.censored_fraction:.3f}"]
        if gaussian:
            b = brown[k]
            row += [fmt(brown_th[k]), fmt_est(b.mean_exit_time()) if b is not None else "-"]
        rows.append(row)
        theory_json.append({"eps": e, "levy_mean": levy_th[k], "brownian_mean": brown_th[k],
                            "p_side": side_th})
    head = ["eps", "paths", "mean exit time [95% CI]",
            "Levy theory" if alpha < 2 else "Brownian theory", f"{side_name} [95% CI]", "censored"]
    if gaussian:
        head += ["Brownian theory", "Brownian sim [95% CI]"]
    shape = (f"U=Ackley2D  box=(-{dm:g}, {dp:g})^2" if is_ackley
             else f"widths=({dm:g}, {dp:g})  U=x^2*{curvature:g}/2")
    click.echo(f"alpha={alpha:g}  {shape}  schedule={sched}  method={method}  dt={dt:g}  "
               f"t_max={t_max:g}  seed={seed}")
    click.echo(format_table(head, rows))
    if alpha < 2:
        click.echo(f"theory: small-noise limit E tau = alpha / (c_alpha eps^alpha sum_faces "
                   f"d^-alpha){'' if sched.is_constant else ' under the schedule (paper 004)'};"
                   f" {side_name} -> {side_th:.4g}")
    if gaussian:
        skipped = [f"{eps_list[k]:g}" for k in range(len(results)) if brown[k] is None]
        click.echo("Brownian theory: exact E tau for alpha = 2 (noise eps*N(0,2) per unit time),"
                   " ~ exp(height / eps^2)"
                   + (f"; not simulated at eps = {', '.join(skipped)} (beyond the path budget)"
                      if skipped else ""))

    traj = None
    if n_traj and not interrupted:
        traj = _record(problems[len(results) - 1], results[-1], n_traj, dt, t_max,
                       seeds[len(results) - 1], method, theory_main[len(results) - 1])
        interrupted = interrupted or traj is None
        if traj is not None and not (plot_path or json_path):
            click.echo(f"sample paths at eps={eps_list[len(results) - 1]:g} (Euler, seed "
                       f"{seeds[len(results) - 1]}):")
            click.echo(format_table(
                ["path", "exit time", "exit point"],
                [[str(i), fmt(traj.stop_time[i]) + ("" if traj.exited[i] else " (censored)"),
                  ", ".join(f"{v:.3g}" for v in traj.path(i)[1][-1])] for i in range(traj.n_paths)]))

    if plot_path:
        with output_errors(plot_path):
            _plot(plot_path, eps_list[:len(results)], results, levy_th if alpha < 2 else None,
                  brown, brown_th if (gaussian or alpha == 2.0) else None, alpha, potential, dm,
                  dp, curvature, sched, traj, dom, method, problems[0])
        click.echo(f"wrote {plot_path}", err=True)
    if json_path:
        payload = {"command": "escape", "potential": potential,
                   "interrupted": interrupted,
                   "results": [r.to_dict() for r in results], "theory": theory_json}
        if gaussian:
            payload["brownian"] = [None if b is None else b.to_dict() for b in brown[:len(results)]]
        if traj is not None:
            payload["trajectories"] = traj.to_dict()
        write_json(json_path, to_jsonable(payload))
    exit_if_interrupted(interrupted)


def _record(problem, res, n, dt, t_max, seed, method, mean_th):
    """Sample paths of the last simulated eps (the same Euler paths as the table's when
    method=euler: they stop at the same exit times)."""
    from levydyn.simulate import record_paths

    n = min(n, res.n_paths)
    if method == "euler":
        horizon = float(res.times[:n].max())
    else:
        guess = mean_th if mean_th is not None and math.isfinite(mean_th) else t_max
        horizon = min(t_max, 3 * guess, 2e5 * dt)
    try:
        return record_paths(problem, n, dt=dt, t_max=max(horizon, dt), seed=seed,
                            max_points=5000)
    except KeyboardInterrupt:
        return None


def _plot(path, eps, results, levy_th, brown, brown_th, alpha, potential, dm, dp, curvature,
          sched, traj, dom, method, problem):
    from levydyn import plots

    grid = np.geomspace(min(eps) / 1.5, max(eps) * 1.5, 60)
    at = [dataclasses.replace(problem, eps=float(e)) for e in grid]
    lt = None
    if levy_th is not None and any(v is not None for v in levy_th):
        lt = (grid, [_levy_mean(p) for p in at])
    bt = None
    if brown_th is not None and any(v is not None for v in brown_th):
        bt = (grid, [_brownian_mean(p) for p in at])
    shape = ("Ackley basin, box (-%g, %g)^2" % (dm, dp) if potential == "ackley"
             else "U = %g x^2/2 on (-%g, %g)" % (curvature, dm, dp))
    title = f"{shape}, schedule {sched}"
    brown_est = None
    if brown is not None and any(b is not None for b in brown[:len(results)]):
        brown_est = [None if b is None else b.mean_exit_time() for b in brown[:len(results)]]
    kind = "Euler paths" + (" (same paths as the table)" if method == "euler" else "")
    plots.escape_vs_eps(eps, [r.mean_exit_time() for r in results], levy_theory=lt,
                        brownian=brown_est, brownian_theory=bt,
                        alpha=alpha, title=title, trajectories=traj, traj_lower=dom.lower,
                        traj_upper=dom.upper,
                        traj_title=f"{kind}, eps = {eps[-1]:g}: exits are single jumps",
                        path=path)
