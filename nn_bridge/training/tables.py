"""Training runs as text: what ``levydyn nn train | lr-decay`` print, callable from Python.

Blocks as in :mod:`nn_bridge.report`. Time: an SGD iteration with learning rate lr is SDE
time dt = lr.
"""
from __future__ import annotations

from nn_bridge.report import Table, fmt

__all__ = ["training_blocks", "lr_decay_blocks"]


def training_blocks(res, out_path=None) -> list:
    """A :class:`~nn_bridge.training.train.TrainResult`: stop reason, losses, accuracies and
    the streamed noise of the SGD minibatches (``track_every``)."""
    s = res.summary()
    out = [f"epochs {s['epochs']}  iterations {s['iterations']}  (SDE time = iterations x lr"
           f" = {s['sde_time']:g})",
           f"loss {s['loss']:.3g}  ||grad U|| {s['grad_norm']:.3g}  train acc "
           f"{s['train_acc']:.3f}  test acc {s['test_acc']:.3f}",
           f"stopped: {s['reason']}  converged: {s['converged']}",
           f"weights sha256 {s['weights_sha256'][:16]}...  -> {out_path}"]
    if res.tracking:
        rows = [[str(r["iteration"]), str(r["epoch"]), f"{r['lr']:g}", str(r["batch_size"]),
                 fmt(r["alpha_all_median"], ".2f"), fmt(r["sigma_all_median"], ".3e")]
                for r in res.tracking]
        out += ["streamed noise of the SGD minibatches (median over parameters):",
                Table(["iteration", "epoch", "lr", "batch", "alpha_i", "sigma_i"], rows)]
    return out


def lr_decay_blocks(result: dict, title: str) -> list:
    """The three runs of :func:`nn_bridge.training.lr_decay.lr_decay_experiment`."""
    rows = []
    for run, r in result.items():
        for when in ("before", "after"):
            a = r[when]
            rows.append([run, when, str(a["windows"]), f"{a.get('lr', float('nan')):g}",
                         str(a.get("batch_size", "")), fmt(a["alpha"], ".2f"),
                         fmt(a["sigma"], ".3e"), fmt(a["step_amplitude"], ".3e"),
                         fmt(a["sde_eps"], ".3e")])
    out = [title, Table(["run", "", "windows", "lr", "batch", "alpha_i", "sigma_i",
                         "lr x sigma_i", "eps_i (dt = lr)"], rows)]
    for run, r in result.items():
        f = r["final"]
        out.append(f"{run:9s} final loss {f['loss']:.4g}, train acc {f['train_acc']:.3f}, "
                   f"test acc {f['test_acc']:.3f}")
    return out
