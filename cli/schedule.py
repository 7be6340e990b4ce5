"""``levydyn schedule``: survival in a basin under learning-rate schedules, vs theory.

JSON schema (``--json``): see :data:`JSON_SCHEMA`; one entry per schedule with the
simulated summary (:meth:`levydyn.EscapeResult.to_dict`), the simulated survival curve
and the closed forms of :mod:`levydyn.theory.schedules`.
"""
from __future__ import annotations

import math

import click
import numpy as np

from cli.common import (CliError, array_of, exit_if_interrupted, format_table, library_errors, obj,
                        output_errors, run_schema, schema_option, write_json)
from cli.runs import simulate_rows, check_runs, fmt, fmt_est
from cli.types import (ALPHA_JUMPS_T, WIDTHS, FLOATS, NONNEGATIVE_T, POSITIVE_T, run_controls, run_outputs)
from levydyn import Box, Constant, Power, Problem, Quadratic, parse_schedule
from levydyn.results import to_jsonable
from levydyn.theory import closed_forms
from levydyn.theory.schedules import schedule_kwargs as schedule_theory_kwargs  # noqa: F401 (public name)

JSON_SCHEMA = run_schema(
    "schedule", {"problem": obj("alpha", "eps", "d_minus", "d_plus", "curvature"),
                 "u": array_of({"type": "number"})},
    {"runs": array_of(obj("schedule", "result", "survival", "theory",
                          schedule={"type": "string"},
                          result=obj("summary", "dt", "t_max", "seed"),
                          survival=obj("t", "survival", "low", "high", "n"),
                          theory=obj("mean", "median", "survival_at_u", "survival")))},
    trajectories=False)


def _theory(forms, quantity, *args):
    """A Levy closed form of the problem (a curve evaluated at ``args``), or None where it
    does not apply (alpha = 2: no large jumps) or cannot be evaluated."""
    if forms.kind != "levy" or quantity not in forms:
        return None
    try:
        value = forms.value(quantity)
        return value(*args) if args else value
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _parse_schedules(gamma, t0, extra):
    out = [Constant()]
    with library_errors("--gamma/--t0: "):
        if gamma != 1.0:
            out.append(Power(gamma, t0))
    for spec in extra:
        with library_errors("--schedule: "):
            s = parse_schedule(spec)
        if str(s) not in {str(o) for o in out}:
            out.append(s)
    return out


@click.command("schedule")
@schema_option(JSON_SCHEMA)
@click.option("--alpha", type=ALPHA_JUMPS_T, default=1.5, show_default=True,
              help="Tail index in (0, 2) (the schedules' exit law has no Brownian case).")
@click.option("--eps", type=POSITIVE_T, default=0.1, show_default=True, help="Noise level eps.")
@click.option("--widths", type=WIDTHS, default="1,2", show_default=True,
              help="Distances d-,d+ from the minimum of U = h x^2/2 to the exit points.")
@click.option("--curvature", type=POSITIVE_T, default=1.0, show_default=True,
              help="h in U = h x^2 / 2.")
@click.option("--gamma", type=float, default=0.5, show_default=True,
              help="Power schedule s_t = (t + t0)^(gamma - 1), gamma in (0, 1]; 1 = no power run.")
@click.option("--t0", type=NONNEGATIVE_T, default=1.0, show_default=True,
              help="Offset of the power schedule (0 = paper 004's t^(gamma-1), infinite at t=0).")
@click.option("--schedule", "extra", multiple=True, metavar="SPEC",
              help="Extra schedule to compare (repeatable): power:GAMMA[:T0] | multistep:T1,T2:F1,F2.")
@click.option("--u", "u_list", type=FLOATS, default=None,
              help="Times u at which to report P(sigma > u) [default: the constant schedule's "
                   "theoretical mean exit time].")
@run_controls(paths=1000, paths_help="Paths per schedule.", dt=0.01, dt_help="Time step.",
              t_max=None, t_max_help="Horizon [default: 1.5 x the theoretical 99.9% quantile of "
                                     "the slowest schedule].",
              method_help="Solver (jump_adapted for small eps).")
@run_outputs(seed_help="Seed; every schedule uses the same per-path streams.",
             trajectories_help="Draw this many sample paths per schedule (same seed) in the plot.",
             plot_help="Write schedules and survival curves (with theory) to this PNG.",
             json_help="Write results, survival curves and theory to this JSON file.")
def schedule(alpha, eps, widths, curvature, gamma, t0, extra, u_list, paths, dt, t_max, method,
             seed, n_traj, plot_path, json_path):
    """Survival P(sigma > u) in the basin (-d-, d+) under learning-rate schedules.

    dX = -h X dt + eps s_t^((alpha-1)/alpha) dL_t with SaS(1) noise L. The constant
    schedule s = 1 is always run; the decayed ones (power, multi-step) are run with the
    same seed. Prints, per schedule, the mean and median exit time and P(sigma > u) with
    95% CIs next to the exact small-noise law P(sigma > u) = exp(-Lambda(u)) of
    paper 004 (Thm 4.5 in exact form, levydyn.theory.schedules). A decaying schedule
    shrinks the noise, so the process stays trapped longer: decay "locks in" a basin.

    \b
    Examples:
      levydyn schedule --alpha 1.5 --gamma 0.5
      levydyn schedule --alpha 1.2 --gamma 0.7 --t0 0 --plot surv.png
      levydyn schedule --schedule multistep:100,200:0.5,0.1 --trajectories 3 --plot s.png
      levydyn schedule --eps 0.01 --method jump_adapted --paths 5000 --json s.json
    """
    if len(widths) != 2:
        raise CliError(f"--widths needs two numbers d-,d+, got {widths}")
    scheds = _parse_schedules(gamma, t0, extra)
    box = None
    with library_errors():
        box = Box.around([0.0], [widths[0]], [widths[1]])
        problems = [Problem(Quadratic([curvature]), alpha=alpha, eps=eps, domain=box, schedule=s)
                    for s in scheds]
    dm, dp = widths
    th = [closed_forms(p) for p in problems]
    means = [_theory(cf, "mean_exit_time") for cf in th]
    if t_max is None:
        q = [_theory(cf, "exit_time_quantile", 0.999) for cf in th]
        q = [v for v in q if v is not None and math.isfinite(v)]
        t_max = 1.5 * max(q) if q else 1e4
        t_max = float(f"{t_max:.2g}")
    if u_list is None:      # the default follows the horizon: never beyond a given --t-max
        u_list = ([float(f"{means[0]:.3g}")] if means[0] is not None and means[0] <= t_max
                  else [t_max / 10])
    if any(not (u >= 0) or u > t_max for u in u_list):
        raise CliError(f"--u must lie in [0, t_max={t_max:g}], got u={u_list}")
    check_runs((prob, dict(n_paths=paths, dt=dt, t_max=t_max, seed=seed, method=method))
               for prob in problems)

    results, interrupted = simulate_rows(
        problems, [dict(n_paths=paths, dt=dt, t_max=t_max, seed=seed, method=method)] * len(problems))

    rows, runs_json, curves = [], [], []
    grid = np.linspace(0.0, t_max, 400)
    for s, cf, mean_th, res in zip(scheds, th, means, results):
        sv_u = res.survival(np.asarray(u_list))
        th_u = _theory(cf, "survival", np.asarray(u_list))
        med_th = _theory(cf, "median_exit_time")
        curve = res.survival(grid)
        th_curve = _theory(cf, "survival", grid)
        row = [str(s), str(res.n_paths), fmt_est(res.mean_exit_time()), fmt(mean_th),
               fmt(res.median_exit_time()), fmt(med_th)]
        for k in range(len(u_list)):
            row += [f"{fmt(sv_u.survival[k])} [{fmt(sv_u.low[k])}, {fmt(sv_u.high[k])}]",
                    fmt(None if th_u is None else np.atleast_1d(th_u)[k])]
        row.append(f"{res.censored_fraction:.3f}")
        rows.append(row)
        curves.append({"label": str(s), "t": curve.t, "survival": curve.survival,
                       "low": curve.low, "high": curve.high, "n": res.n_paths,
                       "theory_t": grid if th_curve is not None else None, "theory": th_curve,
                       "mean": res.mean_exit_time(), "theory_mean": mean_th})
        runs_json.append({"schedule": str(s), "result": res.to_dict(),
                          "survival": {"t": curve.t, "survival": curve.survival,
                                       "low": curve.low, "high": curve.high, "n": res.n_paths},
                          "theory": {"mean": mean_th, "median": med_th,
                                     "survival_at_u": th_u, "survival": th_curve}})

    click.echo(f"alpha={alpha:g}  eps={eps:g}  widths=({dm:g}, {dp:g})  U=x^2*{curvature:g}/2  "
               f"method={method}  dt={dt:g}  t_max={t_max:g}  seed={seed}")
    head = ["schedule", "paths", "mean exit time [95% CI]", "theory", "median", "theory"]
    for u in u_list:
        head += [f"P(sigma > {u:g}) [95% CI]", "theory"]
    head.append("censored")
    click.echo(format_table(head, rows))
    click.echo("theory: exact small-noise law P(sigma > u) = exp(-Lambda(u)), "
               "Lambda(u) = int_0^u k s_t^(alpha-1) dt, k = eps^alpha c_alpha "
               "(d-^-alpha + d+^-alpha) / alpha (paper 004; levydyn.theory.schedules)")

    traj = None
    if n_traj and plot_path and not interrupted:
        from levydyn.simulate import record_paths

        horizon = min(t_max, 4 * max(v for v in means if v is not None) if any(means) else t_max)
        try:
            traj = [(str(s), record_paths(p, n_traj, dt=dt, t_max=horizon, seed=seed,
                                          max_points=4000))
                    for s, p in zip(scheds, problems)]
        except KeyboardInterrupt:
            traj, interrupted = None, True
    if plot_path:
        with output_errors(plot_path):
            _plot(plot_path, scheds, curves, t_max, alpha, eps, dm, dp, traj, box)
        click.echo(f"wrote {plot_path}", err=True)
    if json_path:
        payload = {"command": "schedule",
                   "problem": {"alpha": alpha, "eps": eps, "d_minus": dm, "d_plus": dp,
                               "curvature": curvature},
                   "u": list(u_list), "interrupted": interrupted,
                   "runs": runs_json}
        write_json(json_path, to_jsonable(payload))
    exit_if_interrupted(interrupted)


def _plot(path, scheds, curves, t_max, alpha, eps, dm, dp, traj, box):
    from levydyn import plots

    # show the curves down to about 3 surviving paths (the rest is a band around zero)
    def shown_until(c):
        below = np.flatnonzero(c["survival"] <= 3.0 / c["n"])
        return float(c["t"][below[0]]) if below.size else float(c["t"][-1])

    t_show = min(t_max, 1.1 * max(shown_until(c) for c in curves))
    t = np.linspace(t_show * 1e-4, t_show, 600)
    sch = [{"label": str(s), "t": t, "s": s.rate(t)} for s in scheds]
    title = (f"alpha = {alpha:g}, eps = {eps:g}, exit interval (-{dm:g}, {dp:g}): "
             "decay traps the process")
    plots.survival_curves(curves, schedules=sch, trajectories=traj, traj_lower=box.lower,
                          traj_upper=box.upper, title=title, t_max=t_show, path=path)
