"""The reachable subspace of a committed study's minibatch model, and lambda_1 on it in the
cells the JSON calls stable (the lean part of ``reachable_verdicts.py``: no noise profiles).

    PYTHONPATH=. python docs/scripts/reachable_dimension.py docs/results/nn_study_wine.json \
        --workdir /tmp/meta28/wine

Rebuilds ``w*`` from the JSON's config (deterministic training, cached in the workdir),
the per-sample gradient deviations and Gauss-Newton factors at ``w*``, then prints the
dimension of the reachable subspace and, per stable cell, the full-space and reachable
``lambda_1`` with the study's settings. (Unstable cells cannot change their verdict: the
recursion is block-diagonal in the subspace and its complement, see
:mod:`levydyn.kesten.subspace`.)
"""
from __future__ import annotations

import argparse
import json
import math
import time

import torch

from levydyn.kesten import EmpiricalMinibatch, lyapunov_exponent, reachable_subspace
from nn_bridge.curvature.per_sample import per_sample_gn_factors
from nn_bridge.data.datasets import load_dataset
from nn_bridge.data.models import ModelSpec
from nn_bridge.escape.basin import basin_at, cached_minimum, part_store
from nn_bridge.escape.config import StudyConfig
from nn_bridge.training.train import train, train_key


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    rep = json.load(open(a.report))
    cfg = StudyConfig(**{k: v for k, v in rep["config"].items()
                         if k in StudyConfig.__dataclass_fields__})
    t0 = time.perf_counter()
    data = load_dataset(cfg.dataset, test_fraction=cfg.test_fraction, seed=cfg.seed)
    spec = ModelSpec(kind="mlp", in_features=data.n_features, n_classes=data.n_classes,
                     width=cfg.width, depth=cfg.depth, seed=cfg.seed)
    tcfg = cfg.train_config(data.n_train)
    res = train(data, spec, tcfg, device="cpu",
                checkpoint=f"{a.workdir}/train-{train_key(data, spec, tcfg)}.pt")
    mn = cached_minimum(part_store(a.workdir), res.model, data, res.weights_sha256,
                        cfg.weight_decay)
    print(f"w*: objective {mn.objective:.8g} (committed "
          f"{rep['basin']['minimum']['objective']:.8g}) [{time.perf_counter() - t0:.0f}s]",
          flush=True)
    flat, X, y, G = basin_at(spec, data, mn.w)
    F = per_sample_gn_factors(flat, X, mn.w)
    law = EmpiricalMinibatch(G.numpy(), F, cfg.batch_sizes[0], weight_decay=cfg.weight_decay)
    sub = reachable_subspace(law)
    print(f"reachable subspace: dim {sub.dim} of P = {law.dim} (N = {law.n_samples}, factor "
          f"rank {law.rank}); invariance error {sub.invariance_error:.1e} "
          f"[{time.perf_counter() - t0:.0f}s]", flush=True)
    for c in rep["cells"]:
        if c["regime"] != "stable":
            continue
        B, lr = c["batch_size"], c["lr"]
        kw = dict(n_paths=cfg.lyap_paths, n_steps=cfg.lyap_steps, seed=cfg.seed)
        lam = lyapunov_exponent(sub.law.with_batch(B), lr, **kw)
        print(f"B={B} lr={lr:g}: committed full-space lambda_1 {c['lambda_1']['value']:+.5f}, "
              f"floor log(1 - lr wd) {math.log(1 - lr * cfg.weight_decay):+.5f}; reachable "
              f"{lam} [{time.perf_counter() - t0:.0f}s]", flush=True)


if __name__ == "__main__":
    main()
