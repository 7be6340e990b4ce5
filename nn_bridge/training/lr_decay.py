"""Paper 004's learning-rate-decay experiment: noise amplitude before and after a decay.

Paper 004 (Sec. 5, "Learning rate decay", Fig. 2) trains a network, decays the learning rate
by 10 at one epoch and shows that the gradient noise of a parameter has a smaller amplitude
afterwards; a second run increases the batch size instead and trains as well as the decay,
while a constant run trains worse. Here the three runs share data, model, seed and every
other setting (``nn_bridge.training.train``; ``milestones=(E,)``, ``decay``):

- ``decay``: lr -> decay x lr at epoch E;
- ``batch``: batch size -> batch size / decay at epoch E (lr unchanged);
- ``constant``: neither.

Each run tracks, every K iterations, the median over parameters of the streamed
alpha_i and sigma_i of its own SGD minibatch noise (``TrainConfig.track_every``). With
``u ~ sigma Z`` the noise in one SGD step is ``lr u`` (amplitude ``lr sigma``) and the SDE
noise level with ``dt = lr`` is ``eps = lr^(1 - 1/alpha) sigma`` (``NoiseProfile.sde_eps``).
For i.i.d. SaS per-sample noise a batch ``B' = B / decay`` scales sigma by
``(B'/B)^(1/alpha - 1)``; an lr decay scales the step amplitude by ``decay`` directly.

``lr_decay_experiment`` returns, per run, the window medians of sigma, ``lr sigma`` and
``eps`` averaged over the last ``n_windows`` windows before the milestone and the first
``n_windows`` after it, with the final loss and accuracies.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from nn_bridge.data.datasets import Dataset
from nn_bridge.data.models import ModelSpec
from nn_bridge.training.train import TrainConfig, train

__all__ = ["RUNS", "lr_decay_experiment"]

RUNS = ("decay", "batch", "constant")


def _amplitudes(recs: list[dict]) -> dict:
    if not recs:
        nan = float("nan")
        return {"windows": 0, "alpha": nan, "sigma": nan, "step_amplitude": nan, "sde_eps": nan,
                "batch_size": None, "lr": nan}
    a = np.array([r["alpha_all_median"] for r in recs], dtype=float)
    s = np.array([r["sigma_all_median"] for r in recs], dtype=float)
    lr = np.array([r["lr"] for r in recs], dtype=float)
    return {"windows": len(recs), "alpha": float(np.nanmean(a)), "sigma": float(np.nanmean(s)),
            "step_amplitude": float(np.nanmean(lr * s)),
            "sde_eps": float(np.nanmean(lr ** (1 - 1 / a) * s)),
            "batch_size": int(recs[-1]["batch_size"]), "lr": float(recs[-1]["lr"])}


def lr_decay_experiment(data: Dataset, spec: ModelSpec, config: TrainConfig, milestone: int,
                        *, n_windows: int = 3, device="auto") -> dict:
    """Run the three schedules (module docstring) and compare noise before/after ``milestone``.

    ``config`` gives everything else (lr, batch size, momentum, ``max_epochs`` > milestone,
    ``track_every`` > 0, ``decay``); its own ``milestones``/``decay_mode`` are replaced.
    """
    if isinstance(milestone, bool) or not isinstance(milestone, int) or milestone < 1:
        raise ValueError(f"milestone={milestone!r}: must be a positive epoch")
    if config.max_epochs <= milestone:
        raise ValueError(f"max_epochs={config.max_epochs}: must exceed milestone={milestone}")
    if not config.track_every:
        raise ValueError("track_every=0: the experiment needs noise tracking (K >= 3)")
    if isinstance(n_windows, bool) or not isinstance(n_windows, int) or n_windows < 1:
        raise ValueError(f"n_windows={n_windows!r}: must be a positive integer")
    cfg = replace(config, grad_tol=0.0, patience=config.max_epochs + 1)   # fixed length
    out = {}
    for run in RUNS:
        c = replace(cfg, milestones=() if run == "constant" else (milestone,),
                    decay_mode="batch" if run == "batch" else "lr")
        res = train(data, spec, c, device=device)
        before = [r for r in res.tracking if r["epoch"] < milestone][-n_windows:]
        after = [r for r in res.tracking if r["epoch"] >= milestone][:n_windows]
        out[run] = {"before": _amplitudes(before), "after": _amplitudes(after),
                    "final": res.final, "iterations": res.iterations, "sde_time": res.sde_time}
    return out
