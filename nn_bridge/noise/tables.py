"""Noise measurements as text: what ``levydyn nn measure`` prints, callable from Python.

Blocks as in :mod:`nn_bridge.report` (a ``str`` line or a ``Table``). alpha_i: per-parameter
tail index (SaS(1) fits, paper 004); heavy: alpha_i below the 5 % quantile of the
estimator on Gaussian samples of the same size; Gaussian: Shapiro-Wilk p > level (paper 003).
"""
from __future__ import annotations

from nn_bridge.report import Table, fmt

__all__ = ["measurement_blocks", "noise_stats_blocks", "stream_blocks"]


def _range(s) -> str:
    return f"{fmt(s.alpha_median, '.2f')} [{fmt(s.alpha_q10, '.2f')}, {fmt(s.alpha_q90, '.2f')}]"


def measurement_blocks(m, batch_sizes=None) -> list:
    """A :class:`~nn_bridge.noise.measure.Measurement`: network, training, then each batch
    size's :func:`noise_stats_blocks`."""
    t = m.training
    shape = (f"{m.data['n_features']}-{m.spec.width}x{m.spec.depth - 1}-{m.data['n_classes']}"
             if m.spec.kind == "mlp" else f"width {m.spec.width} depth {m.spec.depth}")
    out = [f"network: {m.spec.kind} {shape}, weights sha256 {m.weights_sha256[:16]}"]
    if "epochs" in t:
        out.append(f"training: {t['epochs']} epochs, {t['iterations']} SGD iterations "
                   f"(lr {m.lr:g}, SDE time {t['sde_time']:g}); loss {t['loss']:.3g}, "
                   f"||grad U|| {t['grad_norm']:.3g}, train acc {t['train_acc']:.3f}, test acc "
                   f"{t['test_acc']:.3f}; {t['reason']}")
    for b in (m.stats if batch_sizes is None else batch_sizes):
        out += noise_stats_blocks(m.stats[b])
    return out


def noise_stats_blocks(st) -> list:
    """One batch size's :class:`~nn_bridge.noise.stats.NoiseStats`: per layer and overall."""
    rows = [[s.name, str(s.n_params), str(s.n_degenerate), str(s.n_nan), _range(s),
             fmt(100 * s.heavy_fraction, ".1f"), fmt(s.sigma_median, ".2e"),
             fmt(100 * s.gaussian_fraction, ".1f")] for s in list(st.layers) + [st.overall]]
    lo, hi = st.gaussian_fraction_ci
    out = [f"\nbatch size {st.batch_size}: {st.n_minibatches} minibatches ({st.sampling}), "
           f"estimator {st.estimator}",
           Table(["layer", "params", "degen", "nan", "alpha_i median [q10, q90]", "heavy %",
                  "sigma_i median", "Gauss %"], rows),
           f"Gaussian (Shapiro-Wilk p > {st.level:g}, paper 003): "
           f"{100 * st.overall.gaussian_fraction:.1f} % [95% CI {100 * lo:.1f}, {100 * hi:.1f}]"
           f"; heavy = alpha_i < {st.alpha_gauss_q05:.3f} (5 % quantile on Gaussian data)",
           "pooled alpha (paper 000, eq. 15 on all noise concatenated): "
           f"{fmt(st.pooled_alpha, '.2f')}; on noise-vector norms: "
           f"{fmt(st.pooled_alpha_norm, '.2f')}"]
    f = st.fit
    if f is not None:
        def ms(t):
            return f"{t[0]:.3g} +- {t[1]:.3g} (median {t[2]:.3g})"
        out += [f"fit errors over {f.n} of {f.n_drawn} random parameters "
                "(paper 004 Tables 1-3; each standardised):",
                f"  SSE   Gauss {ms(f.gauss_sse)}   SaS {ms(f.sas_sse)}",
                f"  chi2  Gauss {ms(f.gauss_chi2)}   SaS {ms(f.sas_chi2)}",
                f"  SaS fits better: {100 * f.sas_better_fraction:.0f} % by chi2, "
                f"{100 * f.sas_better_fraction_sse:.0f} % by SSE"]
    return out


def stream_blocks(st) -> list:
    """One batch size's :class:`~nn_bridge.noise.stream.StreamStats` (any model, streamed)."""
    rows = [[s.name, str(s.n_params), str(s.n_degenerate), str(s.n_nan), _range(s),
             fmt(s.sigma_median, ".2e"), fmt(s.third_ratio_median, ".2f"), str(s.n_sampled),
             fmt(s.sampled_alpha_median, ".2f"), fmt(100 * s.gaussian_fraction, ".1f")]
            for s in st.layers]
    out = [f"\nbatch size {st.batch_size}: {st.n_minibatches} minibatches, "
           f"{st.n_params} parameters, mean loss {st.mean_loss:.4g}",
           Table(["tensor", "params", "degen", "nan", "alpha_i (log-moment) median [q10, q90]",
                  "sigma_i median", "beta/sigma^3", "sampled", f"alpha ({st.config.estimator})",
                  "Gauss %"], rows)]
    a = st.accuracy()
    if a.get("n"):
        out.append(f"streaming vs {st.config.estimator} on {a['n']} sampled parameters: "
                   f"bias {a['bias']:+.3f}, rmse {a['rmse']:.3f}, corr {a['corr']:.2f} "
                   f"(log-moment sd on SaS data at alpha {a['alpha_full_median']:.2f}: "
                   f"{a['sas_sd_at_median']:.3f})")
    f = st.fit
    if f is not None:
        out.append(f"fit errors over {f.n} sampled parameters: chi2 Gauss median "
                   f"{f.gauss_chi2[2]:.3g}, SaS median {f.sas_chi2[2]:.3g}; SaS fits better "
                   f"{100 * f.sas_better_fraction:.0f} % by chi2")
    return out
