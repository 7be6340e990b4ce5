"""``levydyn tail-index FILE``: per-coordinate tail index, Gaussianity and fit errors of a sample."""
from __future__ import annotations

import math
import zipfile
from pathlib import Path

import click
import numpy as np

from cli.common import library_errors, save_figure, write_json
from cli.types import SEED, UNIT_OPEN_T, image_file, json_file
from levydyn import estimators as est

METHODS = ("cf", "mcculloch", "mohammadi", "mohammadi-median", "mohammadi-order", "hill")
#: CLI method name -> levydyn.estimators name (alpha_ci's ``method``).
LIB_NAME = {"cf": "cf_regression", "mcculloch": "mcculloch", "mohammadi": "mohammadi",
            "mohammadi-median": "mohammadi_median", "mohammadi-order": "mohammadi_order",
            "hill": "hill"}


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
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        # np.load reads a file that is neither .npy nor a zip as a pickle and refuses it;
        # an empty file raises EOFError (which click would turn into a bare "Aborted!")
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        if "pickled" in msg or isinstance(err, (EOFError, zipfile.BadZipFile)):
            msg = f"not a numpy {suffix} file" + (" (empty)" if isinstance(err, EOFError) else "")
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


def _ci_text(r, j=None) -> str:
    lo, hi = (r.low, r.high) if j is None else (r.low[j], r.high[j])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{100 * r.level:g}% CI [{lo:.4f}, {hi:.4f}]"
    return f"{100 * r.level:g}% CI [{lo:.4f}, {hi:.4f}] ({r.ci})"


@click.command("tail-index")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", default=None, help="Array name inside a .npz (default: the first).")
@click.option("--transpose", is_flag=True, help="The file is coordinates x samples.")
@click.option("--method", type=click.Choice(METHODS), default="cf", show_default=True,
              help="Per-coordinate alpha estimator (cf = characteristic-function regression).")
@click.option("--center/--no-center", default=True, show_default=True,
              help="Subtract each coordinate's median (of its nonzero samples) first; the "
                   "block-sum and Hill estimators assume centred data.")
@click.option("--zeros", type=click.Choice(est.ZEROS), default="drop", show_default=True,
              help="Exact zeros (an atom at 0, e.g. ReLU gradient noise): leave them out and "
                   "estimate the continuous part (drop), or keep them as the authors' code.")
@click.option("--block-sizes", type=click.Choice(est.BLOCK_SIZE_RULES), default="authors",
              show_default=True, help="Block lengths of --method mohammadi-median.")
@click.option("--clip/--no-clip", default=True, show_default=True,
              help="Clip the block-sum estimators (and the pooled alphas) at alpha <= 2.")
@click.option("--ci-level", type=UNIT_OPEN_T,
              default=0.95, show_default=True, help="Confidence level of the intervals.")
@click.option("--n-boot", type=click.IntRange(min=20), default=200, show_default=True,
              help="Bootstrap resamples, where an interval is bootstrapped.")
@click.option("--ci-columns", type=click.IntRange(min=0), default=200, show_default=True,
              help="Bootstrapped per-coordinate intervals for at most this many coordinates "
                   "(asymptotic ones are always computed).")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Shapiro-Wilk test level.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Also print the Berry-Esseen bound for means of this many samples.")
@click.option("--fit-columns", type=click.IntRange(min=0), default=100, show_default=True,
              help="Gauss-vs-SaS fit errors on this many random coordinates (0: skip).")
@click.option("--bins", type=click.IntRange(min=2), default=50, show_default=True,
              help="Histogram bins for the fit errors.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed for the fit-error coordinates and the bootstrap.")
@click.option("--plot", "plot_path", type=image_file(),
              help="Write a histogram of alpha_i to this PNG.")
@click.option("--hill-plot", "hill_path", type=image_file(),
              help="Write a Hill plot (alpha_k against k) to this PNG: of the sample (1-D) or "
                   "of the standardised pooled sample (2-D).")
@click.option("--json", "json_path", type=json_file(),
              help="Write all results (per-coordinate alpha and scale included) to this JSON file.")
def tail_index(file, key, transpose, method, center, zeros, block_sizes, clip, ci_level, n_boot,
               ci_columns, level, batch_size, fit_columns, bins, seed, plot_path, hill_path,
               json_path):
    """Tail index alpha_i and scale of every coordinate of FILE, and Gaussianity checks.

    FILE is .npy, .npz or .csv holding a 1-D sample or a 2-D array of samples x
    coordinates (e.g. gradient-noise draws x parameters). Scales use the SaS(1)
    convention x = loc + scale Z, E exp(iwZ) = exp(-|w|^alpha) (alpha = 2: std = sqrt(2)
    scale). Prints: alpha_i over coordinates with confidence intervals; paper 000's
    pooled alpha (eq. 15 on all coordinates of all samples concatenated, as the authors
    do: it mixes coordinate scales); the pooled alpha of the standardised coordinates
    (each divided by its scale first); the norm-based multivariate alpha; the atom at 0
    (exact zeros, left out by default); the share of non-constant coordinates a
    Shapiro-Wilk test does not reject; the Berry-Esseen bound (with --batch-size) and the
    SSE / chi-square of Gaussian and SaS fits on a histogram (paper 004, Tables 1-3).

    \b
    Examples:
      levydyn tail-index noise.npy
      levydyn tail-index noise.npz --key layer1 --method mohammadi-median --hill-plot h.png
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
    constant = ~np.any(x != x[:1], axis=0)
    if constant.all():
        raise click.BadParameter(f"FILE must have spread: all {d} coordinate(s) are constant "
                                 f"(a tail index and a Gaussianity test are undefined), got "
                                 f"FILE={file!r}", param_hint="FILE")
    with library_errors():
        s = est.summarize(x, LIB_NAME[method], center=center, zeros=zeros,
                          block_sizes=block_sizes, clip=clip, ci_level=ci_level, n_boot=n_boot,
                          ci_columns=ci_columns, level=level, batch_size=batch_size,
                          fit_columns=fit_columns, bins=bins, seed=seed, hill=bool(hill_path))
    alpha, scale, zero_frac, ci_cols = s.alpha, s.scale, s.atom_fraction, s.alpha_ci
    pooled, pooled_keep, std, multi = s.pooled, s.pooled_keep, s.standardised, s.multivariate
    partial, gauss, be, hill = s.partial_atoms, s.gaussianity, s.berry_esseen, s.hill
    fin = alpha[np.isfinite(alpha)]
    lines = [f"{file}: {n} samples x {d} coordinate{'s' if d > 1 else ''}"
             + (" (centred by median)" if center else "")]
    if partial.any():
        lines.append(f"exact zeros (an atom at 0): {100 * np.mean(zero_frac[partial]):.3g}% of the "
                     f"samples in {int(partial.sum())} of {d} coordinate{'s' if d > 1 else ''} "
                     f"(at most {100 * zero_frac[partial].max():.3g}%); "
                     + ("estimates use the nonzero samples (--zeros keep includes them)"
                        if zeros == "drop" else "kept in the estimates (--zeros keep)"))
    if constant.any():
        lines.append(f"{int(constant.sum())} constant coordinate{'s' if constant.sum() > 1 else ''}"
                     " (no spread): not estimated, not counted as Gaussian")
    name = {"cf": "cf_regression"}.get(method, method)
    if d == 1:
        ci_txt = f", {_ci_text(ci_cols, 0)}" if ci_cols is not None else ""
        lines.append(f"alpha ({name}) = {alpha[0]:.4f}{ci_txt}, scale = {scale[0]:.6g}")
    else:
        q = np.quantile(fin, [0.1, 0.5, 0.9]) if fin.size else [np.nan] * 3
        lines.append(f"alpha_i ({name}): median {q[1]:.4f}, 10-90% [{q[0]:.4f}, {q[2]:.4f}], "
                     f"mean {np.mean(fin) if fin.size else np.nan:.4f}"
                     + (f", {d - fin.size} not estimable" if fin.size < d else ""))
        if ci_cols is not None:
            w = np.asarray(ci_cols.high) - np.asarray(ci_cols.low)
            w = w[np.isfinite(w)]
            lines.append(f"alpha_i {100 * ci_level:g}% CIs ({ci_cols.ci}): median width "
                         f"{np.median(w) if w.size else np.nan:.4f}")
        else:
            lines.append(f"alpha_i CIs: skipped ({d} coordinates > --ci-columns {ci_columns}; "
                         f"{name}'s interval is a bootstrap)")
        sfin = scale[np.isfinite(scale)]
        lines.append(f"scale_i: median {np.median(sfin) if sfin.size else np.nan:.6g}")
    k1 = s.pooled_k1
    label = (f"pooled alpha (paper 000 eq. 15: all {d} coordinates of every sample concatenated,"
             f" K1 = {k1})" if d > 1 else f"alpha (paper 000 eq. 15, K1 = {k1})")
    lines.append(f"{label} = {pooled.alpha:.4f}, {_ci_text(pooled)}"
                 + (f"; with the zeros kept (as the authors' code): {pooled_keep:.4f}"
                    if pooled_keep is not None else ""))
    if std is not None:
        lines.append(f"pooled alpha (standardised: each coordinate divided by its scale) = "
                     f"{std.alpha:.4f}, {_ci_text(std)}; multivariate (eq. 15 on norms) = "
                     f"{multi:.4f}")
    gf = gauss.fraction
    lines.append(f"Gaussian coordinates (Shapiro-Wilk, level {level:g}, {gauss.n_samples} samples):"
                 f" {100 * gf:.1f}% of {d - gauss.n_constant} (95% CI "
                 f"{100 * gauss.fraction_ci[0]:.1f}-{100 * gauss.fraction_ci[1]:.1f}%)"
                 + (f"; {100 * gauss.fraction_with_constant:.1f}% counting the constant ones "
                    "as paper 003 does" if gauss.n_constant else ""))
    if be is not None:
        ratio = np.atleast_1d(be.ratio)
        bound = np.atleast_1d(be.bound)
        lines.append(f"Berry-Esseen (batch {batch_size}, C = {be.constant}): beta/sigma^3 median "
                     f"{np.nanmedian(ratio):.4f}, bound median {np.nanmedian(bound):.4g}, "
                     f"max {np.nanmax(bound):.4g}")
    fs = s.fit_summary
    if fs:
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
        _plot(plot_path, alpha, pooled.alpha, name, file)
        click.echo(f"wrote {plot_path}", err=True)
    if hill is not None:
        refs = {f"{name}": float(alpha[0])} if d == 1 else \
            {"pooled, standardised (eq. 15)": None if std is None else float(std.alpha)}
        what = "sample" if d == 1 else "standardised pooled sample"
        fig = est.hill_plot(hill, references=refs,
                            title=f"{Path(file).name}: Hill plot of the {what}, n = {hill.n}")
        save_figure(fig, hill_path, dpi=120)
        click.echo(f"wrote {hill_path}", err=True)
    if json_path:
        write_json(json_path, {"file": str(file), **s.to_dict(), "method": name})
