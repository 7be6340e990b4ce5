"""Accuracy and speed of levydyn's tail-index estimators on SaS(1) samples.

For every true alpha in {0.6, 0.8, ..., 2.0} and sample size n in {1e3, 1e4, 1e5}, R
repetitions are drawn as one (n, R) array with ``levydyn.sas_rvs`` (times a scale of 2,
so scale estimates are exercised) and every estimator is called *once* on the whole
array (vectorised over columns). Reported: bias and RMSE of alpha over the R
repetitions, and the wall time per estimate (call time / R).

Baseline: ``scipy.stats.levy_stable.fit(x, fbeta=0, floc=0)`` (beta and loc fixed at
their true values: scipy's best case, and much faster than its free four-parameter fit),
one column at a time, on the first repetitions of the same samples, as set by
``--scipy-plan`` (e.g. ``"1000:3;10000:2:1.0,1.6"``: 3 repetitions at n = 1e3 for every
alpha, 2 at n = 1e4 for alpha = 1.0 and 1.6); it is slow (tens of seconds per fit at n = 1e3, minutes at 1e4), hence
far fewer repetitions. Its RMSE is printed next to cf_regression's RMSE on the *same*
repetitions, and its time per fit next to the time of a single-column cf_regression
call (no amortisation over columns).

Usage::

    python benchmarks/bench_estimators.py            # full table (R = 200)
    python benchmarks/bench_estimators.py --quick    # a small smoke run
    python benchmarks/bench_estimators.py --scipy-plan "1000:3;10000:2:1.0,1.6" --wide --out t.md
    python benchmarks/bench_estimators.py --blocks --coverage "1000:400;10000:100:1.2,1.8" \
        --zeros "1.5:10000:100:0.05,0.2"

``--blocks`` adds paired comparisons on the same samples (median over the authors' block
lengths vs K1 ~ n^p; at least 10 vs 2 blocks; eq. 15 unclipped vs clipped), ``--coverage``
the coverage of ``alpha_ci`` at level 0.95 on fresh samples, ``--zeros`` the effect of an
atom at 0 with ``zeros="keep"`` and ``"drop"``.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

import numpy as np

from levydyn import estimators as est
from levydyn.estimators import block_sums
from levydyn.model.noise import sas_rvs

SCALE = 2.0

ESTIMATORS = {
    # name: callable returning (alpha_hat, scale_hat or None), vectorised over columns
    "mohammadi": (lambda x: (est.mohammadi_alpha(x), None)),
    "mohammadi_median": (lambda x: (est.mohammadi_alpha_median(x), None)),
    "mohammadi_order": (lambda x: (est.mohammadi_order_alpha(x), None)),
    "mcculloch": (lambda x: est.mcculloch(x)),
    "cf_regression": (lambda x: est.cf_regression(x)),
    "hill": (lambda x: (est.hill_alpha(x), None)),
}

# Variants compared pairwise (same samples) with --blocks: name -> (baseline, variant, fn).
PAIRED = {
    "median: authors' K1 vs K1 ~ n^0.3..0.7": (
        lambda x: est.mohammadi_alpha_median(x, block_sizes="powers"),
        lambda x: est.mohammadi_alpha_median(x, block_sizes="authors")),
    "median: authors' K1 with >= 10 blocks vs >= 2 blocks": (
        lambda x: est.mohammadi_alpha_median(x, block_sizes=est.median_block_sizes(
            x.shape[0], "authors", min_blocks=2)),
        lambda x: est.mohammadi_alpha_median(x)),
    "order statistic: K1 = 10 (default) vs K1 ~ sqrt(n), p = 0.75": (
        lambda x: est.mohammadi_order_alpha(x, K1=block_sums._block_sizes(x.shape[0])[0]),
        lambda x: est.mohammadi_order_alpha(x)),
    "order statistic: p = 0.75 (default) vs p = 0.5, K1 = 10": (
        lambda x: est.mohammadi_order_alpha(x, p=0.5),
        lambda x: est.mohammadi_order_alpha(x)),
    "eq. 15: clip=False vs clip at 2": (
        lambda x: est.mohammadi_alpha(x),
        lambda x: est.mohammadi_alpha(x, clip=False)),
}


def _seed(seed: int, n: int, alpha: float) -> int:
    """Seed of the (n, reps) sample for (n, alpha): the baseline reuses the same columns."""
    return seed * 1_000_003 + n * 1000 + int(round(alpha * 100))


def _parse_list(text: str, kind=float):
    return [kind(float(v)) for v in text.split(",") if v.strip()]


def _warmup():
    x = sas_rvs(1.5, (64, 3), seed=0)
    for f in ESTIMATORS.values():
        f(x)
        f(x[:, 0])


def _time_call(f, x):
    t0 = time.perf_counter()
    out = f(x)
    return out, time.perf_counter() - t0


def _fmt_us(seconds: float) -> str:
    us = seconds * 1e6
    if us >= 1e6:
        return f"{us / 1e6:.1f} s"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.1f} us"


def run_accuracy(alphas, sizes, reps, seed):
    """rows[(n, alpha)][name] = dict(bias, rmse, t_per, sbias, srmse)."""
    rows = {}
    for n in sizes:
        for a in alphas:
            x = SCALE * sas_rvs(a, (n, reps), seed=_seed(seed, n, a))
            cell = {}
            for name, f in ESTIMATORS.items():
                (ah, sh), dt = _time_call(f, x)
                ah = np.asarray(ah)
                err = ah - a
                d = dict(bias=float(np.nanmean(err)), rmse=float(np.sqrt(np.nanmean(err ** 2))),
                         t_per=dt / reps, nan=int(np.isnan(ah).sum()))
                if sh is not None:
                    rel = np.asarray(sh) / SCALE - 1.0
                    d.update(sbias=float(np.nanmean(rel)), srmse=float(np.sqrt(np.nanmean(rel ** 2))))
                cell[name] = d
            rows[(n, a)] = cell
            print(f"  n={n:>6} alpha={a:.1f} done", file=sys.stderr, flush=True)
    return rows


def run_paired(alphas, sizes, reps, seed):
    """rows[label][(n, alpha)] = (rmse_base, rmse_variant, bias_base, bias_variant, z).

    Same samples as run_accuracy. z is the paired statistic of the squared errors,
    mean(e_base^2 - e_variant^2) / (sd / sqrt(reps)): z > 2 means the variant's RMSE is
    lower beyond the sampling noise of the comparison.
    """
    rows = {label: {} for label in PAIRED}
    for n in sizes:
        for a in alphas:
            x = SCALE * sas_rvs(a, (n, reps), seed=_seed(seed, n, a))
            for label, (base, variant) in PAIRED.items():
                eb, ev = np.asarray(base(x)) - a, np.asarray(variant(x)) - a
                d = eb ** 2 - ev ** 2
                sd = float(np.std(d, ddof=1))
                rows[label][(n, a)] = (float(np.sqrt(np.mean(eb ** 2))),
                                       float(np.sqrt(np.mean(ev ** 2))), float(np.mean(eb)),
                                       float(np.mean(ev)),
                                       float(np.mean(d) / (sd / np.sqrt(reps))) if sd > 0 else 0.0)
    return rows


def run_coverage(plan, alphas, seed, n_boot):
    """cov[(n, alpha)][method] = (coverage, mean width, ci kind) of alpha_ci(ci="auto")."""
    out = {}
    for n, reps, al in plan:
        for a in al:
            x = sas_rvs(a, (n, reps), seed=_seed(seed + 7, n, a))
            cell = {}
            for m in est.ALPHA_METHODS:
                r = est.alpha_ci(x, method=m, n_boot=n_boot, seed=seed)
                cell[m] = (float(np.mean((r.low <= a) & (a <= r.high))),
                           float(np.nanmean(r.high - r.low)), r.ci)
            out[(n, a)] = (reps, cell)
            print(f"  coverage n={n:>6} alpha={a:.1f} done", file=sys.stderr, flush=True)
    return out


def run_zeros(fracs, alpha, n, reps, seed):
    """rows[frac][name] = (bias keep, rmse keep, bias drop, rmse drop) on SaS(alpha) with zeros."""
    x = sas_rvs(alpha, (n, reps), seed=_seed(seed + 11, n, alpha))
    rng = np.random.default_rng(seed)
    u = rng.random(x.shape)
    fns = {
        "mohammadi": est.mohammadi_alpha, "mohammadi_median": est.mohammadi_alpha_median,
        "mohammadi_order": est.mohammadi_order_alpha,
        "mcculloch": lambda v, zeros: est.mcculloch(v, zeros=zeros)[0],
        "cf_regression": lambda v, zeros: est.cf_regression(v, zeros=zeros)[0],
        "hill": est.hill_alpha,
    }
    rows = {}
    for f in fracs:
        z = np.where(u < f, 0.0, x)
        cell = {}
        for name, fn in fns.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", est.AtomWarning)
                ek = np.asarray(fn(z, zeros="keep")) - alpha
                ed = np.asarray(fn(z, zeros="drop")) - alpha
            cell[name] = (float(np.mean(ek)), float(np.sqrt(np.mean(ek ** 2))),
                          float(np.mean(ed)), float(np.sqrt(np.mean(ed ** 2))))
        rows[f] = cell
    return rows


def parse_plan(text: str, alphas):
    """'N:REPS[:A1,A2,..];...' -> [(n, reps, alphas)]; alphas default to all."""
    plan = []
    for item in filter(None, (t.strip() for t in text.split(";"))):
        parts = item.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"--scipy-plan entry {item!r}: expected N:REPS[:ALPHAS]")
        n, reps = int(float(parts[0])), int(parts[1])
        al = _parse_list(parts[2]) if len(parts) == 3 else list(alphas)
        plan.append((n, reps, al))
    return plan


def run_scipy(plan, seed, acc_reps):
    """Baseline on the first `reps` columns of the same arrays as run_accuracy."""
    from scipy.stats import levy_stable

    out = {}
    for n, reps, alphas in plan:
        for a in alphas:
            x = SCALE * sas_rvs(a, (n, acc_reps), seed=_seed(seed, n, a))[:, :reps]
            fits, times = [], []
            for j in range(reps):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pa, _, _, ps = levy_stable.fit(x[:, j], fbeta=0, floc=0)
                times.append(time.perf_counter() - t0)
                fits.append((pa, ps))
            fits = np.array(fits)
            cf_a, _ = est.cf_regression(x)
            t_single = []
            for j in range(reps):  # best of 5 calls per column (timeit practice), median over columns
                col = np.ascontiguousarray(x[:, j])
                t_single.append(min(_time_call(est.cf_regression, col)[1] for _ in range(5)))
            out[(n, a)] = dict(
                reps=reps,
                bias=float(np.mean(fits[:, 0] - a)),
                rmse=float(np.sqrt(np.mean((fits[:, 0] - a) ** 2))),
                srmse=float(np.sqrt(np.mean((fits[:, 1] / SCALE - 1) ** 2))),
                cf_rmse=float(np.sqrt(np.mean((cf_a - a) ** 2))),
                t_fit=float(np.mean(times)),
                t_cf=float(np.median(t_single)),
            )
            print(f"  scipy n={n:>6} alpha={a:.1f}: {np.mean(times):.1f} s/fit", file=sys.stderr,
                  flush=True)
    return out


def run_wide(n=1000, m=100_000, seed=5):
    """Wall time of one vectorised call on an (n, m) array: (first call, repeat call)."""
    x = sas_rvs(1.5, (n, m), seed=seed)
    times = {}
    calls = dict(ESTIMATORS, shapiro_gaussian_fraction=est.shapiro_gaussian_fraction)
    for name, f in calls.items():
        first = _time_call(f, x)[1]
        times[name] = (first, _time_call(f, x)[1])
    return times


def markdown_extra(paired, coverage, zeros, zeros_setting, n_boot):
    lines = []
    if paired:
        lines.append("")
        lines.append("Paired comparisons on the same samples (RMSE baseline -> variant, bias in "
                     "brackets; z = paired statistic of the squared errors, z > 2: the variant "
                     "is better beyond noise):")
        for label, cells in paired.items():
            lines.append("")
            lines.append(f"*{label}*")
            lines.append("")
            lines.append("| n | alpha | baseline RMSE (bias) | variant RMSE (bias) | z |")
            lines.append("|---:|---:|---:|---:|---:|")
            for (n, a), (rb, rv, bb, bv, z) in cells.items():
                lines.append(f"| {n} | {a:.1f} | {rb:.4f} ({bb:+.4f}) | {rv:.4f} ({bv:+.4f}) "
                             f"| {z:+.1f} |")
    if coverage:
        methods = list(est.ALPHA_METHODS)
        lines.append("")
        lines.append(f"Coverage of `alpha_ci(x, method, ci='auto', level=0.95, n_boot={n_boot})` "
                     "over the repetitions (mean interval width in brackets; kind: "
                     + ", ".join(f"{m} {k}" for m, k in
                                 zip(methods, [next(iter(coverage.values()))[1][m][2]
                                               for m in methods])) + "):")
        lines.append("")
        lines.append("| n | alpha | reps | " + " | ".join(methods) + " |")
        lines.append("|---:|---:|---:|" + "---:|" * len(methods))
        for (n, a), (reps, cell) in coverage.items():
            lines.append(f"| {n} | {a:.1f} | {reps} | "
                         + " | ".join(f"{cell[m][0]:.3f} ({cell[m][1]:.3f})" for m in methods)
                         + " |")
    if zeros:
        alpha, n, reps = zeros_setting
        names = list(next(iter(zeros.values())))
        lines.append("")
        lines.append(f"Exact zeros: SaS({alpha}) samples, n = {n}, {reps} repetitions, a share f "
                     "of the samples set to 0; bias / RMSE with `zeros='keep'` -> "
                     "`zeros='drop'` (the default):")
        lines.append("")
        lines.append("| f | " + " | ".join(names) + " |")
        lines.append("|---:|" + "---:|" * len(names))
        for f, cell in zeros.items():
            lines.append(f"| {f:g} | " + " | ".join(
                f"{c[0]:+.3f} / {c[1]:.3f} -> {c[2]:+.3f} / {c[3]:.3f}"
                for c in (cell[k] for k in names)) + " |")
    return lines


def markdown(rows, scipy_rows, alphas, sizes, reps, wide, argv):
    lines = []
    names = list(ESTIMATORS)
    lines.append(f"Command: `python benchmarks/bench_estimators.py {shlex.join(argv)}`".rstrip())
    lines.append("")
    lines.append(f"Accuracy of alpha_hat: `bias / RMSE` over {reps} repetitions of SaS(1) x {SCALE:g} "
                 "samples (levydyn.sas_rvs), each estimator called once on the (n, reps) array.")
    for n in sizes:
        lines.append("")
        lines.append(f"**n = {n}**")
        lines.append("")
        lines.append("| alpha | " + " | ".join(names) + " |")
        lines.append("|---:|" + "---:|" * len(names))
        for a in alphas:
            c = rows[(n, a)]
            cells = [f"{c[k]['bias']:+.3f} / {c[k]['rmse']:.3f}" for k in names]
            lines.append(f"| {a:.1f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Time per estimate (vectorised call over the repetitions, wall time / reps, "
                 "median over alphas):")
    lines.append("")
    lines.append("| n | " + " | ".join(names) + " |")
    lines.append("|---:|" + "---:|" * len(names))
    for n in sizes:
        cells = [_fmt_us(float(np.median([rows[(n, a)][k]["t_per"] for a in alphas])))
                 for k in names]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Scale (x = scale * Z, true scale {SCALE:g}): relative `bias / RMSE` of scale_hat.")
    lines.append("")
    snames = [k for k in names if "srmse" in rows[(sizes[0], alphas[0])][k]]
    lines.append("| n | alpha | " + " | ".join(snames) + " |")
    lines.append("|---:|---:|" + "---:|" * len(snames))
    for n in sizes:
        for a in alphas:
            c = rows[(n, a)]
            cells = [f"{c[k]['sbias']:+.3f} / {c[k]['srmse']:.3f}" for k in snames]
            lines.append(f"| {n} | {a:.1f} | " + " | ".join(cells) + " |")
    if scipy_rows:
        lines.append("")
        lines.append("Baseline `scipy.stats.levy_stable.fit(x, fbeta=0, floc=0)` (one column per "
                     "call, few repetitions because each fit is slow) vs `cf_regression` on the "
                     "same repetitions; cf time is a single-column call (no amortisation).")
        lines.append("")
        lines.append("| n | alpha | reps | scipy bias / RMSE | cf RMSE (same reps) | "
                     "scipy scale rel. RMSE | scipy time/fit | cf time (1 column) | speed-up |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (n, a), c in sorted(scipy_rows.items()):
            lines.append(f"| {n} | {a:.1f} | {c['reps']} | {c['bias']:+.3f} / {c['rmse']:.3f} | "
                         f"{c['cf_rmse']:.3f} | {c['srmse']:.3f} | {c['t_fit']:.1f} s | "
                         f"{_fmt_us(c['t_cf'])} | {c['t_fit'] / c['t_cf']:.0f}x |")
    if wide:
        lines.append("")
        lines.append(f"One vectorised call on {wide['shape'][0]} samples x {wide['shape'][1]} "
                     "coordinates (alpha = 1.5), wall time of the first / a repeated call: " +
                     ", ".join(f"{k} {v[0]:.1f} / {v[1]:.1f} s" for k, v in wide["times"].items())
                     + ".")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: alphas 0.8,1.4,2.0; n 1e3,1e4; 50 reps; scipy 1 fit")
    p.add_argument("--alphas", default="0.6,0.8,1.0,1.2,1.4,1.6,1.8,2.0")
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--scipy-plan", default="1000:3",
                   help="baseline runs 'N:REPS[:ALPHAS];...' ('' for none); REPS <= --reps")
    p.add_argument("--wide", action="store_true", help="also time one call on 1000 x 100000")
    p.add_argument("--blocks", action="store_true",
                   help="paired comparisons: block-size rules of the median, clip=False")
    p.add_argument("--coverage", default="",
                   help="coverage runs of alpha_ci 'N:REPS[:ALPHAS];...' ('' for none)")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples in --coverage")
    p.add_argument("--zeros", default="",
                   help="exact-zero runs: 'ALPHA:N:REPS:F1,F2,..' ('' for none)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", default=None, help="also write the markdown to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.alphas, args.sizes, args.reps, args.scipy_plan = "0.8,1.4,2.0", "1000,10000", 50, \
            "1000:1:1.4"
    alphas = _parse_list(args.alphas)
    sizes = _parse_list(args.sizes, int)
    try:
        plan = parse_plan(args.scipy_plan, alphas)
    except ValueError as err:
        p.error(str(err))
    if args.reps < 2 or any(not 1 <= r <= args.reps for _, r, _ in plan):
        p.error("--reps must be >= 2 and every baseline REPS in [1, --reps]")

    try:
        cov_plan = parse_plan(args.coverage, alphas)
        zs = args.zeros.split(":") if args.zeros else None
        zeros_setting = (float(zs[0]), int(float(zs[1])), int(zs[2])) if zs else None
        fracs = _parse_list(zs[3]) if zs else []
    except (ValueError, IndexError) as err:
        p.error(f"--coverage / --zeros: {err}")

    _warmup()
    rows = run_accuracy(alphas, sizes, args.reps, args.seed)
    paired = run_paired(alphas, sizes, args.reps, args.seed) if args.blocks else {}
    coverage = run_coverage(cov_plan, alphas, args.seed, args.n_boot) if cov_plan else {}
    zeros = run_zeros(fracs, *zeros_setting, args.seed) if zs else {}
    scipy_rows = run_scipy(plan, args.seed, args.reps) if plan else {}
    wide = None
    if args.wide:
        wide = dict(shape=(1000, 100_000), times=run_wide())
    text = markdown(rows, scipy_rows, alphas, sizes, args.reps, wide, argv)
    extra = markdown_extra(paired, coverage, zeros, zeros_setting, args.n_boot)
    if extra:
        text += "\n" + "\n".join(extra)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
