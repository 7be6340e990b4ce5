"""Slow cells: (B, lr) cells added to a study from the stability diagram, before any escape
of the network is measured (issue 28, Deliver 2).

The grid of a study (B in 4, 8, 16 x lr in 0.2-0.8) holds fast escapes, tens to a few
thousand iterations. The metastable regime needs cells whose mean escape is 1e3-1e6
iterations, and they must be chosen without looking at the network's escapes (else the
choice selects on the measurement it is judged by). The choice therefore reads only the
model side, the stability diagram's recursion (rung (f), ``x' = (I - lr H_B) x - lr u_B``
with per-sample Gauss-Newton curvature, on the subspace its iterates reach from ``w*``,
:meth:`MinibatchModel.reachable`):

1. **Candidates**: every (B, lr) of ``slow_batch_sizes x slow_lrs`` that is not in the grid.
2. **Probe** each: ``lambda_1`` on the reachable subspace (the diagram's exponent) and the
   recursion's mean exit iterations from the ball of the study's radius, ``m_c``: brute-force
   paths (``PROBE_PATHS``) run to horizons 1e3, 1e4, 1e5 until the mean is known to
   ``PROBE_PRECISION`` (:mod:`nn_bridge.escape.horizon`); a Kaplan-Meier lower bound counts
   as its value (the candidate is at least that slow).
3. **Choose** ``n = slow_cells`` of them: targets ``log10 m`` evenly spaced over
   ``[3, 5]`` (3, 3.67, 4.33, 5 for ``n = 4``); for the highest target the candidate that
   reaches it most closely (the smallest ``m_c`` at or above it, else the slowest), for the
   others the unused candidate nearest in ``log10 m_c`` (:func:`pick_nearest`; each
   candidate at most once).

Rung (f) may miss the network's escape by a factor (that is what the study measures; on
breast_cancer at B = 16, lr = 0.2 the recursion's mean exit is ~1.2e3 iterations against the
network's ~5.2e3), so the targets stop at 1e5 for the recursion: the network's slowest chosen
cell then lies near or beyond the brute-force cap of 1e5 iterations. The report says what the
probe predicted and what was measured.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from levydyn.results import Estimate
from nn_bridge.escape.horizon import run_to_precision
from nn_bridge.training.checkpoint import PartStore, config_key, json_safe

__all__ = ["PROBE_PATHS", "PROBE_PRECISION", "PROBE_HORIZONS", "SlowSelection", "probe_cell",
           "choose_slow_cells", "pick_nearest", "targets"]

#: Recursion paths per candidate probe.
PROBE_PATHS = 16
#: Relative CI half-width at which a probe stops extending its horizon.
PROBE_PRECISION = 0.5
#: First and last probe horizon (x10 in between).
PROBE_HORIZONS = (1_000, 100_000)


def targets(n: int, low: float = 3.0, high: float = 5.0) -> np.ndarray:
    """``n`` target values of ``log10`` mean escape iterations, evenly over ``[low, high]``."""
    if n <= 0:
        return np.zeros(0)
    return np.array([high]) if n == 1 else np.linspace(low, high, n)


@dataclass
class SlowSelection:
    """The probed candidates and the chosen cells (``cells``, in the order chosen)."""

    candidates: list[dict]
    cells: list[tuple[int, float]]
    rule: str = field(default="")
    wall_time_s: float = 0.0

    def summary(self) -> dict:
        return json_safe({"rule": self.rule, "candidates": self.candidates,
                          "chosen": [{"batch_size": B, "lr": lr} for B, lr in self.cells],
                          "wall_time_s": self.wall_time_s})


def probe_cell(minibatch, batch_size: int, lr: float, radius: float, seed: int = 0,
               n_paths: int = PROBE_PATHS) -> dict:
    """The recursion's mean exit iterations (and ``lambda_1`` on the reachable subspace)
    at one candidate (module docstring, step 2)."""
    from levydyn.kesten import Recursion, lyapunov_exponent
    from levydyn.kesten import simulate as kesten_simulate
    from levydyn.model.domains import Ball

    law = minibatch.reachable().at_batch_size(batch_size)
    rec = Recursion(law, lr, domain=Ball(np.zeros(law.dim), radius))
    t0 = time.perf_counter()

    def run(h: int):
        return kesten_simulate(rec, n_paths=n_paths, max_steps=h, seed=seed, classify=False)

    res, h = run_to_precision(run, PROBE_HORIZONS[0], PROBE_HORIZONS[1], PROBE_PRECISION,
                              mean=lambda r: r.mean_exit_time(),
                              complete=lambda r: bool(r.exited.all()))
    m: Estimate = res.mean_exit_time()
    lam = lyapunov_exponent(law, lr, n_paths=16, n_steps=500, seed=seed)
    return {"batch_size": int(batch_size), "lr": float(lr), "f_mean": m.value,
            "f_low": m.low, "f_high": m.high, "f_is_bound": bool(m.is_bound),
            "f_method": m.method, "horizon": int(h), "n_paths": int(n_paths),
            "lambda_1_reachable": lam.value, "wall_time_s": time.perf_counter() - t0}


def choose_slow_cells(basin, cfg, store: PartStore, log: Callable[[str], None] = lambda s: None,
                      cached_only: bool = False) -> SlowSelection:
    """The study's slow cells (module docstring), each probe read from or saved to ``store``
    (``cached_only``: a probe not stored is not run, and the candidate is left out)."""
    t0 = time.perf_counter()
    grid = {(int(B), float(lr)) for B in cfg.batch_sizes for lr in cfg.lrs}
    cands = [(int(B), float(lr)) for B in cfg.slow_batch_sizes for lr in cfg.slow_lrs
             if (int(B), float(lr)) not in grid]
    rule = (f"rung (f) probe ({PROBE_PATHS} recursion paths on the reachable subspace, "
            f"horizons {PROBE_HORIZONS[0]}-{PROBE_HORIZONS[1]}); targets log10 mean "
            f"{np.round(targets(cfg.slow_cells), 2).tolist()}: the highest by the smallest mean "
            "reaching it, the others by the nearest unused mean in log10")
    if cfg.slow_cells == 0 or not cands or basin.minibatch is None:
        return SlowSelection([], [], rule, 0.0)
    weights = basin.minibatch.weights_sha256
    probes = []
    for B, lr in cands:
        key = config_key({"weights": weights, "wd": cfg.weight_decay, "B": B, "lr": lr,
                          "radius": cfg.radius, "seed": cfg.seed, "part": "slow-probe",
                          "paths": PROBE_PATHS, "horizons": list(PROBE_HORIZONS),
                          "precision": PROBE_PRECISION})
        part = store.load("slow_probe", key)
        if part is not None:
            p = json.loads(str(part["meta"]))
        elif cached_only:
            continue
        else:
            p = probe_cell(basin.minibatch, B, lr, cfg.radius, cfg.seed)
            store.save("slow_probe", key, meta=np.array(json.dumps(json_safe(p))))
        log(f"slow-cell probe B={B} lr={lr:g}: rung (f) mean exit {_num(p['f_mean']):.4g}"
            f"{' (lower bound)' if p['f_is_bound'] else ''} iterations, lambda_1 "
            f"{_num(p['lambda_1_reachable']):+.4f}")
        probes.append(p)
    logm = [math.log10(max(_num(p["f_mean"]), 1.0)) for p in probes]
    chosen = []
    for i, t in pick_nearest(logm, targets(cfg.slow_cells)):
        chosen.append((probes[i]["batch_size"], probes[i]["lr"]))
        probes[i]["target_log10"] = float(t)
    return SlowSelection(probes, chosen, rule, time.perf_counter() - t0)


def pick_nearest(values, goals) -> list[tuple[int, float]]:
    """``[(index, goal), ...]``, one unused value per goal from the highest goal down: for the
    highest, the smallest value that reaches it (>= goal), else the largest value; for the
    others, the value nearest to the goal. NaN values are never picked, each value at most
    once."""
    free = [i for i, v in enumerate(values) if math.isfinite(v)]
    out = []
    for k, t in enumerate(sorted(goals, reverse=True)):
        if not free:
            break
        above = [j for j in free if values[j] >= t]
        if k == 0:
            i = (min(above, key=lambda j: values[j]) if above
                 else max(free, key=lambda j: values[j]))
        else:
            i = min(free, key=lambda j: (abs(values[j] - t), -values[j]))
        free.remove(i)
        out.append((i, float(t)))
    return out


def _num(x) -> float:
    return math.nan if x is None else float(x)
