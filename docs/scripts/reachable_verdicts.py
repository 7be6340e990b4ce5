"""Recompute lambda_1 on the reachable subspace for the cells of a committed study JSON.

    PYTHONPATH=. python docs/scripts/reachable_verdicts.py docs/results/nn_study_breast_cancer.json \
        --workdir /tmp/meta28/breast_cancer [--out reachable_breast_cancer.json]

Rebuilds the study's basin from the JSON's config (training is deterministic; the workdir
caches it), checks that ``w*`` has the committed objective, then for every cell computes
the multiplicative model's stability with the study's settings
(:func:`nn_bridge.escape.cells.cell_stability`: full-space and reachable-subspace
``lambda_1``, ``alpha_K``) and prints the committed verdict beside the reachable one.
"""
from __future__ import annotations

import argparse
import json
import time

from nn_bridge.escape.basin import prepare_basin
from nn_bridge.escape.cells import cell_stability, plain
from nn_bridge.escape.config import StudyConfig
from nn_bridge.training.checkpoint import json_safe


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rep = json.load(open(a.report))
    c = {k: v for k, v in rep["config"].items() if k in StudyConfig.__dataclass_fields__}
    cfg = StudyConfig(**c)
    t0 = time.perf_counter()
    basin = prepare_basin(cfg, workdir=a.workdir, log=print)
    obj, ref = basin.minimum.objective, rep["basin"]["minimum"]["objective"]
    print(f"basin {time.perf_counter() - t0:.0f}s; objective {obj:.8g} (committed {ref:.8g})")
    rows, changed = [], 0
    for cell in rep["cells"]:
        B, lr = cell["batch_size"], cell["lr"]
        st = cell_stability(basin.minibatch.law(B), lr, cfg)
        new, old = st["regime"], cell["regime"]
        changed += new != old
        print(f"B={B} lr={lr:g}: committed {old} (lambda_1 {cell['lambda_1']['value']:+.5f}); "
              f"reachable dim {st['reachable_dim']}: lambda_1 {st['lambda_1_reachable']} -> "
              f"{new}; full now {st['lambda_1']}  [{st['wall_time_s']:.1f}s]", flush=True)
        rows.append({"batch_size": B, "lr": lr, "committed_regime": old, **plain(st)})
    print(f"verdict changed in {changed} of {len(rows)} cells "
          f"({time.perf_counter() - t0:.0f}s in all)")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(json_safe({"report": a.report, "objective": obj, "committed_objective": ref,
                                 "cells": rows, "changed": changed}), f, indent=1)


if __name__ == "__main__":
    main()
