"""The tables of ``levydyn nn reproduce`` as text blocks (:mod:`nn_bridge.report`).

Paper 000: pooled alpha (eq. 15); paper 003: Gaussian share (Shapiro-Wilk) and the
Berry-Esseen bound C beta/(sigma^3 sqrt B), C from Shevtsova 2011; paper 004: alpha_i per
layer; paper 001: tail index of the SGD iterates.
"""
from __future__ import annotations

from levydyn.estimators import BERRY_ESSEEN_CONSTANT
from nn_bridge.papers.reproduce import bound_batch_size
from nn_bridge.report import Table

__all__ = ["grid_blocks", "iterates_blocks", "short_layer"]


def short_layer(layer: str) -> str:
    """``net.fc1.weight`` -> ``fc1.weight``: layer names as the tables and figures show them."""
    return layer.replace("net.", "").replace("features.", "")


def _net_label(arch, width, depth):
    return f"{arch.upper()} width {width}, depth {depth}" if arch == "mlp" else \
        f"CNN {width} channels, depth {depth}"


def grid_blocks(rows, bs, base_width, base_depth, sens, dataset, epochs, lr, minibatches,
                seed) -> list:
    """Papers 000, 003 and 004 on the rows of :func:`reproduce_grid`."""
    out = []
    out.append(f"{dataset}: networks trained {epochs} epochs (lr {lr:g}); noise from "
               f"{minibatches} minibatches per batch size at the trained weights, seed {seed}")
    out.append("\npaper 000: pooled alpha (eq. 15 on all parameters' noise)")
    nets = list(dict.fromkeys((r.arch, r.width, r.depth) for r in rows))
    table = []
    for key in nets:
        rs = {r.batch_size: r for r in rows if (r.arch, r.width, r.depth) == key}
        table.append([key[0], str(key[1]), str(key[2]), f"{next(iter(rs.values())).test_acc:.3f}"]
                     + [f"{rs[b].pooled_alpha:.3f}" for b in bs])
    out.append(Table(["arch", "width", "depth", "test acc"] + [f"B={b}" for b in bs],
                            table))
    detail = [k for k in nets if k == ("mlp", base_width, base_depth) or k[0] == "cnn"]
    out.append(f"\npaper 003: Gaussian % (Shapiro-Wilk, p > 0.05) / median Berry-Esseen bound "
               f"C beta/(sigma^3 sqrt B), C = {BERRY_ESSEEN_CONSTANT} (Shevtsova 2011), "
               "per layer")
    out.append(f"Shapiro-Wilk on {sens.n_samples} minibatches rejects a standardised Gamma law "
               f"half the time at Kolmogorov distance {sens.detectable_distance:.4f} "
               f"({sens.reps} simulated samples per shape); the KS test's 5 % critical distance "
               f"is {sens.ks_critical:.4f}")
    for key in detail:
        base = sorted((r for r in rows if (r.arch, r.width, r.depth) == key),
                      key=lambda r: r.batch_size)
        layers = list(base[0].gaussian_layers)
        out.append(f"\n{_net_label(*key)}: beta/sigma^3 of the per-sample noise (B = 1), "
                   "median per layer, and the B at which the bound reaches "
                   f"{sens.detectable_distance:.4f}")
        out.append(Table(["layer", "beta/sigma^3", "B for bound"],
                                [[short_layer(x), f"{base[0].third_moment_layers[x]:.2f}",
                                  f"{bound_batch_size(base[0].third_moment_layers[x], sens.detectable_distance):.3g}"]  # noqa: E501
                                 for x in layers]))
        out.append(Table(["B"] + [short_layer(x) for x in layers] + ["all"],
                                [[str(r.batch_size)]
                                 + [f"{100 * r.gaussian_layers[x]:.1f} % / "
                                    f"{r.berry_esseen_layers[x]:.3f}" for x in layers]
                                 + [f"{100 * r.gaussian_overall:.1f} %"] for r in base]))
    for key in detail:
        base = sorted((r for r in rows if (r.arch, r.width, r.depth) == key),
                      key=lambda r: r.batch_size)
        layers = list(base[0].alpha_layers)
        out.append(f"\npaper 004: alpha_i per layer, median [q10, q90] ({_net_label(*key)})")
        out.append(Table(["B"] + [short_layer(x) for x in layers],
                                [[str(r.batch_size)]
                                 + ["{:.2f} [{:.2f}, {:.2f}]".format(*r.alpha_layers[x])
                                    for x in layers] for r in base]))
    return out


def iterates_blocks(rows, cfg, width, depth) -> list:
    """Paper 001 on the rows of :func:`nn_bridge.papers.iterates.run_iterates`."""
    out = []
    out.append(f"\npaper 001: tail index of SGD iterates (MLP width {width}, depth {depth}; "
               f"{cfg.iterations} steps rounded up to whole epochs, last {cfg.keep} iterates "
               f"every {cfg.thin} steps)")
    ok = [r for r in rows if not r.diverged]
    layers = list(ok[0].layer_alpha) if ok else []
    out.append("authors' layer alpha: eq. 15, median over K1 in (2, 5, 10, ..., 1000), on the "
               "layer's time-averaged weights centred across the layer (unclipped)")
    head = ["eta", "b", "eta/b", "loss", "test acc"]
    out.append(Table(head + [short_layer(x) for x in layers],
                            [[f"{r.eta:g}", str(r.batch_size), f"{r.eta_over_b:.4g}",
                              f"{r.train_loss:.3g}", f"{r.test_acc:.3f}"]
                             + ([f"{r.layer_alpha[x]:.3f}" for x in layers] if not r.diverged
                                else ["diverged"] * len(layers)) for r in rows]))
    if ok:
        out.append(f"\nper parameter across time: Hill alpha_i of w_k - mean_k w_k, median "
                   f"[q10, q90] per layer; i.i.d. Gaussian samples of {cfg.keep} give "
                   f"{ok[0].gauss_hill:.2f}; drift = median |mean(2nd half) - mean(1st half)| "
                   "/ sd (a linear trend gives 1.73)")
    out.append(Table(["eta", "b"] + [short_layer(x) for x in layers] + ["drift per layer"],
                            [[f"{r.eta:g}", str(r.batch_size)]
                             + (["{:.2f} [{:.2f}, {:.2f}]".format(*r.time_alpha[x])
                                 for x in layers]
                                + [" / ".join(f"{r.drift[x]:.2f}" for x in layers)]
                                if not r.diverged else ["diverged"] * (len(layers) + 1))
                             for r in rows]))
    out.append("\nthe same about a per-parameter linear trend (residuals of a least-squares "
               "line in k)")
    out.append(Table(["eta", "b"] + [short_layer(x) for x in layers],
                            [[f"{r.eta:g}", str(r.batch_size)]
                             + (["{:.2f} [{:.2f}, {:.2f}]".format(*r.time_alpha_detrended[x])
                                 for x in layers] if not r.diverged
                                else ["diverged"] * len(layers))
                             for r in rows]))
    return out
