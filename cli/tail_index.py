"""``levydyn tail-index FILE``: per-coordinate tail index, Gaussianity and fit errors of a sample."""
from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np

from cli.common import library_errors, save_figure, write_json
from cli.types import SEED, image_file, json_file
from levydyn import estimators as est

METHODS = ("cf", "mcculloch", "mohammadi", "mohammadi-median", "hill")


def _load(path: str, key: str | None, transpose: bool) -> np.ndarray:
    """Read a .npy / .npz / .csv file as a float array (samples x coordinates)."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = list(z.files)
                if not names:
                    raise click.BadParameter(f"{path} holds no arrays", param_hint="FILE")
                if key is None:
                    key = names[0]
                elif key not in names:
                    raise click.BadParameter(f"no array {key!r} in {path}; it holds "
                                             f"{', '.join(names)}", param_hint="--key")
                arr = z[key]
        elif suffix in (".csv", ".txt"):
            try:
                arr = np.loadtxt(path, delimiter=",", ndmin=1)
            except ValueError:               # maybe a header line
                arr = np.loadtxt(path, delimiter=",", ndmin=1, skiprows=1)
        else:
            raise click.BadParameter(f"unsupported file type {suffix or '(none)'!r}; use .npy, "
                                     ".npz or .csv", param_hint="FILE")
    except click.BadParameter:
        raise
    except (OSError, ValueError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise click.BadParameter(f"cannot read {path}: {msg}", param_hint="FILE") from None
    if arr.dtype.kind not in "biuf":
        raise click.BadParameter(f"{path} is not numeric (dtype {arr.dtype})", param_hint="FILE")
    arr = np.asarray(arr, dtype=float)
    if arr.ndim not in (1, 2):
        raise click.BadParameter(f"need a 1-D or 2-D array (samples x coordinates), got "
                                 f"shape {arr.shape}", param_hint="FILE")
    if transpose and arr.ndim == 2:
        arr = arr.T
    return arr if arr.ndim == 2 else arr[:, None]


def _alpha_scale(method: str, x: np.ndarray):
    if method == "cf":
        return est.cf_regression(x)
    if method == "mcculloch":
        return est.mcculloch(x)
    # scale-free estimators: report McCulloch's scale next to them
    _, scale = est.mcculloch(x)
    if method == "mohammadi":
        return est.mohammadi_alpha(x), scale
    if method == "mohammadi-median":
        return est.mohammadi_alpha_median(x), scale
    return est.hill_alpha(x), scale


def _num(v):
    """A float for the JSON (non-finite values follow :func:`levydyn.results.to_jsonable`)."""
    return float(v)


def _plot(path: str, alpha: np.ndarray, pooled: float, method: str, source: str) -> None:
    from matplotlib.figure import Figure   # no pyplot: no global figure state

    fin = alpha[np.isfinite(alpha)]
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.hist(fin, bins=min(60, max(10, int(np.sqrt(fin.size)))), color="tab:blue", alpha=0.8)
    if fin.size:
        ax.set_xlim(min(fin.min(), 2.0) - 0.05, max(fin.max(), 2.0) + 0.05)
    if math.isfinite(pooled):
        ax.axvline(pooled, color="k", ls="--", label=f"pooled alpha = {pooled:.3f}")
    ax.axvline(2.0, color="tab:red", lw=1, label="Gaussian (alpha = 2)")
    ax.set_xlabel(f"alpha_i ({method})")
    ax.set_ylabel("coordinates")
    ax.set_title(f"{Path(source).name}: {fin.size} coordinates")
    ax.legend(loc="best")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


@click.command("tail-index")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", default=None, help="Array name inside a .npz (default: the first).")
@click.option("--transpose", is_flag=True, help="The file is coordinates x samples.")
@click.option("--method", type=click.Choice(METHODS), default="cf", show_default=True,
              help="Per-coordinate alpha estimator (cf = characteristic-function regression).")
@click.option("--center/--no-center", default=True, show_default=True,
              help="Subtract each coordinate's median first (the block-sum and Hill "
                   "estimators assume centred data).")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Shapiro-Wilk test level.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Also print the Berry-Esseen bound for means of this many samples.")
@click.option("--fit-columns", type=click.IntRange(min=0), default=100, show_default=True,
              help="Gauss-vs-SaS fit errors on this many random coordinates (0: skip).")
@click.option("--bins", type=click.IntRange(min=2), default=50, show_default=True,
              help="Histogram bins for the fit errors.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed for choosing the fit-error coordinates.")
@click.option("--plot", "plot_path", type=image_file(),
              help="Write a histogram of alpha_i to this PNG.")
@click.option("--json", "json_path", type=json_file(),
              help="Write all results (per-coordinate alpha and scale included) to this JSON file.")
def tail_index(file, key, transpose, method, center, level, batch_size, fit_columns, bins, seed,
               plot_path, json_path):
    """Tail index alpha_i and scale of every coordinate of FILE, and Gaussianity checks.

    FILE is .npy, .npz or .csv holding a 1-D sample or a 2-D array of samples x
    coordinates (e.g. gradient-noise draws x parameters). Scales use the SaS(1)
    convention x = loc + scale Z, E exp(iwZ) = exp(-|w|^alpha) (alpha = 2: std = sqrt(2)
    scale). Prints: the distribution of alpha_i over coordinates, the pooled alpha
    (Mohammadi block-sum estimator on all coordinates, each divided by its scale) and the
    norm-based multivariate alpha, the share of coordinates a Shapiro-Wilk test does not
    reject, the Berry-Esseen bound (with --batch-size) and the SSE / chi-square of Gaussian
    and SaS fits on a histogram (paper 004, Tables 1-3).

    \b
    Examples:
      levydyn tail-index noise.npy
      levydyn tail-index noise.npz --key layer1 --method mcculloch --plot alpha.png
      levydyn tail-index samples.csv --batch-size 128 --json out.json
    """
    x = _load(file, key, transpose)
    n, d = x.shape
    if n < est.MIN_SAMPLES or d == 0:
        raise click.BadParameter(f"need at least {est.MIN_SAMPLES} samples per coordinate, got "
                                 f"shape {x.shape} (samples x coordinates; see --transpose)",
                                 param_hint="FILE")
    bad = ~np.isfinite(x)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise click.BadParameter(f"non-finite value {x[i, j]} at sample {i}, coordinate {j}",
                                 param_hint="FILE")
    spread = np.any(x != x[0], axis=0)
    if not spread.any():
        raise click.BadParameter(f"FILE must have spread: all {d} coordinate(s) are constant "
                                 f"(a tail index and a Gaussianity test are undefined), got "
                                 f"FILE={file!r}", param_hint="FILE")
    if center:
        x = x - np.median(x, axis=0)

    with library_errors():
        alpha, scale = _alpha_scale(method, x)
        alpha, scale = np.atleast_1d(alpha), np.atleast_1d(scale)
        live = np.isfinite(alpha) & np.isfinite(scale) & (scale > 0)
        if live.any():
            z = x[:, live] / scale[live]
            pooled = float(est.mohammadi_alpha(z.reshape(-1, order="F")))
            multi = float(est.mohammadi_alpha_multivariate(x[:, live])) if d > 1 else float("nan")
        else:
            pooled = multi = float("nan")
        gauss = est.shapiro_gaussian_fraction(x, level=level)
        be = est.berry_esseen_bound(x, batch_size) if batch_size else None
        fits = []
        cand = np.flatnonzero(live)
        if fit_columns and cand.size:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(cand, size=min(fit_columns, cand.size), replace=False))
            for j in pick:
                try:
                    fits.append(est.fit_errors(x[:, j], bins=bins))
                except ValueError:          # no spread between the tail quantiles
                    continue

    fin = alpha[np.isfinite(alpha)]
    lines = [f"{file}: {n} samples x {d} coordinate{'s' if d > 1 else ''}"
             + (" (centred by median)" if center else "")]
    name = {"cf": "cf_regression"}.get(method, method)
    if d == 1:
        lines.append(f"alpha ({name}) = {alpha[0]:.4f}, scale = {scale[0]:.6g}")
    else:
        q = np.quantile(fin, [0.1, 0.5, 0.9]) if fin.size else [np.nan] * 3
        lines.append(f"alpha_i ({name}): median {q[1]:.4f}, 10-90% [{q[0]:.4f}, {q[2]:.4f}], "
                     f"mean {np.mean(fin) if fin.size else np.nan:.4f}"
                     + (f", {d - fin.size} not estimable (no spread)" if fin.size < d else ""))
        sfin = scale[np.isfinite(scale)]
        lines.append(f"scale_i: median {np.median(sfin) if sfin.size else np.nan:.6g}")
        lines.append(f"pooled alpha (Mohammadi, standardised coordinates) = {pooled:.4f}; "
                     f"multivariate (norms) = {multi:.4f}")
    lines.append(f"Gaussian coordinates (Shapiro-Wilk, level {level:g}, {gauss.n_samples} samples):"
                 f" {100 * gauss.fraction:.1f}% (95% CI {100 * gauss.fraction_ci[0]:.1f}-"
                 f"{100 * gauss.fraction_ci[1]:.1f}%)"
                 + (f"; {gauss.n_constant} constant coordinate(s) have no test and count as "
                    "not rejected" if gauss.n_constant else ""))
    if be is not None:
        ratio = np.atleast_1d(be.ratio)
        bound = np.atleast_1d(be.bound)
        lines.append(f"Berry-Esseen (batch {batch_size}, C = {be.constant}): beta/sigma^3 median "
                     f"{np.nanmedian(ratio):.4f}, bound median {np.nanmedian(bound):.4g}, "
                     f"max {np.nanmax(bound):.4g}")
    fit_summary = None
    if fits:
        def mean_sd(vals):
            v = np.asarray(vals, dtype=float)
            return float(np.mean(v)), float(np.std(v))

        fit_summary = {
            "columns": len(fits),
            "gauss_sse": mean_sd([f.gauss_sse for f in fits]),
            "sas_sse": mean_sd([f.sas_sse for f in fits]),
            "gauss_chi2": mean_sd([f.gauss_chi2 for f in fits]),
            "sas_chi2": mean_sd([f.sas_chi2 for f in fits]),
            "sas_better_fraction_chi2": float(np.mean([f.better == "sas" for f in fits])),
            "sas_better_fraction_sse": float(np.mean([f.better_sse == "sas" for f in fits])),
        }
        fs = fit_summary
        lines.append(f"fit errors over {fs['columns']} coordinate{'s' if fs['columns'] > 1 else ''}"
                     f" ({bins} bins, mean +- sd):")
        lines.append(f"  Gauss SSE {fs['gauss_sse'][0]:.4g} +- {fs['gauss_sse'][1]:.3g}   "
                     f"SaS SSE {fs['sas_sse'][0]:.4g} +- {fs['sas_sse'][1]:.3g}")
        lines.append(f"  Gauss chi2 {fs['gauss_chi2'][0]:.4g} +- {fs['gauss_chi2'][1]:.3g}   "
                     f"SaS chi2 {fs['sas_chi2'][0]:.4g} +- {fs['sas_chi2'][1]:.3g}")
        lines.append(f"  SaS fits better in {100 * fs['sas_better_fraction_chi2']:.0f}% (chi2), "
                     f"{100 * fs['sas_better_fraction_sse']:.0f}% (SSE)")
    click.echo("\n".join(lines))

    if plot_path:
        _plot(plot_path, alpha, pooled, name, file)
        click.echo(f"wrote {plot_path}", err=True)
    if json_path:
        payload = {
            "file": str(file), "n_samples": n, "n_coordinates": d, "method": name,
            "centered": center,
            "alpha": [_num(v) for v in alpha], "scale": [_num(v) for v in scale],
            "pooled_alpha": _num(pooled), "multivariate_alpha": _num(multi),
            "gaussian_fraction": gauss.fraction, "gaussian_fraction_ci": list(gauss.fraction_ci),
            "level": level, "shapiro_samples": gauss.n_samples,
            "shapiro_pvalues": [_num(v) for v in gauss.pvalues],
            "berry_esseen": None if be is None else {
                "batch_size": batch_size, "constant": be.constant,
                "ratio": [_num(v) for v in np.atleast_1d(be.ratio)],
                "bound": [_num(v) for v in np.atleast_1d(be.bound)]},
            "fit_errors": fit_summary,
        }
        write_json(json_path, payload)
