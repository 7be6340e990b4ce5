"""A study's results as text: the tables ``levydyn nn study | escape | predict | fit |
stability`` print, callable from Python.

Every function returns a list of *blocks* (:mod:`nn_bridge.report`): a ``str`` (one line of text) or a
:class:`~nn_bridge.report.Table` (column heads and rows of strings). Printing them is the caller's business
(``"\\n".join`` of the lines, any fixed-width table formatter for the tables).
Mean escape times are in SGD iterations (SDE time = iterations x lr); "(x)" after a
prediction is predicted / measured; a censored mean is shown as a lower bound "> low".
"""
from __future__ import annotations

import math
from levydyn.results import Estimate
from nn_bridge.escape.cells import ratio_text as _ratio
from nn_bridge.escape.fit import CurveFit
from nn_bridge.escape.ladder import LADDER, MODEL_LABELS
from nn_bridge.report import Table, fmt

__all__ = ["basin_blocks", "cells_blocks", "ladder_blocks", "scan_blocks", "slow_selection_blocks",
           "targets_blocks", "study_stability_blocks", "fits_blocks", "stability_blocks",
           "study_blocks", "profile_prediction_blocks", "mechanism_blocks"]


def _est(e) -> str:
    if not math.isfinite(e.value):
        return f"> {fmt(e.low)}"
    return f"{fmt(e.value)} [{fmt(e.low)}, {fmt(e.high)}]"




def _shape(e) -> str:
    return _est(e) if math.isfinite(e.value) else "-"


def _pred(p, m) -> str:
    """``value (ratio)`` of a prediction against the measured mean; censored: lower bounds."""
    if not math.isfinite(p.value):
        r = p.low / m.value if math.isfinite(m.value) else math.nan
        return f"> {fmt(p.low)} (> {fmt(r, '.2g')})"
    r = p.value / m.value if math.isfinite(m.value) else math.nan
    return f"{fmt(p.value)} ({fmt(r, '.2g')})"


def _splitting(rec: dict | None) -> str:
    """A cell's splitting estimate: mean [CI] (work), or why there is none."""
    if rec is None:
        return "-"
    if "error" in rec:
        return "not run: " + rec["error"][:40]
    bound = " (censored: a bound)" if rec["censored"] else ""
    return f"{_est(rec['mean_iterations'])} ({rec['work']:.3g}){bound}"


def _censored(e) -> str:
    return f"{100 * (1 - e.dist_exited.mean()):.0f}%"


def basin_blocks(study) -> list:
    """The network, its minimum, curvature and the noise at ``w*`` per batch size."""
    b = study.basin
    m, cs = b.minimum, b.curvature.summary()
    rows = [[str(B), f"{n['alpha_median']:.2f} [{n['alpha_q10']:.2f}, {n['alpha_q90']:.2f}]",
             fmt(n["pooled_alpha"], ".2f"), fmt(n["noise_std_total"]),
             fmt(n["max_noise_norm"])] for B, n in b.noise.items()]
    what = (f"{b.spec.in_features}-{b.spec.width}x{b.spec.depth - 1}-{b.spec.n_classes} ReLU "
            "MLP") if b.spec is not None else f"{b.network.label} (loss {b.network.loss_name})"
    loss = "CE" if b.network is None or b.network.loss_name == "cross_entropy" else "loss"
    return [
        f"network: {what} on {b.data['name']} ({b.data['n_train']} training "
        f"samples), {b.flat.n_params} parameters",
        f"minimum w*: U = {loss} + {m.weight_decay:g}/2 ||w||^2 = {m.objective:.4g} "
        f"({loss} {m.loss:.4g}), ||grad U(w*)|| {m.grad_norm:.2e}, ||w*|| "
        f"{float((m.w ** 2).sum()) ** 0.5:.3g}, train acc {m.train_acc:.3f}; "
        f"{m.search()}",
        *([m.budget_line()] if m.budget_exhausted else []),
        f"curvature ({cs['method']}): lambda_1..3 = "
        f"{', '.join(fmt(v, '.3g') for v in cs['top_eigvals'][:3])}; model H = top-"
        f"{cs['k']} + diagonal (covers {100 * cs['top_k_trace_share']:.0f} % of the trace, "
        f"Frobenius error {fmt(cs['frob_rel_error'], '.2f')}); smallest eigenvalue "
        f"{fmt(cs['min_eig'], '.2g')}",
        "noise at w* (per parameter, SaS(1) fits; std exact for iid minibatches):",
        Table(["batch", "alpha_i median [q10, q90]", "pooled alpha", "||std||",
               "max ||u|| measured"], rows)]


def cells_blocks(study, with_models: bool = True) -> list:
    """Measured and predicted mean escapes per cell, survival at the measured quartiles
    (``with_models``) and the exit layers."""
    models = list(study.config.models) if with_models else []
    split = any(c.splitting is not None for c in study.cells)
    head = ["B", "lr", "cell", "measured mean [95% CI]", "method", "horizon", "brute cens",
            "Weibull k", "loss criterion"]
    head += ["splitting [95% CI] (SGD steps)"] if split else []
    head += [MODEL_LABELS[m] for m in models]
    if with_models:
        head.append("(b) Levy 1-jump")
    rows = []
    for c in study.cells:
        e = c.measured_mean()
        lc = c.measured.mean_iterations("loss") if c.measured.loss_iter is not None else None
        row = [str(c.batch_size), f"{c.lr:g}", c.kind, _est(e), c.method,
               str(c.measured.config.max_iter), _censored(c.measured),
               _shape(c.measured.hazard_shape()), _est(lc) if lc is not None else "-"]
        if split:
            row.append(_splitting(c.splitting))
        for m in models:
            row.append(_pred(c.predicted_mean(m), e) if m in c.predicted else "not run")
        if with_models:
            cf = c.closed_levy.get("mean_iterations", math.nan)
            row.append(_pred(Estimate(cf, cf, cf), e))
        rows.append(row)
    out = ["\nmean escape time in SGD iterations (SDE time = iterations x lr); Weibull k: "
           "shape of the escape times (1 memoryless, a rare event; >> 1 concentrated, a "
           "transport); model columns: predicted (predicted / measured)", Table(head, rows)]
    if with_models:
        rows = []
        for c in study.cells:
            sc = c.survival_check()
            if not all(math.isfinite(t) for t in sc["t"]):
                continue
            rows.append([str(c.batch_size), f"{c.lr:g}",
                         " / ".join(fmt(t, ".3g") for t in sc["t"])]
                        + [" / ".join(fmt(v, ".2f") for v in sc[m]) if m in sc else "not run"
                           for m in models])
        out += ["\nsurvival P(escape > t) at the measured quartiles t (measured: 0.75 / 0.50 "
                "/ 0.25)",
                Table(["B", "lr", "t (iterations)"] + [MODEL_LABELS[m] for m in models], rows)]
    names = study.basin.layer_names
    rows = []
    for c in study.cells:
        meas = c.measured.layer_probability()
        row = [str(c.batch_size), f"{c.lr:g}",
               " ".join(f"{n}:{fmt(meas[n].value, '.2f')}" for n in names),
               " ".join(f"{n}:{fmt(v, '.2f')}" for n, v in c.measured.mean_layer_share().items())]
        for m in models:
            if m not in c.predicted:
                row.append("not run")
                continue
            pl = c.predicted[m].layer_probability()
            row.append(" ".join(f"{n}:{fmt(pl[n].value, '.2f')}" for n in names))
        rows.append(row)
    return out + ["\nexit layer (coordinate of largest |w - w*| at the exit; P among exits) "
                  "and the layers' share of ||w - w*||^2 at the exit",
                  Table(["B", "lr", "measured P(layer)", "measured share"]
                        + [MODEL_LABELS[m] for m in models], rows)]


def ladder_blocks(study) -> list:
    """predicted / measured for every rung of the ladder that was run."""
    models = [m for m in LADDER if m in study.config.models]
    if not models:
        return []
    rows = []
    for c in study.cells:
        row = [str(c.batch_size), f"{c.lr:g}", c.kind, _est(c.measured_mean()), c.method]
        row += [_ratio(c.ratio(m)) if m in c.predicted else "not run" for m in models]
        rows.append(row)
    order = " -> ".join(MODEL_LABELS[m].split()[0] for m in models)
    return ["\nthe ladder: predicted / measured mean escape iterations [95% CI] "
            f"(measured -> {order})",
            Table(["B", "lr", "cell", "measured", "method"] + [MODEL_LABELS[m] for m in models],
                  rows)]


def scan_blocks(scan) -> list:
    """The radius scan: escapes per radius, the growth verdict, the largest R within 2x."""
    models = list(scan.predicted)
    rows = []
    for R in scan.radii:
        e = scan.measured[R]
        rows.append([f"{R:g}", _est(e.mean_iterations()), _censored(e)]
                    + [_pred(scan.predicted[m][R].mean_iterations(), e.mean_iterations())
                       for m in models])
    out = [f"\nescape time vs ball radius R at B={scan.batch_size}, lr={scan.lr:g} "
           "(iterations; predicted (predicted / measured))",
           Table(["R", "measured", "cens"] + [MODEL_LABELS[m] for m in models], rows)]
    g = scan.growth()
    lam = scan.stability.get("lambda_1")
    if g.get("verdict"):
        out.append(f"measured growth with R: {g['verdict']} (chi2/dof, p: E tau linear in log R "
                   f"{g['logarithmic']['chi2_dof']:.2g}, p {g['logarithmic']['p_value']:.2g}, "
                   f"slope {g['logarithmic']['slope']:.3g}; power law "
                   f"{g['polynomial']['chi2_dof']:.2g}, p {g['polynomial']['p_value']:.2g}, "
                   f"exponent {g['polynomial']['slope']:.3g})")
    if lam is not None:
        a = scan.stability.get("alpha_K")
        out.append(f"multiplicative model: lambda_1 = {lam} -> {scan.stability['regime']}"
                   + (f", alpha_K = {a}" if a is not None else "")
                   + (f"; predicted slope of E tau vs log R = 1/lambda_1 = {1 / lam.value:.3g}"
                      if scan.stability['regime'] == "unstable" else "")
                   + f"; agrees with the measured growth: {g.get('agrees')}")
    for m in models:
        out.append(f"largest R with {MODEL_LABELS[m]} within 2x (all smaller R too): "
                   f"{scan.largest_radius_within(m)}")
    return out


def targets_blocks(study) -> list:
    """The study's targets (:meth:`Study.targets`) in words."""
    t = study.targets()
    if t["f_within_2x_in_every_counted_cell"] is None:
        return []
    out = [f"\ntarget: (f) within 2x of the measured mean in {t['n_f_within_2x']} of "
           f"{t['n_counted']} measured cells (relative CI half-width <= 25 %); "
           + "; ".join(f"{k} cells: {v['n_f_within_2x']} of {v['n_counted']} counted "
                       f"({v['n_cells']} in all)" for k, v in t["by_kind"].items()
                       if v["n_cells"])]
    out.append(f"target: the best rung (ratio closest to 1) within 2x in "
               f"{t['n_best_within_2x']} of {t['n_best_counted']} measured cells")
    sign = {"unstable": ">", "stable": "<"}
    split = [f"{v['n_f_within_2x']} of {v['n_counted']} {reg} (lambda_1 {sign[reg]} 0)"
             for reg, v in t["by_regime"].items() if v["n_counted"]]
    if split:
        out.append("  by the sign of lambda_1 (reachable subspace where measured): "
                   + "; ".join(split))
    for r in t["cells"]:
        if not r.get("f_within_2x", True):
            out.append(f"  B={r['batch_size']} lr={r['lr']:g}: (f) ratio "
                       f"{fmt(r['f_ratio'], '.3g')}"
                       + (f" ({r['f_ratio_reason']})" if "f_ratio_reason" in r else "")
                       + ", first rung off by > 2x: "
                       f"{r['first_rung_off_by_2x']}"
                       + (f"; best rung {r['best_rung']} {fmt(r['best_ratio'], '.3g')}"
                          if r.get("best_rung") else "")
                       + ("" if r["counted"] else
                          " (not counted: the (f) ratio is only a bound)"
                          if r.get("method") in ("brute", "splitting") else
                          f" (not counted: measured mean is '{r.get('method')}')"))
    return out


def slow_selection_blocks(study) -> list:
    """The probes behind the slow cells (:mod:`nn_bridge.escape.slow_cells`)."""
    sel = getattr(study, "slow_selection", None)
    if sel is None or not sel.candidates:
        return []
    chosen = set(sel.cells)
    rows = [[str(p["batch_size"]), f"{p['lr']:g}",
             ("> " if p["f_is_bound"] else "") + fmt(p["f_mean"], ".3g"),
             f"{p['lambda_1_reachable']:+.4f}",
             "yes" if (p["batch_size"], p["lr"]) in chosen else ""]
            for p in sel.candidates]
    return [f"\nslow cells, chosen before any escape was measured: {sel.rule}",
            Table(["B", "lr", "(f) probe mean", "lambda_1 (reachable)", "chosen"], rows)]


def _lam(lam) -> str:
    return f"{lam.value:+.4f} [{lam.low:+.4f}, {lam.high:+.4f}]"


def _stability_row(c: dict) -> list[str]:
    """lambda_1 on the reachable subspace (dim), the regime and alpha_K it gives, and the
    full-space lambda_1 beside it (cells from before the reachable exponent: full only)."""
    if "lambda_1_reachable" not in c:
        return [_lam(c["lambda_1"]) + " (full)", c["regime"],
                "-" if c["alpha_K"] is None else _est(c["alpha_K"]), "-"]
    a = c["alpha_K_reachable"]
    return [f"{_lam(c['lambda_1_reachable'])} (dim {c['reachable_dim']})", c["regime"],
            "-" if a is None else _est(a), f"{_lam(c['lambda_1'])} {c['regime_full']}"]


STABILITY_HEAD = ["lambda_1 reachable [95% CI]", "regime", "alpha_K reachable",
                  "lambda_1 full space"]


def study_stability_blocks(study) -> list:
    """lambda_1, regime and alpha_K of the multiplicative model per cell."""
    if not any(c.stability for c in study.cells):
        return []
    rows = [[str(c.batch_size), f"{c.lr:g}"]
            + (_stability_row(c.stability) if c.stability else ["-"] * 4)
            for c in study.cells]
    return ["\nstability of the random product prod (I - lr H_B) (levydyn.kesten) on the "
            "subspace its iterates reach from w*: top Lyapunov exponent per iteration [95% CI], "
            "regime, Kesten tail index; the full-space exponent beside it",
            Table(["B", "lr"] + STABILITY_HEAD, rows)]


def _fit_parameter(v: CurveFit) -> str:
    p = v.params
    return (f"alpha {p['alpha']:.2f} +- {v.se['alpha']:.2f}" if "alpha" in p
            else f"K {p['K']:.3g} +- {v.se['K']:.2g}")


def fits_blocks(fits: dict) -> list:
    """The fits of :func:`nn_bridge.escape.fit.fit_escape_table`: vs lr, then vs batch size."""
    rows = []
    for B, f in fits["vs_lr"].items():
        def one(name, label):
            v = f.get(name)
            if not isinstance(v, CurveFit):
                rows.append([str(B), label, "-", "-", "-", str(v)[:70]])
                return
            rows.append([str(B), label, _fit_parameter(v), fmt(v.chi2_dof, ".2f"),
                         fmt(v.r2, ".3f"), f"{v.n} pts ({v.n_left_out} censored left out)"])
        one("levy_free", "Levy, alpha fitted")
        if "alpha_measured_median" in f:
            one("levy_measured_alpha", f"Levy, alpha = measured {f['alpha_measured_median']:.2f}")
        one("gaussian", "Gaussian/Kramers")
    out = ["\nfits of the measured mean escape time vs lr (log tau = c - alpha log lr | "
           "c - log lr + K/lr)",
           Table(["B", "model", "parameter", "chi2/dof", "R^2", "points"], rows)]
    rows = [[f"{lr:g}", name, _fit_parameter(f[name]), fmt(f[name].chi2_dof, ".2f"),
             fmt(f[name].r2, ".3f")]
            for lr, f in fits["vs_batch"].items() for name in ("levy", "gaussian")
            if isinstance(f.get(name), CurveFit)]
    if rows:
        out += ["\nfits vs batch size at fixed lr (log tau = c + (alpha-1) log B | c + K B)",
                Table(["lr", "model", "parameter", "chi2/dof", "R^2"], rows)]
    return out


def study_blocks(study) -> list:
    """Everything ``levydyn nn study`` prints after the run, in order."""
    out = basin_blocks(study) + slow_selection_blocks(study) + cells_blocks(study)
    out += ladder_blocks(study)
    out += study_stability_blocks(study) + fits_blocks(study.fits())
    if study.scan is not None:
        out += scan_blocks(study.scan)
    return out + targets_blocks(study) + [f"\nwall time {study.wall_time:.0f}s"]


def stability_blocks(diag) -> list:
    """A :class:`~nn_bridge.curvature.stability.StabilityDiagram` per (B, lr)."""
    rows = [[str(B), f"{lr:g}"] + _stability_row(c) for (B, lr), c in sorted(diag.cells.items())]
    m = diag.model
    return [f"SGD at w* as x' = (I - lr H_B) x - lr u_B: {m['dataset']}, N = "
            f"{m['n_samples']}, P = {m['n_params']}; H_B: {m['curvature']}"
            + (f" (rank {m['factor_rank']} per sample)" if "factor_rank" in m else ""),
            Table(["B", "lr"] + STABILITY_HEAD, rows)]


def profile_prediction_blocks(profile_path, profile, rows: list[dict]) -> list:
    """The rows of :func:`nn_bridge.escape.ladder.predict_from_profile`."""
    table = []
    for r in rows:
        out = [f"{r['lr']:g}"]
        for name in ("levy", "gauss"):
            e = r[name]
            if e is None:
                out.append("- (no noise_std in profile)")
                continue
            out.append(f"{_est(e.mean_iterations())}  " + " ".join(
                f"{n}:{fmt(v.value, '.2f')}" for n, v in e.layer_probability().items()))
        out.append(fmt(r["closed_levy"]["mean_iterations"]))
        table.append(out)
    red = rows[-1]["bridge"].reduction
    return [f"profile {profile_path}: batch {profile.batch_size}, {red['n_axes']} of "
            f"{red['n_params']} parameters as axes; {red['hessian']}",
            Table(["lr", "Levy sim: mean [CI]  P(exit layer)",
                   "Gauss sim: mean [CI]  P(exit layer)", "Levy 1-jump"], table),
            "(SGD iterations; levydyn Euler with dt = lr, eps_i = lr^(1-1/alpha_i) sigma_i)"]


def mechanism_blocks(scans) -> list:
    """``levydyn nn mechanism``: per :class:`~nn_bridge.escape.mechanism.MechanismScan`, the
    means against R and against lr (mean [CI], censored, horizon, method) and the three
    fits of each with chi2/dof, p and the verdict."""
    from nn_bridge.escape.mechanism import MECHANISMS

    out = []
    for sc in scans:
        pts = sc.points()
        for what, fit, label in (("radius", sc.radius_fit(), f"radius R at lr={sc.lr:g}"),
                                 ("lr", sc.lr_fit(), f"lr at R={sc.radius:g}")):
            out.append(f"\nB={sc.batch_size}: mean escape iterations vs {label}")
            rows = [[f"{p[what]:g}", f">= {fmt(p['low'])}" if p["method"] == "bound"
                     else f"{fmt(p['mean'])} [{fmt(p['low'])}, {fmt(p['high'])}]",
                     _shape(Estimate(**p["weibull_k"])), f"{100 * p['censored']:.0f}%",
                     str(p["horizon"]), p["method"]]
                    for p in pts[what]]
            out.append(Table([what, "mean [95% CI]", "Weibull k", "cens", "horizon", "method"],
                             rows))
            out += [f"  {what}={p[what]:g} left out: {p['why_not_measured']}"
                    for p in pts[what] if p["why_not_measured"]]
            out.append(Table(["mechanism", "law", "rate", "chi2/dof", "p", "verdict"],
                             [_mechanism_row(MECHANISMS[k], f) for k, f in fit["fits"].items()]))
            out.append(f"mechanism vs {what}: "
                       + MECHANISMS.get(fit["mechanism"], fit["mechanism"]))
        out += _profile_blocks(sc)
    return out


def _profile_blocks(sc) -> list:
    """The distance profile of a mechanism scan, in units of its radius."""
    from nn_bridge.escape.mechanism import PROFILE_SEEDS

    prof = sc.profile_summary()
    if prof is None:
        return []
    R = sc.radius
    rows = [[str(k), fmt(a / R, ".3g"), fmt(b / R, ".3g"), fmt(c / R, ".3g")]
            for k, a, b, c in zip(prof["k"], prof["q10"], prof["q50"], prof["q90"])]
    out = [f"\nB={sc.batch_size} lr={sc.lr:g}: ||w_k - w*|| / R over {PROFILE_SEEDS} replicas "
           "with no exit ball (quantiles)",
           Table(["k", "q10", "median", "q90"], rows)]
    if prof["median_over_radius_at_mean"] is not None:
        out.append(f"at k = {prof['at_k']} (nearest the mean escape) the median path is at "
                   f"{prof['median_over_radius_at_mean']:.2f} R")
    return out


def _mechanism_row(name: str, f: dict) -> list:
    if "error" in f:
        return [name, f["law"], "", "", "", f"not fitted: {f['error']}"]
    k = [p for p in f["params"] if p != "c"][0]
    rate = f"{k} = {fmt(f['params'][k])} +- {fmt(f['se'][k], '.2g')}"
    for z in ("z_alpha_K", "z_alpha_i", "z_predicted"):
        if f.get(z) is not None:
            rate += f"; {z[2:]} {f[z]:+.1f} se"
    return [name, f["law"], rate, fmt(f["chi2_dof"]), fmt(f["p_value"], ".2g"),
            "acceptable" if f["acceptable"] else
            "rejected" + ("" if f["rate_positive"] else f" ({k} <= 0)")]
