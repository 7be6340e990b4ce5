"""Real escape experiments: SGD started at a minimum w*, many seeds at once, until it leaves.

Protocol (paper 004, Sec. 5 "Escape time" / "Probability of escaping after time u";
Nguyen et al. 2019's exit-time experiments):

1. ``find_minimum``: from trained weights, minimise the full-batch objective
   ``U(w) = CE_train(w) + (weight_decay / 2) ||w||^2`` with L-BFGS (float64) to a
   minimum ``w*``. The L2 term gives an isolated attractor (cross-entropy alone has none
   on separable data); with ReLU networks the minimum may sit on a kink, so the final
   ``||grad U(w*)||`` is reported, not assumed to vanish.
2. ``run_escape``: ``S`` replicas ("seeds") start at ``w*`` and run plain SGD
   ``w_{k+1} = w_k - lr (g_k + weight_decay w_k)`` with i.i.d. minibatches of
   ``batch_size`` drawn *with replacement* (the sampling under which the noise profile is
   measured, ``nn_bridge.noise.per_sample`` ``"iid"``). Replica ``i`` draws from its own numpy stream
   seeded by ``(seed, i)``, so its path does not depend on ``S`` or on which other
   replicas are still running. All replicas advance together: stacked weights ``W``
   ``(S, P)``, gradients by ``torch.func.vmap(grad(loss))`` over ``(W, X[idx], y[idx])``;
   replicas that are done are dropped from the stack.
3. Exit criteria, both recorded on the same trajectories:

   - **distance**: the first iteration ``k`` with ``||w_k - w*||_2 > radius`` (checked
     every iteration) -- the ball exit set of ``levydyn.model.domains.Ball``; the exit
     coordinate is the one with the largest ``|w_k - w*|`` (levydyn's exit axis), its
     layer is the "exit layer", and each layer's share of ``||w_k - w*||^2`` is kept;
   - **loss**: the first checked iteration with ``U(w_k) - U(w*) > loss_rise`` (the
     full objective on the whole training set, evaluated every ``loss_every`` iterations,
     so this time is resolved to ``loss_every``).

   A replica runs until both criteria fired or ``max_iter``; a criterion that has not
   fired by then is censored at ``max_iter`` (never dropped).

Time: iterations ``k``; in the SDE picture ``t = k * lr`` (one SGD step is ``dt = lr``).

The same machinery runs a *linear model with injected SaS noise*
(:class:`InjectedNoiseGradient`): full-batch gradient plus ``sigma_i Z_i``,
``Z_i ~ SaS(alpha_i)``. There SGD is exactly levydyn's Euler scheme with ``dt = lr`` and
``eps_i = lr^(1 - 1/alpha_i) sigma_i`` (:mod:`nn_bridge.escape.bridge`), which the tests use to
check the iteration <-> SDE-time conversion end to end.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import grad, vmap

from levydyn.censoring import weibull_shape
from levydyn.results import Estimate, EscapeResult, SurvivalCurve, wilson
from nn_bridge.data.datasets import Dataset
from nn_bridge.data.flat import FlatModel, check_finite_vector, positive, positive_int

__all__ = ["MINIMUM_EVALS", "Minimum", "find_minimum", "EscapeConfig", "NetworkEscape",
           "MinibatchGradient", "InjectedNoiseGradient", "run_escape", "run_escape_loop",
           "replica_rng", "distance_profile", "CRITERIA"]

CRITERIA = ("distance", "loss")
#: find_minimum's default budget of objective + gradient evaluations, and its tolerance on
#: ``||grad U||`` (StudyConfig.minimum_evals, ``--minimum-evals``).
MINIMUM_EVALS = 4000
MINIMUM_GRAD_TOL = 1e-7
#: SGD steps whose randomness a replica draws at once (fixed: it fixes the streams).
BLOCK = 32


# --------------------------------------------------------------------------- minimum
@dataclass(frozen=True)
class Minimum:
    """A minimum ``w*`` of ``U(w) = CE(w) + (weight_decay/2) ||w||^2`` on the training set.

    ``max_evals`` and ``grad_tol``: the L-BFGS budget and tolerance it was searched with
    (:func:`find_minimum`); :attr:`stopped` says which ended the search.
    """

    w: np.ndarray
    objective: float
    loss: float
    grad_norm: float
    train_acc: float
    weight_decay: float
    n_evals: int
    max_evals: int = MINIMUM_EVALS
    grad_tol: float = MINIMUM_GRAD_TOL

    @property
    def stopped(self) -> str:
        """Why the search ended: ``"gradient tolerance"`` (``||grad U|| <= grad_tol``),
        ``"evaluation budget"`` (``max_evals`` objective evaluations used with the gradient
        still above ``grad_tol``) or ``"no progress"`` (L-BFGS stopped before either,
        typically stalled on a ReLU or max-pool kink; also when its own test, the largest
        ``|dU/dw_i| <= grad_tol``, ended it with the norm still above)."""
        if self.grad_norm <= self.grad_tol:
            return "gradient tolerance"
        return "evaluation budget" if self.n_evals >= self.max_evals else "no progress"

    @property
    def budget_exhausted(self) -> bool:
        return self.stopped == "evaluation budget"

    def summary(self) -> dict:
        return {"objective": self.objective, "loss": self.loss, "grad_norm": self.grad_norm,
                "train_acc": self.train_acc, "weight_decay": self.weight_decay,
                "w_norm": float(np.linalg.norm(self.w)), "n_params": int(self.w.size),
                "n_evals": self.n_evals, "max_evals": self.max_evals, "grad_tol": self.grad_tol,
                "stopped": self.stopped}

    @classmethod
    def from_summary(cls, w: np.ndarray, d: dict) -> "Minimum":
        """The minimum of a stored :meth:`summary` (derived entries ignored; a summary
        written before the budget was recorded had the defaults)."""
        names = {f.name for f in fields(cls)} - {"w"}
        return cls(w=w, **{k: v for k, v in d.items() if k in names})

    def search(self) -> str:
        """How the search went, e.g. ``L-BFGS 945 of 4000 evaluations, stopped by no progress``."""
        return f"L-BFGS {self.n_evals} of {self.max_evals} evaluations, stopped by {self.stopped}"

    def budget_line(self) -> str | None:
        """One line when the evaluation budget ended the search, else None."""
        if not self.budget_exhausted:
            return None
        return (f"find_minimum used its whole budget of {self.max_evals} evaluations with "
                f"||grad U|| = {self.grad_norm:.3g} above grad_tol = {self.grad_tol:g}: w* is "
                "the last L-BFGS iterate (raise minimum_evals / --minimum-evals to search on)")


def find_minimum(model: nn.Module, data: Dataset, weight_decay: float = 1e-2, *,
                 max_evals: int = MINIMUM_EVALS, grad_tol: float = MINIMUM_GRAD_TOL,
                 loss_fn=nn.functional.cross_entropy) -> Minimum:
    """L-BFGS (float64, full batch, strong-Wolfe line search) on ``U`` from ``model``'s weights.

    Stops when the gradient is below ``grad_tol`` (torch's L-BFGS tests the largest
    ``|dU/dw_i|``), when L-BFGS makes no more progress (ReLU kinks: the reported
    ``grad_norm`` then stays above ``grad_tol``) or when ``max_evals`` evaluations of ``U``
    and its gradient are used (the budget holds over L-BFGS's restarts; torch caps each
    line search by what is left, so a run ends at most one evaluation past it).
    Each evaluation is one full-batch forward and backward pass in float64, so the budget
    bounds the time: ``max_evals`` times one evaluation (:attr:`Minimum.stopped` says which
    rule ended it). ``model`` is not modified. ``loss_fn``: the data loss (a
    :class:`~nn_bridge.data.network.Network`'s); the accuracy is reported for
    classification data only (nan otherwise).
    """
    wd = positive("weight_decay", weight_decay, allow_zero=True)
    max_evals = positive_int("max_evals", max_evals)
    grad_tol = positive("grad_tol", grad_tol, allow_zero=True)
    net = copy.deepcopy(model).to("cpu", torch.float64)
    flat = FlatModel(net, loss_fn)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    y = y.double() if y.is_floating_point() else y
    w = flat.flat().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=max_evals, max_eval=max_evals,
                            tolerance_grad=grad_tol, tolerance_change=1e-16, history_size=50,
                            line_search_fn="strong_wolfe")
    n_evals = 0

    def closure():
        nonlocal n_evals
        n_evals += 1
        opt.zero_grad()
        obj = flat.objective(w, X, y, wd)
        obj.backward()
        return obj

    for _ in range(20):
        before = n_evals
        opt.param_groups[0]["max_eval"] = max_evals - n_evals     # what is left of the budget
        opt.step(closure)
        if n_evals - before <= 2 or n_evals >= max_evals:
            break
    w = w.detach()
    wg = w.clone().requires_grad_(True)
    obj = flat.objective(wg, X, y, wd)
    (g,) = torch.autograd.grad(obj, wg)
    obj = obj.detach()
    with torch.no_grad():
        logits = flat.logits(w, X)
        loss = float(flat.loss_fn(logits, y))
        acc = float((logits.argmax(1) == y).double().mean()) \
            if getattr(data, "task", "classification") == "classification" else float("nan")
    if not math.isfinite(float(obj)):
        raise FloatingPointError("find_minimum: the objective became non-finite")
    return Minimum(w=w.numpy().copy(), objective=float(obj), loss=loss,
                   grad_norm=float(g.norm()), train_acc=acc, weight_decay=wd, n_evals=n_evals,
                   max_evals=max_evals, grad_tol=grad_tol)


# --------------------------------------------------------------------------- streams
def replica_rng(seed: int, replica: int) -> np.random.Generator:
    """Replica ``replica``'s own stream under ``seed`` (numpy SeedSequence ``[seed, replica]``)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(replica)]))


# --------------------------------------------------------------------------- oracles
class MinibatchGradient:
    """Stochastic gradients of a network: i.i.d. minibatches (with replacement) of ``batch_size``.

    ``g = grad CE(w; minibatch) + weight_decay * w``. ``gradients`` is vectorised over
    replicas with ``torch.func``; ``gradient_one`` is the plain ``nn.Module`` forward /
    backward used by :func:`run_escape_loop` as an independent reference.
    """

    def __init__(self, flat: FlatModel, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                 weight_decay: float = 0.0):
        self.flat = flat
        self.X, self.y = X, y
        self.n = int(X.shape[0])
        self.batch_size = positive_int("batch_size", batch_size)
        self.weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
        self._g = vmap(grad(flat.loss))
        self._loss = vmap(flat.loss, in_dims=(0, None, None))

    n_params = property(lambda self: self.flat.n_params)
    dtype = property(lambda self: next(self.flat.model.parameters()).dtype)
    device = property(lambda self: self.X.device)

    def layers(self) -> tuple[np.ndarray, list[str]]:
        """Per coordinate its layer index, and the layer names."""
        return self.flat.layer_of(), self.flat.layer_names()

    def draw(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        """Minibatch indices of ``n_steps`` steps, ``(n_steps, batch_size)``."""
        return rng.integers(0, self.n, size=(n_steps, self.batch_size))

    def gradients(self, W: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        idx = draws.to(self.X.device)
        return self._g(W, self.X[idx], self.y[idx]) + self.weight_decay * W

    def gradient_one(self, w: torch.Tensor, draw) -> torch.Tensor:
        net = self.flat.load(w)
        net.zero_grad(set_to_none=True)
        idx = torch.as_tensor(draw)
        self.flat.loss_fn(net(self.X[idx]), self.y[idx]).backward()
        g = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        net.zero_grad(set_to_none=True)
        return g + self.weight_decay * w

    def objective(self, W: torch.Tensor, chunk: int = 128) -> torch.Tensor:
        """``U(w)`` on the whole training set for each row of ``W``."""
        out = [self._loss(W[i:i + chunk], self.X, self.y) for i in range(0, W.shape[0], chunk)]
        return torch.cat(out) + 0.5 * self.weight_decay * (W * W).sum(1)


def sas_numpy(rng: np.random.Generator, alpha: np.ndarray, shape: tuple) -> np.ndarray:
    """SaS(1) draws (``E exp(iwZ) = exp(-|w|^alpha)``), Chambers-Mallows-Stuck, per-column alpha."""
    V = rng.uniform(-0.5 * math.pi, 0.5 * math.pi, size=shape)
    Wexp = rng.exponential(size=shape)
    a = np.broadcast_to(alpha, shape)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        z = np.sin(a * V) / np.cos(V) ** (1.0 / a) * (np.cos((1.0 - a) * V) / Wexp) ** ((1.0 - a) / a)
        cauchy = np.tan(V)
    return np.where(a == 1.0, cauchy, z)


class InjectedNoiseGradient:
    """Full-batch gradient of ``flat``'s loss plus injected SaS noise ``sigma_i Z_i``.

    ``g = grad loss(w; all data) + weight_decay * w + sigma * Z``, ``Z_i ~ SaS(alpha_i)``
    (SaS(1) normalisation). With a linear model and squared loss, ``grad loss`` is linear:
    SGD is then exactly an Euler scheme of ``dX = -H (X - w*) dt + eps dL`` with
    ``dt = lr`` and ``eps_i = lr^(1 - 1/alpha_i) sigma_i``.
    """

    def __init__(self, flat: FlatModel, X: torch.Tensor, y: torch.Tensor, alpha, sigma,
                 weight_decay: float = 0.0):
        P = flat.n_params
        self.flat = flat
        self.X, self.y = X, y
        self.alpha = check_finite_vector("alpha", np.broadcast_to(alpha, (P,)), P)
        if np.any((self.alpha <= 0) | (self.alpha > 2)):
            raise ValueError(f"alpha: values must lie in (0, 2], got {self.alpha.min()}..{self.alpha.max()}")
        self.sigma = check_finite_vector("sigma", np.broadcast_to(sigma, (P,)), P)
        if np.any(self.sigma < 0):
            raise ValueError("sigma: values must be >= 0")
        self.weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
        self._g = vmap(grad(flat.loss), in_dims=(0, None, None))
        self._loss = vmap(flat.loss, in_dims=(0, None, None))

    n_params = property(lambda self: self.flat.n_params)
    dtype = property(lambda self: next(self.flat.model.parameters()).dtype)
    device = property(lambda self: self.X.device)

    def layers(self) -> tuple[np.ndarray, list[str]]:
        return self.flat.layer_of(), self.flat.layer_names()

    def draw(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        return sas_numpy(rng, self.alpha, (n_steps, self.n_params)) * self.sigma

    def gradients(self, W: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        return self._g(W, self.X, self.y) + self.weight_decay * W + draws.to(W)

    def gradient_one(self, w: torch.Tensor, draw) -> torch.Tensor:
        net = self.flat.load(w)
        net.zero_grad(set_to_none=True)
        self.flat.loss_fn(net(self.X), self.y).backward()
        g = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        net.zero_grad(set_to_none=True)
        return g + self.weight_decay * w + torch.as_tensor(draw).to(w)

    def objective(self, W: torch.Tensor) -> torch.Tensor:
        return self._loss(W, self.X, self.y) + 0.5 * self.weight_decay * (W * W).sum(1)


# --------------------------------------------------------------------------- config/result
@dataclass(frozen=True)
class EscapeConfig:
    """One escape experiment (module docstring).

    lr, batch_size : the SGD of the escape phase.
    n_seeds : replicas ``S`` (paper 004: 100 for mean times, 1000 for survival curves).
    radius : distance criterion ``||w - w*|| > radius``.
    loss_rise : loss criterion ``U(w) - U(w*) > loss_rise``; ``None`` disables it.
    loss_every : iterations between loss checks.
    max_iter : censoring horizon (iterations).
    seed : replica ``i`` uses the stream ``(seed, i)``.
    """

    lr: float
    batch_size: int
    n_seeds: int = 200
    radius: float = 1.0
    loss_rise: float | None = None
    loss_every: int = 10
    max_iter: int = 5000
    seed: int = 0

    def __post_init__(self):
        positive("lr", self.lr)
        positive_int("batch_size", self.batch_size)
        positive_int("n_seeds", self.n_seeds)
        positive("radius", self.radius)
        if self.loss_rise is not None:
            positive("loss_rise", self.loss_rise)
        positive_int("loss_every", self.loss_every)
        positive_int("max_iter", self.max_iter)
        positive_int("seed", self.seed, 0)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("lr", "batch_size", "n_seeds", "radius",
                                              "loss_rise", "loss_every", "max_iter", "seed")}


class _Described:
    """Stand-in ``problem`` for a levydyn ``EscapeResult`` built from a network experiment."""

    def __init__(self, d: dict):
        self._d = d

    def describe(self) -> dict:
        return dict(self._d)


@dataclass
class NetworkEscape:
    """Escape iterations of ``n_seeds`` SGD replicas from ``w*`` (both criteria).

    ``dist_iter[i]``: iteration of the distance exit (``max_iter`` if censored,
    ``dist_exited[i] = False``); ``loss_iter``/``loss_exited`` likewise (``None`` when
    the loss criterion is off). ``exit_param[i]``: flat index of the largest
    displacement at the distance exit (-1 if censored); ``exit_layer`` its layer index
    in ``layer_names``; ``layer_share[i, l]``: layer ``l``'s share of
    ``||w - w*||^2`` at the exit (NaN if censored).
    """

    config: EscapeConfig
    dist_iter: np.ndarray
    dist_exited: np.ndarray
    exit_param: np.ndarray
    exit_layer: np.ndarray
    layer_share: np.ndarray
    layer_names: list[str]
    loss_iter: np.ndarray | None = None
    loss_exited: np.ndarray | None = None
    final_w: np.ndarray | None = field(default=None, repr=False)
    wall_time: float = 0.0

    @property
    def n_seeds(self) -> int:
        return int(self.dist_iter.size)

    def _pick(self, criterion: str) -> tuple[np.ndarray, np.ndarray]:
        if criterion not in CRITERIA:
            raise ValueError(f"criterion={criterion!r}: must be one of {', '.join(CRITERIA)}")
        if criterion == "loss":
            if self.loss_iter is None:
                raise ValueError("criterion='loss': the loss criterion was off (loss_rise=None)")
            return self.loss_iter, self.loss_exited
        return self.dist_iter, self.dist_exited

    def escape_result(self, criterion: str = "distance", sde_time: bool = False) -> EscapeResult:
        """The exits as a levydyn ``EscapeResult`` (CIs, censoring, survival) in iterations
        (``sde_time=True``: in SDE time ``t = iterations * lr``)."""
        it, ex = self._pick(criterion)
        dt = self.config.lr if sde_time else 1.0
        n = it.size
        axis = np.where(ex, self.exit_layer, -1) if criterion == "distance" else np.full(n, -1)
        return EscapeResult(
            problem=_Described({"experiment": "network SGD escape", "criterion": criterion,
                                **self.config.to_dict()}),
            times=it.astype(float) * dt, exited=ex.copy(), axis=axis,
            side=np.where(ex, 1, 0), points=np.zeros((n, 1)), dt=dt,
            t_max=self.config.max_iter * dt, seed=self.config.seed, method="sgd",
            wall_time=self.wall_time)

    def mean_iterations(self, criterion: str = "distance", level: float = 0.95) -> Estimate:
        """Mean escape iteration with CI (t interval, or exponential MLE under censoring)."""
        return self.escape_result(criterion).mean_exit_time(level)

    def survival(self, t=None, criterion: str = "distance", level: float = 0.95) -> SurvivalCurve:
        """``P(escape iteration > t)`` with Wilson bands (paper 004, Fig. 4)."""
        return self.escape_result(criterion).survival(t, level)

    def layer_probability(self, level: float = 0.95) -> dict[str, Estimate]:
        """P(exit layer = l) among distance exits (largest-displacement coordinate), Wilson."""
        n = int(self.dist_exited.sum())
        return {name: wilson(int(((self.exit_layer == k) & self.dist_exited).sum()), n, level)
                for k, name in enumerate(self.layer_names)}

    def mean_layer_share(self) -> dict[str, float]:
        """Mean share of ``||w - w*||^2`` carried by each layer at the distance exit."""
        sh = self.layer_share[self.dist_exited]
        ok = np.isfinite(sh).all(axis=1)
        sh = sh[ok]
        return {name: float(sh[:, k].mean()) if sh.shape[0] else float("nan")
                for k, name in enumerate(self.layer_names)}

    def hazard_shape(self, level: float = 0.95) -> Estimate:
        """Weibull shape of the distance escapes (:func:`levydyn.censoring.weibull_shape`):
        1 for a memoryless (rare-event) escape, >> 1 for exits concentrated at one time."""
        return weibull_shape(self.dist_iter, self.dist_exited, level)

    def summary(self, level: float = 0.95) -> dict:
        d = {"config": self.config.to_dict(), "n_seeds": self.n_seeds,
             "wall_time_s": self.wall_time,
             "distance": {"mean_iterations": self.mean_iterations("distance", level),
                          "censored_fraction": 1.0 - float(self.dist_exited.mean()),
                          "median_iterations": self.escape_result("distance").median_exit_time(),
                          "hazard_shape": self.hazard_shape(level),
                          "exit_layer": self.layer_probability(level),
                          "layer_share": self.mean_layer_share()}}
        if self.loss_iter is not None:
            d["loss"] = {"mean_iterations": self.mean_iterations("loss", level),
                         "censored_fraction": 1.0 - float(self.loss_exited.mean()),
                         "median_iterations": self.escape_result("loss").median_exit_time()}
        return d


# --------------------------------------------------------------------------- runners
def _check_start(oracle, w_star) -> np.ndarray:
    return check_finite_vector("w_star", w_star, oracle.n_params)


def run_escape(oracle, w_star, config: EscapeConfig, *, layer_of: np.ndarray | None = None,
               layer_names: list[str] | None = None, keep_final: bool = False,
               progress: Callable[[int, int], None] | None = None) -> NetworkEscape:
    """Run ``config.n_seeds`` SGD replicas from ``w_star`` together (module docstring).

    Parameters
    ----------
    oracle : :class:`MinibatchGradient` (a network), :class:`InjectedNoiseGradient` or
        ``nn_bridge.curvature.linearized.LinearizedGradient``: anything with ``n_params``, ``dtype``,
        ``device``, ``layers()``, ``draw(rng, n_steps)``, ``gradients(W, draws)`` and
        ``objective(W)`` (``gradient_one(w, draw)`` for the loop).
    w_star : the start and centre of the exit ball (a minimum, flat vector).
    layer_of : per coordinate, its layer index (default: the oracle's model layers).
    keep_final : keep every replica's last weights (tests compare them with the loop).
    progress : called as ``progress(iteration, n_running)`` after each block of steps.
    """
    cfg = config
    ws = _check_start(oracle, w_star)
    if layer_of is None:
        layer_of, layer_names = oracle.layers()
    layer_of = np.asarray(layer_of)
    n_layers = len(layer_names)
    S = cfg.n_seeds
    dtype, dev = oracle.dtype, oracle.device
    wst = torch.as_tensor(ws, dtype=dtype, device=dev)
    lay = torch.as_tensor(layer_of, device=dev)
    r2 = cfg.radius ** 2
    use_loss = cfg.loss_rise is not None
    u0 = float(oracle.objective(wst[None])[0]) if use_loss else 0.0

    dist_iter = np.full(S, cfg.max_iter, dtype=np.int64)
    dist_ex = np.zeros(S, dtype=bool)
    loss_iter = np.full(S, cfg.max_iter, dtype=np.int64)
    loss_ex = np.zeros(S, dtype=bool)
    exit_param = np.full(S, -1, dtype=np.int64)
    share = np.full((S, n_layers), np.nan)
    final = np.tile(ws, (S, 1)) if keep_final else None

    rngs = [replica_rng(cfg.seed, i) for i in range(S)]
    active = np.arange(S)
    W = wst.repeat(S, 1)
    k = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        while active.size and k < cfg.max_iter:
            steps = min(BLOCK, cfg.max_iter - k)
            draws = torch.as_tensor(np.stack([oracle.draw(rngs[i], BLOCK) for i in active]))
            # Per active row: left the ball already / finished (frozen from then on). Kept
            # as tensors and touched only when a row exits, so a step with no exit costs
            # the gradient, the update, the distance and one check.
            left = torch.as_tensor(dist_ex[active], device=dev)
            done = torch.zeros(active.size, dtype=torch.bool, device=dev)
            any_done = False
            for j in range(steps):
                G = oracle.gradients(W, draws[:, j])
                W = torch.where(done[:, None], W, W - cfg.lr * G) if any_done else W - cfg.lr * G
                k += 1
                D = W - wst
                d2 = (D * D).sum(1)
                # ~(d2 <= r2) is true past the radius and where d2 is inf or nan
                changed = bool((~(d2 <= r2) & ~left).any())
                if changed:
                    _record_distance_exits(D, d2, r2, left, done, active, k, dist_iter, dist_ex,
                                           exit_param, share, lay, n_layers)
                if use_loss and k % cfg.loss_every == 0:
                    pend = ~torch.as_tensor(loss_ex[active], device=dev) & ~done
                    if bool(pend.any()):
                        rows = torch.nonzero(pend).reshape(-1)
                        rise = oracle.objective(W[rows]) - u0
                        hit = rows[(rise > cfg.loss_rise) | ~torch.isfinite(rise)]
                        if hit.numel():
                            ids = active[hit.cpu().numpy()]
                            loss_iter[ids] = k
                            loss_ex[ids] = True
                            changed = True
                if changed:
                    left = torch.as_tensor(dist_ex[active], device=dev)
                    done = done | torch.as_tensor(dist_ex[active] & (loss_ex[active] | (not use_loss)),
                                                  device=dev)
                    any_done = bool(done.any())
                    if bool(done.all()):
                        break
            keep = (~done).cpu().numpy()
            if keep_final:          # finished rows are frozen; record them before dropping
                gone = ~keep if k < cfg.max_iter else np.ones_like(keep)
                final[active[gone]] = W[torch.as_tensor(gone)].cpu().numpy()
            active, W = active[keep], W[torch.as_tensor(keep)]
            if progress is not None:
                progress(k, int(active.size))
    exit_layer = np.where(exit_param >= 0, layer_of[np.maximum(exit_param, 0)], -1)
    return NetworkEscape(config=cfg, dist_iter=dist_iter, dist_exited=dist_ex,
                         exit_param=exit_param, exit_layer=exit_layer, layer_share=share,
                         layer_names=list(layer_names),
                         loss_iter=loss_iter if use_loss else None,
                         loss_exited=loss_ex if use_loss else None, final_w=final,
                         wall_time=time.perf_counter() - t0)


def distance_profile(oracle, w_star, lr: float, n_seeds: int, n_steps: int, *, seed: int = 0,
                     points: int = 24, at=None) -> dict[str, np.ndarray]:
    """Quantiles of ``||w_k - w*||`` over ``n_seeds`` SGD replicas run with no exit ball.

    The replicas are :func:`run_escape`'s (streams ``replica_rng(seed, i)``, minibatches drawn
    ``BLOCK`` steps at a time), so up to its exit each path is the escape experiment's path;
    here none stops. At ``points`` iterations ``k`` (log-spaced from 1 to ``n_steps``; or the
    increasing iterations ``at``) it records the 10 / 50 / 90 % quantiles of the distance
    (``inf`` for a diverged replica).

    What it tells: a median that rises steadily through the radius ``R`` near the mean
    escape time says the exits are a transport (every path drifts out together: escape
    times concentrated, Weibull shape >> 1); a median that levels off below ``R`` says the
    exits are excursions out of a stationary cloud (a rare event: memoryless, shape ~ 1).
    """
    ws = _check_start(oracle, w_star)
    S, n_steps = positive_int("n_seeds", n_seeds), positive_int("n_steps", n_steps)
    lr = positive("lr", lr)
    if at is None:
        marks = np.unique(np.round(np.geomspace(1, n_steps, positive_int("points", points, 2)))
                          ).astype(np.int64)
    else:
        marks = np.asarray(at, dtype=np.int64)
        if marks.ndim != 1 or not marks.size or np.any(np.diff(marks) <= 0) \
                or not 1 <= marks[0] <= marks[-1] <= n_steps:
            raise ValueError(f"at: need increasing iterations in [1, n_steps={n_steps}], got "
                             f"{np.asarray(at).ravel()[:4]}")
    wst = torch.as_tensor(ws, dtype=oracle.dtype, device=oracle.device)
    W = wst.repeat(S, 1)
    rngs = [replica_rng(seed, i) for i in range(S)]
    q = np.full((marks.size, 3), np.nan)
    k, m = 0, 0
    with torch.no_grad():
        while k < n_steps:
            draws = torch.as_tensor(np.stack([oracle.draw(r, BLOCK) for r in rngs]))
            for j in range(min(BLOCK, n_steps - k)):
                W = W - lr * oracle.gradients(W, draws[:, j])
                k += 1
                if m < marks.size and k == marks[m]:
                    d = torch.linalg.vector_norm(W - wst, dim=1).cpu().numpy()
                    q[m] = np.quantile(np.where(np.isfinite(d), d, np.inf), [0.1, 0.5, 0.9],
                                       method="inverted_cdf")
                    m += 1
    return {"k": marks, "q10": q[:, 0], "q50": q[:, 1], "q90": q[:, 2]}


def _record_distance_exits(D, d2, r2, left, done, active, k, dist_iter, dist_ex, exit_param,
                           share, lay, n_layers) -> None:
    """Record the rows of this step that first pass the radius (or diverge), in place.

    A row past ``r2`` gets its exit iteration, the coordinate of largest ``|w - w*|`` and
    each layer's share of ``||w - w*||^2``; a row whose ``d2`` is not finite (diverged)
    counts as a distance exit at this step; one with ``d2 = inf`` also gets the shares.
    """
    new = (d2 > r2) & ~left & ~done
    if bool(new.any()):
        rows = torch.nonzero(new).reshape(-1)
        Dn = D[rows]
        ids = active[rows.cpu().numpy()]
        dist_iter[ids] = k
        dist_ex[ids] = True
        exit_param[ids] = Dn.abs().argmax(1).cpu().numpy()
        e = torch.zeros(rows.numel(), n_layers, dtype=D.dtype, device=D.device)
        e.index_add_(1, lay, Dn * Dn)
        share[ids] = (e / e.sum(1, keepdim=True)).cpu().numpy()
    bad = ~torch.isfinite(d2) & ~left
    if bool(bad.any()):    # diverged: counts as a distance exit at this step
        ids = active[bad.cpu().numpy()]
        ids = ids[~dist_ex[ids]]
        dist_iter[ids], dist_ex[ids] = k, True


def run_escape_loop(oracle, w_star, config: EscapeConfig) -> NetworkEscape:
    """Reference: a plain Python loop over replicas and iterations, one ``nn.Module``
    forward/backward per step (``oracle.gradient_one``), same per-replica streams.
    Slow; tests check that :func:`run_escape` reproduces it."""
    cfg = config
    ws = _check_start(oracle, w_star)
    layer_of, names = oracle.layers()
    wst = torch.as_tensor(ws, dtype=oracle.dtype)
    S = cfg.n_seeds
    use_loss = cfg.loss_rise is not None
    u0 = float(oracle.objective(wst[None])[0]) if use_loss else 0.0
    dist_iter = np.full(S, cfg.max_iter, dtype=np.int64)
    dist_ex = np.zeros(S, dtype=bool)
    loss_iter = np.full(S, cfg.max_iter, dtype=np.int64)
    loss_ex = np.zeros(S, dtype=bool)
    exit_param = np.full(S, -1, dtype=np.int64)
    share = np.full((S, len(names)), np.nan)
    final = np.empty((S, ws.size))
    for i in range(S):
        rng = replica_rng(cfg.seed, i)
        w = wst.clone()
        block = None
        for k in range(cfg.max_iter):
            if k % BLOCK == 0:
                block = oracle.draw(rng, BLOCK)
            w = w - cfg.lr * oracle.gradient_one(w, block[k % BLOCK]).detach()
            d = (w - wst).numpy()
            if not dist_ex[i] and (float(d @ d) > cfg.radius ** 2 or not np.isfinite(d @ d)):
                dist_iter[i], dist_ex[i] = k + 1, True
                exit_param[i] = int(np.abs(d).argmax())
                share[i] = np.bincount(layer_of, weights=d * d, minlength=len(names)) / (d @ d)
            if use_loss and not loss_ex[i] and (k + 1) % cfg.loss_every == 0:
                rise = float(oracle.objective(w[None])[0]) - u0
                if not rise <= cfg.loss_rise:
                    loss_iter[i], loss_ex[i] = k + 1, True
            if dist_ex[i] and (loss_ex[i] or not use_loss):
                break
        final[i] = w.numpy()
    exit_layer = np.where(exit_param >= 0, layer_of[np.maximum(exit_param, 0)], -1)
    return NetworkEscape(config=cfg, dist_iter=dist_iter, dist_exited=dist_ex,
                         exit_param=exit_param, exit_layer=exit_layer, layer_share=share,
                         layer_names=names, loss_iter=loss_iter if use_loss else None,
                         loss_exited=loss_ex if use_loss else None, final_w=final)
