"""The minibatch-model recursion without stored factors: Gauss-Newton products on the fly.

The recursion of :mod:`nn_bridge.curvature.minibatch_model` (rung (f) of the study),

    x_{k+1} = x_k - lr (H_B x_k + u_B),     H_B = J_B^T Lambda_B J_B + wd I,
    u_B = grad L_B(w*) - grad L(w*),

with ``L_B(w) = l(f(X_B; w), y_B)`` the minibatch's mean loss, ``J_B = df(X_B; w*)/dw`` the
Jacobian of its outputs and ``Lambda_B = d^2 l / dz^2`` at ``z = f(X_B; w*)`` (Gauss-Newton,
Schraudolph 2002; ``J_B^T Lambda_B J_B = (1/B) sum_{n in B} F_n F_n^T`` with the per-sample
factors ``F_n`` of :func:`~nn_bridge.curvature.per_sample.per_sample_gn_factors`, the
shared remainder ``R`` left out as in the study's (f)). Each step needs one forward-mode
product ``J_B x`` (``torch.func.jvp``), one product with ``Lambda_B`` (``jvp`` of the loss's
gradient in the outputs) and one reverse-mode product (``vjp``) that returns
``grad L_B(w*) + J_B^T Lambda_B J_B x`` at once; the replicas are batched with ``vmap``.
Memory is ``O(S P + B C)`` per step instead of the ``N P (r + 1)`` numbers of the stored
factors and deviations (and the ``P^2`` of the dense Hessian the stored path also keeps).

``factor_bytes`` is what the stored path would hold; :func:`use_matrix_free` switches when
it exceeds ``memory_limit`` (default 2 GiB, ``levydyn nn stability --memory-limit``).

The top Lyapunov exponent (Furstenberg-Kesten; as :func:`levydyn.kesten.lyapunov_exponent`):
``lambda_1 = lim (1/k) log ||M_k ... M_1 v||``, ``M = I - lr H_B``, from renormalised
products over ``n_paths`` independent paths (after ``n_burn`` steps), mean with a t
interval over paths. Minibatches are i.i.d. uniform with replacement; path ``p`` draws from
the numpy stream ``(seed, p)``.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch.func import grad, jvp, vjp, vmap

from levydyn.results import Estimate, mean_with_ci
from nn_bridge.data.flat import FlatModel, check_finite_vector, positive, positive_int

__all__ = ["DEFAULT_MEMORY_LIMIT", "MatrixFreeRecursion", "factor_bytes", "use_matrix_free",
           "lyapunov_matrix_free", "stability_cell_matrix_free", "stability_diagram_matrix_free"]

#: Bytes above which the stored per-sample factors are replaced by on-the-fly products.
DEFAULT_MEMORY_LIMIT = 2 * 1024 ** 3


def factor_bytes(n_samples: int, n_params: int, rank: int) -> int:
    """float64 bytes of the stored path: factors ``N P r``, deviations ``N P``, dense
    Hessian ``P^2`` (:func:`nn_bridge.curvature.stability.measure_minibatch_model`)."""
    return 8 * (n_samples * n_params * (rank + 1) + n_params * n_params)


def use_matrix_free(n_samples: int, n_params: int, rank: int,
                    memory_limit: float = DEFAULT_MEMORY_LIMIT) -> bool:
    """``True`` when the stored path would need more than ``memory_limit`` bytes."""
    positive("memory_limit", memory_limit)
    return factor_bytes(n_samples, n_params, rank) > memory_limit


class MatrixFreeRecursion:
    """Gradient oracle of the recursion (module docstring) in ``x = w - w*`` for
    :func:`nn_bridge.escape.experiment.run_escape` (start at 0).

    Parameters
    ----------
    flat : the network as a function of its flat weights (its ``loss_fn`` is ``l``).
    X, y : training data (any device; computations follow ``X``'s device and ``dtype``).
    w_star : the minimum.
    batch_size : ``B``.
    weight_decay : ``wd``.
    chunk : samples per call when the full gradient ``grad L(w*)`` is computed.
    """

    def __init__(self, flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w_star,
                 batch_size: int, weight_decay: float, *, chunk: int = 512):
        P = flat.n_params
        dtype = next(flat.model.parameters()).dtype
        self.flat = flat
        self.X = X.to(dtype)
        self.y = y.to(dtype) if y.is_floating_point() else y
        self.n = int(X.shape[0])
        self.batch_size = positive_int("batch_size", batch_size)
        self.weight_decay = positive("weight_decay", weight_decay, allow_zero=True)
        self.w = torch.as_tensor(check_finite_vector("w_star", w_star, P), dtype=dtype,
                                 device=X.device)
        gsum = torch.zeros(P, dtype=dtype, device=X.device)
        for i in range(0, self.n, positive_int("chunk", chunk)):
            Xc, yc = self.X[i:i + chunk], self.y[i:i + chunk]
            gsum += grad(lambda w: flat.loss(w, Xc, yc))(self.w) * Xc.shape[0]
        self.gbar = gsum / self.n
        self._step = vmap(self._one, in_dims=(0, 0, 0, None))

    n_params = property(lambda self: int(self.w.numel()))
    dtype = property(lambda self: self.w.dtype)
    device = property(lambda self: self.w.device)

    def layers(self) -> tuple[np.ndarray, list[str]]:
        return self.flat.layer_of(), self.flat.layer_names()

    def draw(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        """Minibatch indices of ``n_steps`` steps, ``(n_steps, B)`` (with replacement)."""
        return rng.integers(0, self.n, size=(n_steps, self.batch_size))

    def _one(self, x, Xb, yb, with_noise: bool):
        """``H_B x + u_B`` (``with_noise``) or ``H_B x`` for one replica (module docstring)."""
        def outputs(w):
            return self.flat.logits(w, Xb)

        z, Jx = jvp(outputs, (self.w,), (x,))
        gz, Hz = jvp(grad(lambda zz: self.flat.loss_fn(zz, yb)), (z,), (Jx,))
        _, pull = vjp(outputs, self.w)
        if with_noise:
            (g,) = pull(gz + Hz)
            return g - self.gbar + self.weight_decay * x
        (g,) = pull(Hz)
        return g + self.weight_decay * x

    def gradients(self, W: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        """``H_B x + u_B`` for each row ``x`` of ``W`` with its minibatch ``draws`` row."""
        idx = draws.to(self.X.device)
        return self._step(W, self.X[idx], self.y[idx], True)

    def products(self, V: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        """``H_B v`` for each row (the linear part: Lyapunov exponent)."""
        idx = draws.to(self.X.device)
        return self._step(V, self.X[idx], self.y[idx], False)

    def gradient_one(self, w: torch.Tensor, draw) -> torch.Tensor:
        return self.gradients(w[None], torch.as_tensor(draw)[None])[0]

    def objective(self, W: torch.Tensor) -> torch.Tensor:
        """Not defined for the recursion (no loss criterion): NaN per replica."""
        return torch.full((W.shape[0],), float("nan"), dtype=W.dtype, device=W.device)


def lyapunov_matrix_free(rec: MatrixFreeRecursion, lr: float, *, n_paths: int = 16,
                         n_steps: int = 500, n_burn: int | None = None, seed: int = 0,
                         level: float = 0.95) -> Estimate:
    """Top Lyapunov exponent of ``prod (I - lr H_B)`` per iteration, matrix-free (module
    docstring); ``n_burn`` defaults to ``n_steps // 10``."""
    lr = positive("lr", lr)
    n_paths = positive_int("n_paths", n_paths, 2)
    n_steps = positive_int("n_steps", n_steps)
    n_burn = n_steps // 10 if n_burn is None else positive_int("n_burn", n_burn, 0)
    rngs = [np.random.default_rng(np.random.SeedSequence([int(seed), p])) for p in range(n_paths)]
    V = torch.as_tensor(np.stack([r.standard_normal(rec.n_params) for r in rngs]),
                        dtype=rec.dtype, device=rec.device)
    V = V / V.norm(dim=1, keepdim=True)
    acc = torch.zeros(n_paths, dtype=torch.float64, device=rec.device)
    for k in range(n_burn + n_steps):
        idx = torch.as_tensor(np.stack([r.integers(0, rec.n, rec.batch_size) for r in rngs]))
        V = V - lr * rec.products(V, idx)
        nrm = V.norm(dim=1, keepdim=True)
        if k >= n_burn:
            acc += nrm[:, 0].log().to(torch.float64)
        V = V / nrm
    est = mean_with_ci((acc / n_steps).cpu().numpy(), level)
    return Estimate(est.value, est.low, est.high, level,
                    f"matrix-free renormalised products (Gauss-Newton vector products), "
                    f"{n_paths} paths x {n_steps} steps (burn {n_burn}), t interval over paths")


def stability_cell_matrix_free(rec: MatrixFreeRecursion, lr: float, **kw) -> dict:
    """``lambda_1`` and the regime of one cell; ``alpha_K`` is not computed matrix-free
    (cloning needs many replicas per step: ``None``)."""
    t0 = time.perf_counter()
    lam = lyapunov_matrix_free(rec, lr, **kw)
    regime = "unstable" if lam.low > 0 else "stable" if lam.high < 0 else "marginal"
    return {"lambda_1": lam, "alpha_K": None, "regime": regime,
            "wall_time_s": time.perf_counter() - t0}



def stability_diagram_matrix_free(flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w_star,
                                  weight_decay: float, lrs, batch_sizes, *,
                                  log=lambda s: None, meta: dict | None = None, **kw):
    """:class:`~nn_bridge.curvature.stability.StabilityDiagram` over ``batch_sizes x lrs``
    from matrix-free products (``lambda_1`` and regime; ``kw`` go to
    :func:`lyapunov_matrix_free`)."""
    from nn_bridge.curvature.stability import StabilityDiagram

    t0 = time.perf_counter()
    cells = {}
    for B in batch_sizes:
        rec = MatrixFreeRecursion(flat, X, y, w_star, int(B), weight_decay)
        for lr in lrs:
            c = stability_cell_matrix_free(rec, float(lr), **kw)
            cells[(int(B), float(lr))] = c
            log(f"B={B} lr={lr:g}: lambda_1 = {c['lambda_1']} ({c['regime']}, matrix-free)  "
                f"[{c['wall_time_s']:.1f}s]")
    info = {"n_samples": int(X.shape[0]), "n_params": flat.n_params,
            "curvature": "Gauss-Newton vector products, matrix-free (no stored factors)",
            "weight_decay": weight_decay, **(meta or {})}
    return StabilityDiagram(tuple(float(v) for v in lrs), tuple(int(b) for b in batch_sizes),
                            cells, info, time.perf_counter() - t0)
