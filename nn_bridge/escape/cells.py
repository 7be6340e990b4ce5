"""One cell of the escape study: one (batch size, lr, radius), measured and predicted.

:func:`run_cell` is the one runner behind both the grid (:func:`nn_bridge.escape.study.run_study`)
and the radius scan (:func:`nn_bridge.escape.radius_scan.radius_scan`): it runs (or reads from
the part store) the network's own escapes from ``w*`` and each model's predicted escapes,
all with the same :class:`EscapeConfig`. :class:`Cell` holds a grid cell's results and their
ratios predicted / measured (mean escape iterations, CI from both CIs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from levydyn.results import Estimate
from nn_bridge.report import fmt as _fmt
from nn_bridge.curvature.stability import stability_cell
from nn_bridge.escape.basin import Basin
from nn_bridge.escape.bridge import Bridge
from nn_bridge.escape.config import StudyConfig
from nn_bridge.escape.experiment import EscapeConfig, MinibatchGradient, NetworkEscape, run_escape
from nn_bridge.escape.fit import log_se
from nn_bridge.escape.horizon import PRECISION, is_measured, run_to_precision, why_not_measured
from nn_bridge.escape.ladder import MODEL_LABELS, SECOND_ORDER, predict_escape

#: Every rung but (f): each step costs as much as the network's or more (the torch rungs, and
#: the levydyn SDE rungs (a), (c) with their full-dimensional quadratic drift), so their
#: horizons stop at ``StudyConfig.model_max_iter``; rung (f) (numba, on the reachable
#: subspace) goes to the cap.
CAPPED_RUNGS = ("levy", "gauss", "lin_gauss", "lin_minibatch", "nonlinear_gauss") + tuple(SECOND_ORDER)
from nn_bridge.training.checkpoint import PartStore

__all__ = ["Cell", "run_cell", "ratio_text", "cell_splitting", "model_splitting", "measurement_method", "cell_stability", "escape_ratio", "escape_arrays",
           "escape_from_arrays", "stability_from_json", "plain"]


def run_cell(basin: Basin, cfg: StudyConfig, ecfg: EscapeConfig, store: PartStore, *,
             measured_key: Callable[[int], str], prediction_key: Callable[[str, int, int], str],
             models, bridge: Callable[[str], Bridge | None], cached_only: bool = False,
             cap: int | None = None,
             on_measured: Callable[[NetworkEscape], None] = lambda e: None,
             on_prediction: Callable[[str, NetworkEscape | None], None] = lambda m, p: None,
             ) -> tuple[NetworkEscape | None, dict[str, NetworkEscape]]:
    """The network's escapes under ``ecfg`` and each of ``models``' predictions, each run to
    its mean's precision (:mod:`nn_bridge.escape.horizon`: horizons from ``ecfg.max_iter``
    up to ``cap``, default no extension, and for the :data:`CAPPED_RUNGS` up to
    ``cfg.model_max_iter`` at most; beyond ``ecfg.max_iter`` only the distance criterion is
    followed).

    Every piece is read from ``store`` under its key (``measured_key(horizon)``;
    ``prediction_key(model, n_paths, horizon)``) or run and saved there. ``bridge(model)``
    gives the bridge a model needs (called only for a prediction that is run).
    ``cached_only``: run nothing; a missing measurement gives ``(None, {})``, a missing
    prediction is left out, and the longest stored horizon is used.
    ``on_measured(escape)`` and ``on_prediction(model, escape or None)`` (after each model)
    are for progress lines.
    """
    names = basin.layer_names
    cap = ecfg.max_iter if cap is None else max(int(cap), ecfg.max_iter)

    def at(h: int) -> EscapeConfig:
        return ecfg if h == ecfg.max_iter else replace(ecfg, max_iter=h, loss_rise=None)

    def measure(h: int) -> NetworkEscape | None:
        part = store.load("escape", measured_key(h))
        if part is not None:
            return escape_from_arrays(part, at(h), names)
        if cached_only:
            return None
        orc = MinibatchGradient(basin.flat, basin.X, basin.y, ecfg.batch_size, cfg.weight_decay)
        e = run_escape(orc, basin.minimum.w, at(h))
        store.save("escape", measured_key(h), **escape_arrays(e))
        return e

    measured, _ = run_to_precision(measure, ecfg.max_iter, cap, cfg.precision)
    if measured is None:
        return None, {}
    on_measured(measured)
    predicted = {}
    for model in models:
        npaths = cfg.torch_paths if model in SECOND_ORDER else cfg.n_paths

        def predict(h: int, model=model, npaths=npaths) -> NetworkEscape | None:
            key = prediction_key(model, npaths, h)
            part = store.load("predict", key)
            if part is not None:
                return escape_from_arrays(part, at(h), names)
            if cached_only:
                return None
            pred = predict_escape(model, bridge(model), basin, at(h), npaths,
                                  reachable=h != ecfg.max_iter)
            store.save("predict", key, **escape_arrays(pred))
            return pred

        pred, _ = run_to_precision(predict, ecfg.max_iter,
                                   min(cap, max(cfg.model_max_iter, ecfg.max_iter))
                                   if model in CAPPED_RUNGS else cap, cfg.precision)
        if pred is None:
            on_prediction(model, None)
            continue
        predicted[model] = pred
        on_prediction(model, pred)
    return measured, predicted


def cell_splitting(basin: Basin, cfg: StudyConfig, ecfg: EscapeConfig, store: PartStore,
                   key: str, cached_only: bool = False) -> dict | None:
    """The network's mean escape at ``ecfg`` by splitting (:func:`split_network`, the
    study's ``split_replicas`` x ``split_runs``), read from or saved to ``store`` under
    ``key``; None when ``cached_only`` and not stored."""
    from nn_bridge.escape.splitting import split_network

    def run():
        orc = MinibatchGradient(basin.flat, basin.X, basin.y, ecfg.batch_size,
                                cfg.weight_decay)
        return split_network(orc, basin.minimum.w, ecfg.lr, ecfg.radius, cfg.split_replicas,
                             cfg.split_runs, ecfg.seed)

    return _stored_splitting(store, key, cached_only, run)


def model_splitting(basin: Basin, cfg: StudyConfig, ecfg: EscapeConfig, store: PartStore,
                    key: str, cached_only: bool = False) -> dict | None:
    """Rung (f)'s mean escape at ``ecfg`` by splitting (the kesten recursion through
    :func:`levydyn.rare.split_recursion`), stored like :func:`cell_splitting`."""
    from nn_bridge.escape.splitting import split_multiplicative

    def run():
        law = basin.minibatch.law(ecfg.batch_size, remainder=False)
        return split_multiplicative(law, ecfg.lr, ecfg.radius, cfg.split_replicas,
                                    cfg.split_runs, ecfg.seed)

    return _stored_splitting(store, key, cached_only, run)


def _stored_splitting(store: PartStore, key: str, cached_only: bool, run) -> dict | None:
    """A splitting record read from ``store`` or made by ``run()`` and saved; a ValueError
    of the run (e.g. an escape that is not rare) becomes ``{"error": ...}``."""
    import json

    from nn_bridge.escape.splitting import splitting_record
    from nn_bridge.training.checkpoint import json_safe

    part = store.load("splitting", key)
    if part is not None:
        rec = json.loads(str(part["meta"]))
        if "error" not in rec:
            for k in ("mean_iterations", "p", "loop_iterations", "reactive_iterations"):
                rec[k] = _estimate(rec[k])
        return rec
    if cached_only:
        return None
    try:
        rec = splitting_record(run())
    except ValueError as exc:            # e.g. the escape is not rare: brute force measures it
        rec = {"estimator": "gAMS", "error": str(exc)}
    store.save("splitting", key, meta=np.array(json.dumps(json_safe(plain(rec)))))
    return rec


def measurement_method(measured: NetworkEscape, splitting: dict | None,
                       precision: float = PRECISION) -> str:
    """How a cell's mean escape is known (:mod:`nn_bridge.escape.horizon`'s rule):
    ``"brute"`` when the brute-force mean is measured; else ``"splitting"`` when a finished
    splitting estimate is measured; else ``"bound"`` when the brute-force mean is only a
    lower bound (or no number), ``"imprecise"`` when it is a number whose CI is wider than
    ``precision`` allows. Only "brute" and "splitting" cells are counted by the verdict."""
    e = measured.mean_iterations()
    if is_measured(e, precision):
        return "brute"
    if (splitting is not None and "error" not in splitting and not splitting["censored"]
            and is_measured(splitting["mean_iterations"], precision)):
        return "splitting"
    return "bound" if (e.is_bound or not math.isfinite(e.value)) else "imprecise"


def cell_stability(law, lr: float, cfg: StudyConfig, subspace=None) -> dict:
    """:func:`nn_bridge.curvature.stability.stability_cell` with the study's settings
    (``subspace``: the reachable subspace, if known)."""
    return stability_cell(law, lr, subspace=subspace, lyap_paths=cfg.lyap_paths, lyap_steps=cfg.lyap_steps,
                          tail_particles=cfg.tail_particles, tail_replicas=cfg.tail_replicas,
                          tail_steps=cfg.tail_steps, seed=cfg.seed)


def escape_arrays(e: NetworkEscape) -> dict:
    """The arrays of ``e`` that the part store keeps (inverse: :func:`escape_from_arrays`)."""
    d = {"dist_iter": e.dist_iter, "dist_exited": e.dist_exited, "exit_param": e.exit_param,
         "exit_layer": e.exit_layer, "layer_share": e.layer_share,
         "wall_time": np.array(e.wall_time)}
    if e.loss_iter is not None:
        d["loss_iter"], d["loss_exited"] = e.loss_iter, e.loss_exited
    return d


def escape_from_arrays(a: dict, config: EscapeConfig, names: list[str]) -> NetworkEscape:
    """The escape stored by :func:`escape_arrays` under ``config``; without stored loss exits
    the loss criterion was off (a model's prediction), as in the escape that was saved."""
    off = {} if "loss_iter" in a else {"loss_rise": None}
    return NetworkEscape(config=replace(config, n_seeds=int(a["dist_iter"].size), **off),
                         dist_iter=a["dist_iter"], dist_exited=a["dist_exited"].astype(bool),
                         exit_param=a["exit_param"], exit_layer=a["exit_layer"],
                         layer_share=a["layer_share"], layer_names=list(names),
                         loss_iter=a.get("loss_iter"),
                         loss_exited=None if "loss_exited" not in a else a["loss_exited"].astype(bool),
                         wall_time=float(a["wall_time"]))


@dataclass
class Cell:
    """One (batch size, lr): the measurement, the predictions and the closed forms."""

    batch_size: int
    lr: float
    measured: NetworkEscape
    predicted: dict[str, NetworkEscape]
    closed_levy: dict
    closed_gauss: dict
    reduction: dict
    stability: dict = field(default_factory=dict)
    splitting: dict | None = None
    model_splitting: dict = field(default_factory=dict)     # model -> splitting record
    kind: str = "grid"              # "grid", or "slow" (nn_bridge.escape.slow_cells)
    precision: float = PRECISION    # largest relative CI half-width of a measured mean

    @property
    def method(self) -> str:
        """How the measured mean was obtained (:func:`measurement_method`)."""
        return measurement_method(self.measured, self.splitting, self.precision)

    def measured_mean(self, level: float = 0.95) -> Estimate:
        """The measured mean escape iterations: the splitting estimate where the cell was
        measured by splitting, else the brute-force one (``method`` says which)."""
        if self.method == "splitting":
            return self.splitting["mean_iterations"]
        return self.measured.mean_iterations("distance", level)

    def ratio(self, model: str, level: float = 0.95) -> Estimate:
        """predicted / measured mean escape iterations, CI from both (log-normal approx.)."""
        m = self.measured_mean(level)
        return escape_ratio(self.predicted_mean(model, level), m, level)

    def predicted_mean(self, model: str, level: float = 0.95) -> Estimate:
        """A model's mean escape iterations: its splitting estimate where its brute-force
        prediction was censored and splitting finished, else the brute-force one."""
        rec = self.model_splitting.get(model)
        pred = self.predicted[model]
        if (rec is not None and "error" not in rec and not rec["censored"]
                and not is_measured(pred.mean_iterations("distance", level), self.precision)):
            return rec["mean_iterations"]
        return pred.mean_iterations("distance", level)

    def survival_check(self) -> dict:
        """Survival ``P(escape > t)`` of every model at the measured quartile iterations
        ``t_q`` (where the measured survival is 0.75, 0.5, 0.25; NaN where censored)."""
        it = np.where(self.measured.dist_exited, self.measured.dist_iter, np.inf)
        with np.errstate(invalid="ignore"):
            tq = np.quantile(it, [0.25, 0.5, 0.75])
        ok = np.isfinite(tq)
        out = {"t": tq.tolist(), "measured": [0.75, 0.5, 0.25]}
        for k, e in self.predicted.items():
            pit = np.where(e.dist_exited, e.dist_iter, np.inf)
            out[k] = [float(np.mean(pit > t)) if f else math.nan for t, f in zip(tq, ok)]
        return out

    def summary(self, level: float = 0.95) -> dict:
        """JSON-able cell: ``measured`` and each of ``models`` carry ``mean``, ``low``,
        ``high`` (mean escape iterations, distance criterion) and ``censored`` (fraction);
        ``lambda_1``, ``alpha_K`` (``value``, ``low``, ``high``; ``alpha_K`` null unless
        stable) come from the multiplicative model in the full parameter space,
        ``lambda_1_reachable``, ``alpha_K_reachable`` from the same recursion on the
        subspace its iterates reach from ``w*`` (``reachable_dim``); ``regime`` is the
        reachable one where present (``regime_full`` the full-space one)."""
        def head(e: NetworkEscape) -> dict:
            m = e.mean_iterations("distance", level)
            return {"mean": m.value, "low": m.low, "high": m.high,
                    "censored": 1.0 - float(e.dist_exited.mean())}

        models = {}
        for k, v in self.predicted.items():
            models[k] = {**head(v), "label": MODEL_LABELS[k], "ratio": self.ratio(k, level),
                         "details": v.summary(level)}
            if k in self.model_splitting:
                e = self.predicted_mean(k, level)
                models[k].update(mean=e.value, low=e.low, high=e.high,
                                 splitting=self.model_splitting[k])
        st = self.stability
        meas = {**head(self.measured), **self.measured.summary(level), "method": self.method,
                "horizon": int(self.measured.config.max_iter), "splitting": self.splitting}
        if self.method == "splitting":
            e = self.measured_mean(level)
            meas.update(mean=e.value, low=e.low, high=e.high,
                        brute={**head(self.measured)})
        meas["why_not_measured"] = (None if self.method in ("brute", "splitting")
                                    else why_not_measured(self.measured_mean(level),
                                                          self.precision))
        for k, v in self.predicted.items():
            models[k]["horizon"] = int(v.config.max_iter)
            models[k]["why_not_measured"] = why_not_measured(self.predicted_mean(k, level),
                                                             self.precision)
        d = {"batch_size": self.batch_size, "lr": self.lr, "kind": self.kind, "measured": meas,
             "models": models,
             "lambda_1": st.get("lambda_1"), "alpha_K": st.get("alpha_K"),
             "lambda_1_reachable": st.get("lambda_1_reachable"),
             "alpha_K_reachable": st.get("alpha_K_reachable"),
             "reachable_dim": st.get("reachable_dim"),
             "regime": st.get("regime"), "regime_full": st.get("regime_full"),
             "closed_form_levy": self.closed_levy, "closed_form_gauss": self.closed_gauss,
             "reduction": self.reduction}
        d["survival_at_measured_quartiles"] = self.survival_check()
        m = self.measured_mean(level).value
        d["ratio_closed_levy"] = self.closed_levy.get("mean_iterations", math.nan) / m \
            if math.isfinite(m) else math.nan
        return d


def escape_ratio(p: Estimate, m: Estimate, level: float) -> Estimate:
    """``p / m`` with a log-normal CI from both CIs.

    A side that is only a lower bound (a censored mean the data cannot extrapolate,
    :meth:`Estimate.is_bound`) gives no ratio (value nan) but a bound on it: predicted
    bounded, measured a number -> ``r >= p.low / m.high``; measured bounded, predicted a
    number -> ``r <= p.high / m.low``; both bounded -> nothing (``[0, inf]``). A measured
    mean that is not a finite positive number (every replica censored: no mean exists) gives
    no ratio at all: value nan, ``method`` says why. Never 0.
    """
    from scipy import stats

    if p.is_bound or m.is_bound:
        if p.is_bound and not m.is_bound:
            return Estimate(math.nan, p.low / m.high if m.high > 0 else 0.0, math.inf, level,
                            "bound: ratio >= (predicted lower bound) / (measured upper limit)")
        if m.is_bound and not p.is_bound and m.low > 0:
            return Estimate(math.nan, 0.0, p.high / m.low, level,
                            "bound: ratio <= (predicted upper limit) / (measured lower bound)")
        return Estimate(math.nan, 0.0, math.inf, level, "ratio (both sides bounds: no ratio)")
    if not (math.isfinite(m.value) and m.value > 0):
        return Estimate(math.nan, math.nan, math.nan, level,
                        f"no ratio: the measured mean is {m.value!r} ({m.method})")
    if not math.isfinite(p.value) or p.value <= 0:
        return Estimate(p.value / m.value if m.value else math.nan, math.nan, math.nan, level,
                        "ratio (censored: no CI)")
    z = float(stats.norm.ppf(0.5 + level / 2))
    s = math.hypot(float(log_se(p.value, p.low, p.high, level)),
                   float(log_se(m.value, m.low, m.high, level)))
    r = p.value / m.value
    if not math.isfinite(s):
        return Estimate(r, math.nan, math.nan, level, "ratio")
    return Estimate(r, r * math.exp(-z * s), r * math.exp(z * s), level,
                    "ratio, log-normal CI from both CIs")


def ratio_text(e: Estimate) -> str:
    """A ratio with its CI; a ratio with a bounded side as "<= x" / ">= x" (no number)."""
    if not math.isfinite(e.value):
        if e.value == e.value:
            return "inf"
        if e.method.startswith("bound") and math.isfinite(e.high) and e.low == 0:
            return f"<= {_fmt(e.high, '.2g')}"
        if e.method.startswith("bound") and e.low > 0:
            return f">= {_fmt(e.low, '.2g')}"
        return "n/a"
    if not math.isfinite(e.low):
        return _fmt(e.value)
    return f"{_fmt(e.value, '.2g')} [{_fmt(e.low, '.2g')}, {_fmt(e.high, '.2g')}]"


def _estimate(e: dict | None) -> Estimate | None:
    """An :class:`Estimate` from its JSON form (:func:`plain`; non-finite as strings)."""
    if e is None:
        return None
    f = [math.inf if e[k] is None else float(e[k]) for k in ("value", "low", "high")]
    return Estimate(*f, float(e["level"]), e["method"])


def stability_from_json(d: dict) -> dict:
    """A cell's stability as stored (JSON) -> the dict of :func:`cell_stability`."""
    est = _estimate

    out = {"lambda_1": est(d["lambda_1"]), "alpha_K": est(d.get("alpha_K")),
           "regime": d["regime"], "wall_time_s": d.get("wall_time_s")}
    if "lambda_1_reachable" in d:
        out.update(lambda_1_reachable=est(d["lambda_1_reachable"]),
                   alpha_K_reachable=est(d.get("alpha_K_reachable")),
                   regime_full=d["regime_full"], reachable_dim=d["reachable_dim"],
                   reachable_invariance_error=d.get("reachable_invariance_error"))
    return out


def plain(obj):
    """``obj`` with every :class:`Estimate` as a dict (for JSON)."""
    if isinstance(obj, Estimate):
        return {"value": obj.value, "low": obj.low, "high": obj.high, "level": obj.level,
                "method": obj.method}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj
