"""``levydyn wells``: transitions between the wells of a 1-D landscape vs Theorem 2.

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
from cli.types import (ALPHA_T, FloatList, FLOATS, POSITIVE_T, UNIT_OPEN_T, run_controls,
                       run_outputs)
from levydyn import Estimate, MultiWell1D, Problem, WellPartition
from levydyn.model.validation import POSITIVE
from levydyn.results import to_jsonable
from levydyn.theory import closed_forms

JSON_SCHEMA = run_schema(
    "wells", {"problem": obj("minima", "maxima", "alpha", "scale", "core")},
    {"runs": array_of(obj("eps", "t_max", "result", "theory",
                          eps={"type": "number"}, t_max={"type": "number"},
                          result=obj("summary", "dt", "seed"),
                          theory=obj("source", "generator", "stationary",
                                     "expected_occupation")))})


SOURCES = {"levy": "Theorem 2 (Levy, width-driven)", "brownian": "Eyring-Kramers (Brownian, height-driven)"}


def theory_forms(problem):
    """The closed forms of a wells problem (:func:`levydyn.theory.closed_forms`) and their
    source line: alpha < 2, Theorem 2 of Simsekli et al. 2019 (SaS(1) measure), jumps to
    any well; alpha = 2, Eyring-Kramers rates between neighbours (noise eps*N(0, 2) per
    unit time, D = eps^2)."""
    forms = closed_forms(problem)
    if "generator" not in forms:
        raise ValueError(f"no closed-form generator for this problem: {forms.reason}")
    return forms, SOURCES[forms.kind]


def theory_generator(pot: MultiWell1D, alpha: float, eps: float) -> tuple[np.ndarray, str]:
    """Limiting generator in natural time and its source (see :func:`theory_forms`)."""
    forms, source = theory_forms(Problem(pot, alpha=alpha, eps=eps, domain=WellPartition.of(pot)))
    return forms.value("generator"), source


def _auto_t_max(Q: np.ndarray, cycles: float) -> float:
    """Long enough for about ``cycles`` visits to every well (sum of mean sojourns)."""
    with np.errstate(divide="ignore"):
        sojourn = 1.0 / -np.diag(Q)
    t = cycles * float(np.sum(sojourn))
    return float(f"{t:.2g}") if math.isfinite(t) else math.inf


@click.command("wells")
@schema_option(JSON_SCHEMA)
@click.option("--minima", type=FLOATS, default="-1,2", show_default=True,
              help="Minima m_1 < m_2 < ... of U.")
@click.option("--maxima", type=FLOATS, default="0", show_default=True,
              help="Maxima s_1 < ... between them (one fewer than minima).")
@click.option("--alpha", type=ALPHA_T, default=1.5, show_default=True,
              help="Tail index in (0, 2]; 2 compares with Eyring-Kramers.")
@click.option("--eps", "eps_list", type=FloatList(POSITIVE, "eps"), default="0.2,0.1",
              show_default=True,
              help="Noise levels eps.")
@click.option("--scale", type=POSITIVE_T, default=1.0, show_default=True,
              help="U'(x) = scale * prod_k (x - r_k) over the minima and maxima.")
@click.option("--core", type=UNIT_OPEN_T, default=0.5, show_default=True,
              help="A transition counts when the path enters the core |x - m_j| < core * "
                   "(distance to the nearer maximum) of another well.")
@run_controls(paths=100, paths_help="Paths per eps.", dt=0.01, dt_help="Time step.",
              t_max=None, t_max_help="Length of each path [default: --cycles x the theoretical "
                                     "sum of the mean sojourns, per eps].")
@click.option("--cycles", type=POSITIVE_T, default=10.0, show_default=True,
              help="Cycles through all wells per path for the automatic --t-max.")
@click.option("--method", type=click.Choice(["euler", "splitting"]), default="euler",
              show_default=True,
              help="euler (long paths, rates), or splitting: the mean sojourn in the first "
                   "well and where it goes, by adaptive multilevel splitting (small eps).")
@splitting_options
@run_outputs(trajectories_help="Draw this many sample paths (smallest eps) in the plot.",
             plot_help="Write landscape, occupation and rates (with theory and CIs) to this PNG.",
             json_help="Write the results and the closed forms to this JSON file.")
def wells(minima, maxima, alpha, eps_list, scale, core, paths, dt, t_max, cycles, method,
          replicas, split_runs, seed, n_traj, plot_path, json_path):
    """Transitions between wells of U'(x) = scale * prod (x - m_i)(x - s_j), vs Theorem 2.

    dX = -U'(X) dt + eps dL_t with SaS(1) noise. Paths start at m_1 and run for t_max;
    a transition i -> j is counted when the path reaches the core of well j (milestoning).
    Prints, per eps, the simulated rates q_ij (maximum likelihood, exact Poisson CIs)
    next to Theorem 2 of Simsekli et al. (2019): q_ij = eps^alpha (c_alpha / alpha)
    | |s_{j-1} - m_i|^-alpha - |s_j - m_i|^-alpha | -- widths, not heights -- and the
    time spent in each well next to the chain's occupation over the same horizon and its
    stationary law pi (the wider well wins).

    \b
    Examples:
      levydyn wells --minima -1,2 --maxima 0 --alpha 1.5
      levydyn wells --minima -1,2 --maxima 0 --alpha 1.5 --eps 0.1 --plot wells.png --trajectories 2
      levydyn wells --minima -2,0,1 --maxima -1,0.5 --alpha 1.2 --paths 50 --json w.json
      levydyn wells --alpha 2 --eps 0.5,0.4 --t-max 3000
      levydyn wells --alpha 2 --eps 0.25,0.2 --method splitting
    """
    with library_errors():
        pot = MultiWell1D(tuple(minima), tuple(maxima), scale)
        dom = WellPartition.of(pot, core)
        problems = [Problem(pot, alpha=alpha, eps=e, domain=dom) for e in eps_list]
        forms = [theory_forms(p) for p in problems]
        theory = [(f.value("generator"), source) for f, source in forms]
    if method == "splitting":
        if plot_path or n_traj:
            raise CliError("--plot and --trajectories go with --method euler")
        return run_splitting("wells", problems, [{"eps": e} for e in eps_list],
                             [1.0 / -Q[0, 0] for Q, _ in theory], dt, seed, replicas,
                             split_runs, json_path, f"minima={minima} maxima={maxima} "
                             f"alpha={alpha:g}: sojourn in well 1")
    with library_errors():
        horizons = [t_max if t_max is not None else _auto_t_max(Q, cycles) for Q, _ in theory]
        for h in horizons:
            if not math.isfinite(h):
                raise ValueError("the automatic t_max is infinite (a well is never left); "
                                 "give --t-max")
    seeds = [row_seed(seed, prob, "euler", dt, h) for prob, h in zip(problems, horizons)]
    check_runs((prob, dict(n_paths=paths, dt=dt, t_max=h, seed=sd))
               for prob, h, sd in zip(problems, horizons, seeds))

    results, interrupted = simulate_rows(
        problems, [dict(n_paths=paths, dt=dt, t_max=h, seed=sd, chunk=max(1, paths // 10))
                   for h, sd in zip(horizons, seeds)])
    m = np.asarray(pot.minima)
    n_w = m.size
    rate_rows, occ_rows, runs_json = [], [], []
    pis = []
    for k, res in enumerate(results):
        e, T = eps_list[k], horizons[k]
        Q, source = theory[k]
        q, lo, hi = res.generator()
        counts = res.transition_counts()
        pi = forms[k][0].value("stationary_distribution")
        pis.append(pi)
        occ_th = forms[k][0].value("expected_occupation")(T)
        for i in range(n_w):
            for j in range(n_w):
                if i != j and (Q[i, j] > 0 or counts[i, j] > 0):
                    ratio = q[i, j] / Q[i, j] if Q[i, j] > 0 else math.nan
                    rate_rows.append([f"{e:g}", f"{T:g}", f"{i + 1} -> {j + 1}", str(counts[i, j]),
                                      f"{fmt(q[i, j])} [{fmt(lo[i, j])}, {fmt(hi[i, j])}]",
                                      fmt(Q[i, j]), fmt(ratio, 3)])
        occ = res.occupation()
        for i in range(n_w):
            occ_rows.append([f"{e:g}", str(i + 1), f"{m[i]:g}", fmt_est(occ[i]), fmt(occ_th[i]),
                             fmt(pi[i])])
        runs_json.append({"eps": e, "t_max": T, "result": res.to_dict(),
                          "theory": {"source": source, "generator": Q, "stationary": pi,
                                     "expected_occupation": occ_th}})

    click.echo(f"alpha={alpha:g}  minima={tuple(float(v) for v in pot.minima)}  maxima="
               f"{tuple(float(v) for v in pot.maxima)}  scale={scale:g}  core={core:g}  "
               f"paths={paths}  dt={dt:g}  seed={seed}")
    click.echo(format_table(["eps", "t_max", "transition", "count", "rate q_ij [95% CI]",
                             "theory", "sim/theory"], rate_rows))
    click.echo("")
    click.echo(format_table(["eps", "well", "minimum", "occupation [95% CI]",
                             "chain over [0, t_max]", "stationary pi"], occ_rows))
    click.echo(f"theory: {theory[0][1]}; "
               + ("q_ij = eps^alpha (c_alpha/alpha) | |s_{j-1}-m_i|^-alpha - |s_j-m_i|^-alpha |"
                  if alpha < 2 else "q = sqrt(U''(m)|U''(s)|)/(2 pi) exp(-height/eps^2)")
               + "; the chain starts in well 1")

    traj = None
    if n_traj and plot_path and not interrupted:
        from levydyn.simulate import record_paths

        k = len(results) - 1
        Q = theory[k][0]
        horizon = min(horizons[k], 3 * _auto_t_max(Q, 1.0))
        try:
            traj = record_paths(problems[k], min(n_traj, results[k].n_paths), dt=dt,
                                t_max=horizon, seed=seeds[k], max_points=6000)
        except KeyboardInterrupt:
            traj, interrupted = None, True
    if plot_path:
        with output_errors(plot_path):
            _plot(plot_path, pot, alpha, eps_list[:len(results)], results, forms, horizons,
                  pis if alpha == 2 else pis[0], traj)
        click.echo(f"wrote {plot_path}", err=True)
    if json_path:
        payload = {"command": "wells",
                   "problem": {"minima": list(pot.minima), "maxima": list(pot.maxima),
                               "alpha": alpha, "scale": scale, "core": core},
                   "interrupted": interrupted, "runs": runs_json}
        if traj is not None:
            payload["trajectories"] = traj.to_dict()
        write_json(json_path, to_jsonable(payload))
    exit_if_interrupted(interrupted)


def _plot(path, pot, alpha, eps, results, forms, horizons, pi, traj):
    from levydyn import plots

    n_w = len(pot.minima)
    occupation = [r.occupation() for r in results]
    finite = [forms[k][0].value("expected_occupation")(horizons[k]) for k in range(len(results))]
    grid = np.geomspace(min(eps) / 1.3, max(eps) * 1.3, 40)
    rates = {}
    gens = [r.generator() for r in results]
    Q_grid = [theory_generator(pot, alpha, e)[0] for e in grid]
    for i in range(n_w):
        for j in range(n_w):
            if i != j and Q_grid[0][i, j] > 0:
                est = [Estimate(g[0][i, j], g[1][i, j], g[2][i, j]) for g in gens]
                rates[(i, j)] = (est, grid, [Q[i, j] for Q in Q_grid])
    title = (f"alpha = {alpha:g}: transitions between wells vs "
             + ("Theorem 2 (Simsekli et al. 2019)" if alpha < 2 else "Eyring-Kramers"))
    plots.wells_summary(pot, eps, occupation, pi, finite, rates, alpha=alpha,
                        trajectories=traj, traj_eps=eps[-1], title=title, path=path)
