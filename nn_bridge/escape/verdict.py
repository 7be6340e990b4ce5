"""The study's verdicts: is a model within a factor of the measured mean escape, and how many
cells say so (issue 19's targets), computed from the cells' JSON summaries.

Rule (one place): the ratio ``r = predicted / measured`` mean escape iterations
(:func:`nn_bridge.escape.cells.escape_ratio`) is *within* a factor ``f`` (2) when it is a
number in ``[1/f, f]``, *off* when it is a number outside, or when it is only bounded
(a side censored, its mean a lower bound: :func:`levydyn.censoring.censored_mean`) and the
bound already lies outside (``r >= low > f`` or ``r <= high < 1/f``), and *undecided*
(``None``) otherwise: a ratio nobody can compute is never counted as a hit or a miss.
A cell is *counted* when its mean is measured (``measured.method`` "brute" or "splitting":
a number with relative CI half-width <= 25 %, :mod:`nn_bridge.escape.horizon`; reports
before schema /4 and without a method: brute force < 50 % censored) and its verdict is
decided. A cell that is not counted says why (``measured.why_not_measured``).

:func:`targets` reads the cell summaries of a study (``Study.report()["cells"]``, or the
same dicts read back from the JSON file, where non-finite numbers are the strings
``"inf"``/``"nan"``), so the counts can be recomputed from a report alone.
"""
from __future__ import annotations

import math

from nn_bridge.escape.ladder import LADDER

__all__ = ["FACTOR", "ratio_verdict", "best_rung", "targets"]

#: A model is "within" when predicted / measured lies in [1/FACTOR, FACTOR].
FACTOR = 2.0


def _num(x) -> float:
    """A JSON number, the strings "inf"/"-inf"/"nan", or null (nan)."""
    return math.nan if x is None else float(x)


def ratio_verdict(ratio: dict, factor: float = FACTOR) -> bool | None:
    """Within ``factor`` (True), off (False) or undecided (None); ``ratio`` is an Estimate's
    dict (``value``, ``low``, ``high``)."""
    v, lo, hi = (_num(ratio.get(k)) for k in ("value", "low", "high"))
    if math.isfinite(v):
        return 1.0 / factor <= v <= factor
    if v == math.inf or (lo > factor) or (hi < 1.0 / factor):
        return False
    return None


def best_rung(models: dict) -> tuple[str | None, float]:
    """The rung of the ladder whose ratio is a number closest to 1 on a log scale
    (``|log r|`` smallest; the first in ladder order on a tie), and that ratio; ``(None,
    nan)`` when no rung's ratio is a number. Judged by the same rule as (f): a rung is
    only as good as its ratio, a bounded one is never "best"."""
    best, ratio = None, math.nan
    for m in LADDER:
        v = _num(models.get(m, {}).get("ratio", {}).get("value"))
        if math.isfinite(v) and v > 0 and (best is None or abs(math.log(v)) < abs(math.log(ratio))):
            best, ratio = m, v
    return best, ratio


def targets(cells: list[dict], factor: float = FACTOR) -> dict:
    """Per cell: ``f_ratio`` (value of the multiplicative model's ratio, nan if none),
    ``f_within_2x`` (:func:`ratio_verdict`, None if undecided), the best rung
    (:func:`best_rung`) and whether it is within, the first rung of the ladder (from the
    network down) that is off, ``counted`` (measured, (f) decided), ``best_counted``
    (measured, the best rung decided), ``regime``; and the counts over the counted cells, in
    total and by the sign of lambda_1, and over the best-counted ones (issue 28's target:
    (f), or the best rung, within 2x in every measured cell)."""
    rows = []
    for c in cells:
        cens = _num(c["measured"]["censored"])
        models = c.get("models", {})
        row = {"batch_size": c["batch_size"], "lr": c["lr"], "censored": cens}
        if "multiplicative" in models:
            r = models["multiplicative"]["ratio"]
            row["f_ratio"] = _num(r.get("value"))
            row["f_within_2x"] = ratio_verdict(r, factor)
        row["best_rung"], row["best_ratio"] = best_rung(models)
        row["best_within_2x"] = (None if row["best_rung"] is None
                                 else ratio_verdict(models[row["best_rung"]]["ratio"], factor))
        row["first_rung_off_by_2x"] = next(
            (m for m in LADDER if m in models and ratio_verdict(models[m]["ratio"], factor) is False),
            None)
        method = c["measured"].get("method")       # brute / splitting / bound (schema /3)
        if method is not None:
            row["method"] = method
        if "f_ratio" in row and not math.isfinite(row["f_ratio"]):
            row["f_ratio_reason"] = models["multiplicative"]["ratio"].get("method")
        # schema /4: "brute" / "splitting" only when measured to the precision
        # (nn_bridge.escape.horizon); older reports: < 50 % censored, or splitting
        measured = (method in ("brute", "splitting") if method is not None else cens < 0.5)
        row["kind"] = c.get("kind", "grid")
        row["counted"] = bool(measured and row.get("f_within_2x") is not None)
        row["best_counted"] = bool(measured and row["best_within_2x"] is not None)
        row["regime"] = c.get("regime")
        rows.append(row)
    counted = [r for r in rows if r["counted"]]
    best = [r for r in rows if r["best_counted"]]    # measured, best rung decided
    by_regime = {reg: {"n_counted": sum(r["regime"] == reg for r in counted),
                       "n_f_within_2x": sum(bool(r["f_within_2x"]) for r in counted
                                            if r["regime"] == reg)}
                 for reg in ("unstable", "stable")}
    by_kind = {kind: {"n_cells": sum(r["kind"] == kind for r in rows),
                      "n_counted": sum(r["kind"] == kind for r in counted),
                      "n_f_within_2x": sum(bool(r["f_within_2x"]) for r in counted
                                           if r["kind"] == kind)}
               for kind in ("grid", "slow")}
    return {"cells": rows, "by_kind": by_kind,
            "f_within_2x_in_every_counted_cell":
                all(r["f_within_2x"] for r in counted) if counted else None,
            "n_best_counted": len(best),
            "n_best_within_2x": sum(bool(r["best_within_2x"]) for r in best),
            "best_within_2x_in_every_counted_cell":
                all(r["best_within_2x"] for r in best) if best else None,
            "n_counted": len(counted),
            "n_f_within_2x": sum(bool(r["f_within_2x"]) for r in counted),
            "by_regime": by_regime}
