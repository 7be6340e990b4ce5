"""Markdown tables of an ``nn study`` JSON (``docs/results/nn_study_*.json``).

The results pages of the site are rendered from the committed study files by this module at
build time (``docs/hooks.py`` replaces ``<!-- study-table: KIND FILE -->`` markers), so a
table on the site is always what the JSON holds. Run it by hand to print every table::

    python docs/scripts/study_tables.py docs/results/nn_study_breast_cancer.json

Cells: measured mean escape iterations with its 95 % CI, how it was measured (brute force,
splitting, or only a bound) and the horizon it needed; each rung as predicted / measured;
"≥ x" / "≤ x": a side is only a (Kaplan-Meier) bound, so the ratio is bounded; "†": the
rung's own mean is not measured to the study's precision (relative CI half-width <= 25 %);
"-": no ratio exists. Reports before schema /4: "> x" a wholly censored rung,
"(cens)" at least half of its paths censored. JSON non-finite numbers are the strings
"inf", "-inf", "nan" (the package's convention) and are read with ``float``.
"""
from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

RUNGS = [("nonlinear_gauss", "(i) nonlinear Gauss local"),
         ("nonlinear_multiplicative", "(h) nonlinear mult."), ("nonlinear_frozen", "(g) nonlinear frozen"),
         ("multiplicative", "(f) 2nd-order (levydyn)"), ("multiplicative_exact", "(f') exact HVP"),
         ("lin_minibatch", "(e) lin true noise"), ("lin_gauss", "(d) lin Gauss"), ("levy", "(a) Levy")]


def _num(x) -> float:
    """A JSON number, ``null`` or one of the strings "inf", "-inf", "nan" as a float."""
    return math.nan if x is None else float(x)


def _ci(est: dict, fmt: str) -> str:
    return f"{_num(est['value']):{fmt}} [{_num(est['low']):{fmt}}, {_num(est['high']):{fmt}}]"


def _measured(m: dict) -> str:
    mean = _num(m["mean"])
    if not math.isfinite(mean):
        return f"> {_num(m['low']):.3g}"
    if m.get("method") == "bound" or math.isinf(_num(m["high"])):
        return f"≥ {mean:.3g} (bound)"
    return f"{mean:.3g} [{_num(m['low']):.3g}, {_num(m['high']):.3g}]"


def _rung(r: dict | None, measured: dict) -> str:
    """A rung as predicted / measured: the ratio, "≥ x" / "≤ x" where a side is only a
    bound, "-" where no ratio exists; "†" marks a rung whose own mean is not measured to the
    study's precision (schema /4: ``why_not_measured``)."""
    if r is None:
        return ""
    ratio = r["ratio"]
    v, lo, hi = (_num(ratio.get(k)) for k in ("value", "low", "high"))
    mark = " †" if r.get("why_not_measured") else ""
    if math.isfinite(v):
        return f"{v:.2g}" + mark + (" (cens)" if "why_not_measured" not in r
                                     and _num(r["censored"]) >= 0.5 else "")
    if not math.isfinite(_num(r["mean"])) and math.isfinite(_num(measured["mean"])) \
            and _num(measured["mean"]) > 0:              # schema <= /3: wholly censored rung
        return f"> {_num(r['low']) / _num(measured['mean']):.2g}"
    if lo > 0 and math.isfinite(lo):
        return f"≥ {lo:.2g}"
    if math.isfinite(hi):
        return f"≤ {hi:.2g}"
    return "-"


def _alpha_k(est: dict | None) -> str:
    if est is None:
        return "-"
    if math.isinf(_num(est["value"])):
        s = re.search(r"s_max=([0-9.]+)", est.get("method", ""))
        return "inf (Lambda < 0 up to s = " + (f"{float(s.group(1)):g}" if s else "?") + ")"
    return _ci(est, ".2g")


def ladder(study: dict) -> str:
    """The ladder: one row per (B, lr) cell, every rung as predicted / measured."""
    rungs = [(k, lab) for k, lab in RUNGS            # (i) only where the study ran it
             if any(k in c["models"] for c in study["cells"])]
    head = (["B", "lr", "cell", "measured [95% CI]", "method", "horizon"]
            + [label for _, label in rungs] + ["lambda_1 (reachable)", "alpha_K (reachable)"])
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in study["cells"]:
        m = c["measured"]
        method = m.get("method") or ("brute" if _num(m["censored"]) < 0.5 else "bound")
        cells = [str(c["batch_size"]), f"{c['lr']:g}", c.get("kind", "grid"), _measured(m),
                 method, str(m.get("horizon", study["config"]["max_iter"]))]
        cells += [_rung(c["models"].get(key), m) for key, _ in rungs]
        lam = c.get("lambda_1_reachable") or c.get("lambda_1")
        cells += [_ci(lam, "+.4f") if lam else "-",
                  _alpha_k(c.get("alpha_K_reachable", c.get("alpha_K")))]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def radius(study: dict) -> str:
    """The radius scan: measured and (f), (h) as mean (predicted / measured) per radius."""
    scan = study.get("radius_scan")
    if not scan:
        return "*(no radius scan in this file)*\n"
    rows = [f"B = {scan['batch_size']}, lr = {scan['lr']:g}:\n",
            "| R | measured | cens | (f) | (h) |", "|---|---|---|---|---|"]
    for row in scan["rows"]:
        m = row["measured"]
        cells = [f"{row['radius']:g}", _measured(m), f"{_num(m['censored']):.0%}"]
        for key in ("multiplicative", "nonlinear_multiplicative"):
            r = row["models"].get(key)
            if r is None:
                cells.append("")
            elif not math.isfinite(_num(r["mean"])):
                cells.append(f"> {_num(r['low']):.3g}")
            else:
                ratio = _num(r["ratio"]["value"]) if math.isfinite(_num(m["mean"])) else math.nan
                cells.append(f"{_num(r['mean']):.3g} ({ratio:.2g})" if math.isfinite(ratio) else f"{_num(r['mean']):.3g} (-)")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def split(studies: dict[str, dict]) -> str:
    """Where (f) holds, split by the sign of lambda_1 (cells with < 50 % censoring)."""
    rows = ["| dataset | unstable (lambda_1 > 0): (f) within 2x | ratios | stable (lambda_1 < 0): (f) within 2x | ratios |",
            "|---|---|---|---|---|"]
    pooled = {"unstable": [], "stable": []}

    def cells_of(cells):
        ratios = [t["f_ratio"] for t in cells]
        hit = sum(t["f_within_2x"] for t in cells)
        span = f"{min(ratios):.3g}-{max(ratios):.3g}" if len(ratios) > 1 else (f"{ratios[0]:.3g}" if ratios else "-")
        return [f"{hit} of {len(cells)}", span]

    for name, study in studies.items():
        regime = {(c["batch_size"], c["lr"]): c.get("regime") for c in study["cells"]}
        out = []
        for want in ("unstable", "stable"):
            cells = [t for t in study["targets"]["cells"]
                     if t["counted"] and regime[(t["batch_size"], t["lr"])] == want]
            pooled[want] += cells
            out += cells_of(cells)
        rows.append(f"| {name} | " + " | ".join(out) + " |")
    if len(studies) > 1:
        rows.append("| all | " + " | ".join(cells_of(pooled["unstable"]) + cells_of(pooled["stable"])) + " |")
    return "\n".join(rows) + "\n"


def _shape(details: dict | None) -> str:
    """The Weibull shape k [95% CI] of a set of escapes (``distance.hazard_shape``)."""
    h = (details or {}).get("distance", {}).get("hazard_shape")
    if h is None or not math.isfinite(_num(h["value"])):
        return "-"
    return _ci(h, ".2f")


def shape(study: dict) -> str:
    """Weibull shape k of the escape times per cell: the network's and rungs (i) (where run),
    (h), (g), (f)'s (1: memoryless, a rare event; >> 1: concentrated, a transport)."""
    keys = [(k, lab) for k, lab in (("nonlinear_gauss", "(i)"), ("nonlinear_multiplicative", "(h)"),
                                    ("nonlinear_frozen", "(g)"), ("multiplicative", "(f)"))
            if any(k in c["models"] for c in study["cells"])]
    head = ["B", "lr", "cell", "measured mean", "k measured"] + [f"k {lab}" for _, lab in keys]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in study["cells"]:
        m = c["measured"]
        if "hazard_shape" not in m.get("distance", {}):
            return "*(this file predates the Weibull shape)*\n"
        cells = [str(c["batch_size"]), f"{c['lr']:g}", c.get("kind", "grid"), _measured(m),
                 _shape(m)]
        cells += [_shape((c["models"].get(k) or {}).get("details")) for k, _ in keys]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def load(path) -> dict:
    return json.loads(Path(path).read_text())


def render(kind: str, files: list[Path]) -> str:
    """``kind`` is ``ladder``, ``radius``, ``shape`` (one file each) or ``split`` (any number)."""
    if kind == "split":
        return split({load(f)["config"]["dataset"]: load(f) for f in files})
    if kind in ("ladder", "radius", "shape") and len(files) == 1:
        return {"ladder": ladder, "radius": radius, "shape": shape}[kind](load(files[0]))
    raise ValueError(f"study-table kind must be ladder, radius, shape (one file) or split, got kind={kind!r} with {len(files)} files")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python docs/scripts/study_tables.py STUDY.json [STUDY.json ...]")
    paths = [Path(a) for a in sys.argv[1:]]
    for p in paths:
        print(f"## {p.name}\n\n{render('ladder', [p])}\n{render('shape', [p])}\n"
              f"{render('radius', [p])}")
    print(render("split", paths))
