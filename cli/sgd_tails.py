"""``levydyn sgd-tails``: tail index of SGD iterates on least squares, theory vs simulation."""
from __future__ import annotations

import math
import sys
import time

import click

from cli.common import (FLOATS, CliError, exit_if_interrupted, format_table, library_errors,
                        save_figure, write_json)
from cli.types import GRID, POSITIVE_T, SEED, Int, image_file, json_file
from levydyn import plots
from levydyn.experiments import sgd_tails as st
from levydyn.results import to_jsonable
from levydyn.seeding import derive_seed




def _ints(name: str, values: list[float]) -> list[int]:
    out = []
    for v in values:
        if not (math.isfinite(v) and float(v).is_integer()):
            raise CliError(f"{name} must be integers, got {name}={v!r}")
        out.append(int(v))
    return out


def _fmt(x: float) -> str:
    if math.isinf(x):
        return f"> {st.S_MAX:g}"
    return f"{x:.4g}"


def _write_figure(path, fig) -> None:
    save_figure(fig, path, dpi=130)
    click.echo(f"wrote {path}", err=True)


def _run_dataset(A, y, source, etas, batches, iterations, chains, x0_scale, avg_from, sampling,
                 seed, json_path, plot_path):
    """The authors' protocol on (A, y): fixed K, Polyak averages, per-chain x0; naive
    estimates next to whether the run is stationary."""
    from levydyn.experiments import sgd_tails_data as sd

    rows = []
    t_start = time.perf_counter()
    settings = [(b, e) for b in batches for e in etas]
    with click.progressbar(settings, label="sgd-tails (data set)", file=sys.stderr) as bar:
        for b, eta in bar:
            row_seed = derive_seed(seed, {"command": "sgd-tails", "mode": "dataset",
                                          "eta": eta, "batch": b})
            with library_errors():
                rows.append(sd.run_setting(A, y, eta, b, iterations=iterations, n_chains=chains,
                                           x0_scale=x0_scale, avg_from=avg_from,
                                           sampling=sampling, seed=row_seed))
    n, d = A.shape
    click.echo(f"SGD on {source}: n = {n} rows x d = {d}; K = {iterations} steps from x0 ~ "
               f"N(0, {x0_scale:g}^2 I) per chain, Polyak average over k >= "
               f"{int(math.floor(avg_from * iterations))}, minibatches {sampling} replacement, "
               f"{chains} chains, base seed {seed} (each setting's seed derived from it)")
    table = []
    for r in rows:
        h = r["hill_last"]
        table.append([str(r["batch"]), f"{r['eta']:.4g}", f"{r['ratio']:.4g}",
                      f"{r['rho']:.3g} [{r['rho_ci'][0]:.3g}, {r['rho_ci'][1]:.3g}]",
                      f"{r['x0_memory']:.2g}", f"{r['spread_ratio']:.3g}", r["status"],
                      f"{r['naive_avg']:.3f}", f"{r['naive_last']:.3f}",
                      f"{h[0]:.3g} [{h[1]:.3g}, {h[2]:.3g}]", f"{r['wall_s']:.1f}"])
    click.echo(format_table(["b", "eta", "eta/b", "rho/step [95% CI]", "x0 memory", "spread",
                             "status", "naive alpha (avg)", "naive alpha (x_K)",
                             "Hill ||x_K - x_hat|| [95% CI]", "sim s"], table))
    for r in rows:
        if r["status"] != "ok":
            click.echo(f"b={r['batch']} eta={r['eta']:.4g}: {r['status']}: {r['reason']}; the "
                       f"naive alpha {r['naive_avg']:.3f} describes a transient, not a "
                       "stationary tail")
    click.echo("naive alpha: the authors' estimator (multivariate Mohammadi, median over block "
               "lengths 2..100, unclipped) across chains; x0 memory = exp(rho k_avg); spread = "
               "median ||x_K - x_hat|| / median ||x_{k_avg} - x_hat||. "
               f"Total {time.perf_counter() - t_start:.0f} s.")
    if json_path:
        write_json(json_path, to_jsonable({
            "command": "sgd-tails", "mode": "dataset", "source": source, "n": n, "d": d,
            "settings": {"iterations": iterations, "chains": chains, "x0_scale": x0_scale,
                         "avg_from": avg_from, "sampling": sampling, "seed": seed},
            "rows": rows}))
    if plot_path:
        _write_figure(plot_path, plots.sgd_tail_index_dataset(rows))


@click.command("sgd-tails")
@click.option("--eta", "eta_spec", type=GRID, default=None,
              help="Step sizes: START:STOP:COUNT or a list. Default: use --alpha-target.")
@click.option("--alpha-target", type=FLOATS, default=None,
              help="Instead of --eta: for each (b, d), the step sizes whose theoretical "
                   "tail index is each of these values.  [default: 1,1.5,2,3,4]")
@click.option("--batch", type=FLOATS, default="1", show_default=True, help="Batch sizes b.")
@click.option("--dim", type=FLOATS, default="1,10", show_default=True, help="Dimensions d.")
@click.option("--sigma", type=POSITIVE_T, default=1.0, show_default=True,
              help="Data scale: a ~ N(0, sigma^2 I_d).")
@click.option("--chains", type=Int(1), default=4096, show_default=True,
              help="Independent SGD chains per setting.")
@click.option("--records", type=Int(1), default=64, show_default=True,
              help="Snapshots per chain after burn-in (every tau/2 iterations).")
@click.option("--burn", type=POSITIVE_T, default=15.0, show_default=True,
              help="Burn-in in relaxation times tau = 1/|E log||M e_1|||.")
@click.option("--groups", type=Int(1), default=10, show_default=True,
              help="Independent groups of chains for the estimators' CIs.")
@click.option("--simulate-range", type=FLOATS, default="0.5,4.5", show_default=True,
              help="Simulate (and Monte Carlo check) only settings whose theoretical alpha "
                   "lies in LO,HI; beyond ~5 both the Hill estimate and the Monte Carlo "
                   "root are strongly biased at these sample sizes.")
@click.option("--max-draws", type=POSITIVE_T, default=2e9, show_default=True,
              help="Skip the simulation of a setting needing more normal draws than this.")
@click.option("--mc-samples", type=Int(0), default=20000, show_default=True,
              help="Monte Carlo draws of ||M e_1|| for a second theory column (0: off).")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Data-set mode: least squares on YOUR data, a .npz with A "
                                 "(n x d) and y (n) (names: --data-keys); the authors' protocol "
                                 "(fixed K, Polyak averages, per-chain x0).")
@click.option("--data-keys", default="A,y", show_default=True,
              help="Array names of A and y in --data.")
@click.option("--synthetic", type=FLOATS, default=None,
              help="Data-set mode on the authors' synthetic data N,D (A ~ N(0,1), x ~ N(0,9), "
                   "noise N(0,9)); e.g. 10000,100.")
@click.option("--iterations", type=Int(1), default=1000, show_default=True,
              help="Data-set mode: SGD steps per chain (fixed K, no burn-in rule).")
@click.option("--x0-scale", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Data-set mode: each chain starts at x0 ~ N(0, s^2 I) of its own.")
@click.option("--avg-from", type=click.FloatRange(0, 1, max_open=True), default=0.5,
              show_default=True, help="Data-set mode: Polyak average over k >= this fraction of K.")
@click.option("--sampling", type=click.Choice(["without", "with"]), default="without",
              show_default=True, help="Data-set mode: minibatch rows drawn without / with "
                                      "replacement within a step.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Base seed; each setting's stream is derived from it and the setting.")
@click.option("--json", "json_path", type=json_file(),
              help="Write all numbers (with CIs) to this JSON file.")
@click.option("--plot", "plot_path", type=image_file(),
              help="Write alpha vs eta/b (theory lines, estimates with error bars) here.")
def sgd_tails(eta_spec, alpha_target, batch, dim, sigma, chains, records, burn, groups,
              simulate_range, max_draws, mc_samples, data_path, data_keys, synthetic, iterations,
              x0_scale, avg_from, sampling, seed, json_path, plot_path):
    """Tail index of stationary SGD on least squares: Kesten theory vs simulation.

    SGD x <- (I - (eta/b) sum a_i a_i^T) x + (eta/b) sum a_i y_i with fresh
    a_i ~ N(0, sigma^2 I_d), y_i = xi_i ~ N(0, 1). Theory: alpha solves
    E||M e_1||^alpha = 1 (Gurbuzbalaban, Simsekli & Zhu, ICML 2021), by quadrature and,
    as a check, by Monte Carlo with a CI. Simulation: many chains, then the multivariate
    Mohammadi estimator (the authors'; it measures min(alpha, 2)) and Hill on ||x||, each
    with a 95 % CI over independent groups of chains. Also prints the step sizes past
    which the variance (eta_2) and the mean (eta_1) of the iterates are infinite and
    past which they diverge (eta_inf).

    \b
    With --data A_y.npz (or --synthetic N,D) it runs the authors' protocol on a finite
    data set instead: K = --iterations steps from a random x0 per chain, Polyak averages
    over the second half, minibatches without replacement; it prints the authors' naive
    alpha next to the Lyapunov exponent of the data set's random matrices, the share of
    x0 left when averaging starts, and a status: ok, not stationary, or diverges.

    \b
    Examples:
      levydyn sgd-tails
      levydyn sgd-tails --alpha-target 1,2,3,4 --batch 1,5 --dim 1,10 --plot tails.png
      levydyn sgd-tails --eta 0.01:0.5:10 --batch 1,5,10 --dim 1,10,100 --plot tails.png
      levydyn sgd-tails --synthetic 2000,20 --eta 0.02,0.05,0.1 --batch 1,5 --chains 400
      levydyn sgd-tails --data mydata.npz --eta 0.01,0.1 --iterations 2000
    """
    if data_path is not None or synthetic is not None:
        if data_path is not None and synthetic is not None:
            raise CliError("give either --data or --synthetic, not both")
        if alpha_target is not None:
            raise CliError("alpha-target needs the Gaussian theory: not available in data-set "
                           "mode (--data / --synthetic); give --eta")
        if eta_spec is None:
            raise CliError("data-set mode (--data / --synthetic) needs --eta")
        batches = _ints("batch", batch)
        if data_path is not None:
            from levydyn.experiments.sgd_tails_data import load_npz

            with library_errors():
                A, y = load_npz(data_path, data_keys)
            source = str(data_path)
        else:
            nd = _ints("synthetic", synthetic)
            if len(nd) != 2:
                raise CliError(f"synthetic must be N,D, got synthetic={synthetic}")
            from levydyn.experiments.sgd_tails_data import authors_synthetic_data

            with library_errors():
                A, y = authors_synthetic_data(nd[0], nd[1], seed=seed)
            source = f"the authors' synthetic data (seed {seed})"
        if chains < 2:
            raise CliError(f"chains must be at least 2, got chains={chains}")
        with library_errors():
            from levydyn.experiments.sgd_tails_data import check_dataset

            A, y = check_dataset(A, y)
        _run_dataset(A, y, source, eta_spec, batches, iterations, chains, x0_scale, avg_from,
                     sampling, seed, json_path, plot_path)
        return
    if eta_spec is not None and alpha_target is not None:
        raise CliError("give either --eta or --alpha-target, not both")
    if eta_spec is None and alpha_target is None:
        alpha_target = [1.0, 1.5, 2.0, 3.0, 4.0]
    batches = _ints("batch", batch)
    dims = _ints("dim", dim)
    if len(simulate_range) != 2 or not simulate_range[0] < simulate_range[1]:
        raise CliError(f"simulate-range must be LO,HI with LO < HI, got {simulate_range}")
    if mc_samples == 1:
        raise CliError(f"mc-samples must be 0 or at least 2, got mc-samples={mc_samples}")

    with library_errors():
        crit, settings = st.settings_grid(batches, dims, sigma, eta_spec, alpha_target)
        if chains < 2 * groups:
            raise ValueError(f"chains must be at least 2 * groups = {2 * groups}, got "
                             f"chains={chains}")

    rows = []
    interrupted = False
    t_start = time.perf_counter()
    with click.progressbar(settings, label="sgd-tails", file=sys.stderr) as bar:
        for p in bar:
            row_seed = derive_seed(seed, {"command": "sgd-tails", "eta": p.eta, "batch": p.batch,
                                          "dim": p.dim, "sigma": sigma})
            try:
                with library_errors():
                    row = st.run_setting(p, row_seed, simulate_range, mc_samples, burn, chains,
                                         records, max_draws, groups)
            except KeyboardInterrupt:
                interrupted = True
                break
            rows.append(row)
    if interrupted:
        click.echo(f"interrupted (Ctrl-C): {len(rows)} of {len(settings)} settings finished",
                   err=True)
        if not rows:
            exit_if_interrupted(True)
    _report(rows, crit, sigma, chains, records, burn, groups, seed, simulate_range, max_draws,
            mc_samples, t_start, json_path, plot_path, interrupted)
    exit_if_interrupted(interrupted)


def _report(rows, crit, sigma, chains, records, burn, groups, seed, simulate_range, max_draws,
            mc_samples, t_start, json_path, plot_path, interrupted) -> None:
    """Print the table and write the JSON and the plot."""
    click.echo(f"SGD on least squares, a ~ N(0, {sigma:g}^2 I_d), fresh data each step; "
               f"{chains} chains x {records} snapshots, burn-in {burn:g} tau, seed={seed}")
    for (b, d), c in crit.items():
        click.echo(f"  b={b:<3d} d={d:<4d} eta_2 = 2b/(sigma^2 (b+d+1)) = {c['eta_2']:.5g} "
                   f"(variance infinite beyond)   eta_1 = {c['eta_1']:.5g} (mean infinite)   "
                   f"eta_inf = {c['eta_inf']:.5g} (diverges)")
    table = []
    for r in rows:
        a = r["alpha_theory"]
        mc = r.get("alpha_mc")
        line = [str(r["batch"]), str(r["dim"]), f"{r['eta']:.5g}", f"{r['ratio']:.5g}",
                "diverges" if a == 0.0 else _fmt(a),
                (f"{_fmt(mc.value)} [{_fmt(mc.low)}, {_fmt(mc.high)}]" if mc else "-")]
        if "hill" in r:
            h, m = r["hill"], r["mohammadi"]
            line += [str(m), str(h),
                     "yes" if m.contains(min(a, 2.0)) else "no",
                     "yes" if h.contains(a) else "no",
                     str(r["samples"]), f"{r['wall_s']:.1f}"]
        else:
            line += ["-", "-", "-", "-", "-", "-"]
        table.append(line)
    click.echo(format_table(["b", "d", "eta", "eta/b", "alpha theory", "alpha MC [95% CI]",
                             "Mohammadi [95% CI]", "Hill ||x|| [95% CI]", "M ok", "H ok",
                             "samples", "sim s"], table))
    skipped = [r for r in rows if "skipped" in r and r["alpha_theory"] != 0.0]
    for r in skipped:
        if r["skipped"].startswith("needs"):
            click.echo(f"not simulated: b={r['batch']} d={r['dim']} eta={r['eta']:.5g}: "
                       f"{r['skipped']}")
    click.echo("M ok: min(alpha, 2) inside the Mohammadi CI; H ok: alpha inside the Hill CI. "
               f"Total {time.perf_counter() - t_start:.0f} s.")

    if json_path:
        write_json(json_path, to_jsonable({
            "command": "sgd-tails", "interrupted": interrupted,
            "settings": {"sigma": sigma, "chains": chains, "records": records, "burn": burn,
                         "groups": groups, "seed": seed, "simulate_range": simulate_range,
                         "max_draws": max_draws, "mc_samples": mc_samples},
            "critical_steps": [{"batch": b, "dim": d, **c} for (b, d), c in crit.items()],
            "rows": rows}))
    if plot_path:
        with library_errors():
            curves = {(b, d): st.theory_curve(b, d, sigma) for (b, d) in crit}
        _write_figure(plot_path, plots.sgd_tail_index(rows, curves, crit, sigma))
