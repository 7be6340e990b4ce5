"""Curvature of the training objective at a minimum from Hessian-vector products.

``H = Hess U(w*)`` with ``U = CE_train + (weight_decay/2)||w||^2`` (``nn_bridge.data.flat``).
A product ``H v`` is ``torch.func.jvp`` of ``grad U`` (forward-over-reverse), one
data pass; no ``P x P`` matrix is needed unless asked for.

What is returned (:class:`Curvature`): the top-``k`` eigenpairs ``(lambda_j, v_j)``, the
diagonal ``diag H`` and the trace, and the reduced model used by the bridge

    H  ~=  V_k diag(lambda) V_k^T + diag(d),    d_i = max(H_ii - sum_j lambda_j v_ij^2, 0),

"top-k eigendirections plus a diagonal remainder": exact on the top eigenspace and on the
diagonal, it drops the off-diagonal part of the remainder (and clips negative remainder
diagonals, reported). Two ways:

- ``method="exact"`` (default when ``P <= exact_max``): all ``P`` products ``H e_i`` in
  chunks (``vmap`` over basis vectors), ``numpy.linalg.eigh``; the reduction error
  ``||H - H_k||_F / ||H||_F`` and the smallest eigenvalue are then exact;
- ``method="lanczos"``: ``scipy.sparse.linalg.eigsh`` (implicitly restarted Lanczos) on the
  product operator for the top ``k``, and Hutchinson's estimator
  ``diag H ~= mean_s z_s * (H z_s)`` (Rademacher ``z``, ``n_probe`` probes) for the
  diagonal; the reduction error is then not available (NaN).

Per-sample curvature (the multiplicative-noise model, :mod:`nn_bridge.curvature.minibatch_model`)
--------------------------------------------------------------------------------------
The minibatch Hessian of the data loss is ``H_B = (1/B) sum_{n in B} Hess l_n(w*)``. For the
softmax cross-entropy ``l_n = CE(z_n(w), y_n)`` with logits ``z_n`` (``C`` classes) and
``p_n = softmax(z_n)``, Gauss-Newton keeps the part of ``Hess l_n`` that comes through the
logits' first derivatives (Schraudolph 2002; Martens 2020, Sec. 8):

    Hess l_n = J_n^T Lambda_n J_n + sum_c (p_nc - 1[c = y_n]) Hess z_nc,
    Lambda_n = diag p_n - p_n p_n^T,       J_n = dz_n / dw   (C x P),

and ``J_n^T Lambda_n J_n = F_n F_n^T`` with the factor ``F_n = J_n^T Q_n diag(e_n)^(1/2)``
from the eigen-decomposition ``Lambda_n = Q_n diag(e_n) Q_n^T``. ``Lambda_n 1 = 0``, so one
eigenvalue is 0 and ``F_n`` keeps the ``C - 1`` others (:func:`per_sample_gn_factors`,
exact; ``C - 1 = 1`` column for two classes). Any other loss ``l(z, y)`` of ``C`` outputs
(mse, or the user's): ``Lambda_n = d^2 l(z_n, y_n) / dz^2`` (``C x C``, ``torch.func.hessian``
of one sample's loss in its outputs), ``F_n = J_n^T Q_n diag(e_n^+)^(1/2)`` with all ``C``
columns (negative eigenvalues, where a non-convex loss has them, clipped to 0: the
Gauss-Newton matrix is the PSD part); for ``mse`` over ``C`` outputs ``Lambda_n = (2/C) I``.
The second term (the logits' curvature
weighted by the residuals) is what Gauss-Newton drops; at a well-fitted minimum the
residuals are small but not zero. Its *mean* over the data is kept as a shared remainder
``R = Hess CE(w*) - (1/N) sum_n F_n F_n^T`` (dense, exact from :func:`exact_hessian`), so
``E H_B`` is exact and only the sample-to-sample spread of the residual term is lost.
:func:`factor_error` measures that loss against exact per-sample Hessian-vector products
(``torch.func``, :func:`minibatch_hvp`): the relative error of ``H_B v`` over random
directions ``v`` and random minibatches ``B``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, jacrev, jvp, vmap

from nn_bridge.data.flat import FlatModel, check_finite_vector, positive, positive_int

__all__ = ["Curvature", "hessian_curvature", "hvp_function", "METHODS", "exact_hessian",
           "curvature_from_dense", "per_sample_gn_factors", "output_hessians", "minibatch_hvp",
           "factor_error",
           "FactorError", "gn_mean"]

METHODS = ("auto", "exact", "lanczos")


@dataclass
class Curvature:
    """Top eigenpairs, diagonal and reduced model of ``Hess U(w*)`` (module docstring)."""

    eigvals: np.ndarray
    eigvecs: np.ndarray
    diag: np.ndarray
    trace: float
    method: str
    weight_decay: float
    frob_rel_error: float = float("nan")
    min_eig: float = float("nan")
    n_negative: int = -1

    @property
    def n_params(self) -> int:
        return int(self.diag.size)

    @property
    def k(self) -> int:
        return int(self.eigvals.size)

    def remainder_diag(self) -> tuple[np.ndarray, int]:
        """``d_i = H_ii - sum_j lambda_j v_ij^2`` clipped at 0, and how many were clipped."""
        d = self.diag - (self.eigvecs ** 2) @ self.eigvals
        return np.maximum(d, 0.0), int((d < 0).sum())

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """The reduced ``H x`` (rows of ``x`` are vectors)."""
        d, _ = self.remainder_diag()
        return x * d + ((x @ self.eigvecs) * self.eigvals) @ self.eigvecs.T

    def dense(self) -> np.ndarray:
        """The reduced ``H`` as a matrix."""
        d, _ = self.remainder_diag()
        return (self.eigvecs * self.eigvals) @ self.eigvecs.T + np.diag(d)

    def summary(self) -> dict:
        d, clipped = self.remainder_diag()
        return {"method": self.method, "n_params": self.n_params, "k": self.k,
                "top_eigvals": self.eigvals.tolist(), "trace": self.trace,
                "top_k_trace_share": float(self.eigvals.sum() / self.trace) if self.trace else None,
                "remainder_diag_median": float(np.median(d)), "remainder_clipped": clipped,
                "frob_rel_error": self.frob_rel_error, "min_eig": self.min_eig,
                "n_negative_eigs": self.n_negative, "weight_decay": self.weight_decay}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"eigvals": self.eigvals, "eigvecs": self.eigvecs, "diag": self.diag}

    @classmethod
    def from_arrays(cls, arrays: dict, meta: dict) -> "Curvature":
        return cls(eigvals=np.asarray(arrays["eigvals"], float),
                   eigvecs=np.asarray(arrays["eigvecs"], float),
                   diag=np.asarray(arrays["diag"], float), trace=float(meta["trace"]),
                   method=meta["method"], weight_decay=float(meta["weight_decay"]),
                   frob_rel_error=_f(meta.get("frob_rel_error")), min_eig=_f(meta.get("min_eig")),
                   n_negative=int(meta.get("n_negative_eigs", -1)))


def _f(v) -> float:
    return float("nan") if v is None else float(v)


def hvp_function(flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                 weight_decay: float):
    """``v -> Hess U(w) v`` (forward-over-reverse, ``torch.func.jvp`` of ``grad U``)."""
    g = grad(lambda p: flat.objective(p, X, y, weight_decay))

    def hvp(v: torch.Tensor) -> torch.Tensor:
        return jvp(g, (w,), (v,))[1]

    return hvp


def hessian_curvature(flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w, *,
                      weight_decay: float = 0.0, k: int = 20, method: str = "auto",
                      exact_max: int = 3000, n_probe: int = 200, chunk: int = 64,
                      seed: int = 0) -> Curvature:
    """Curvature of ``U`` at ``w`` (module docstring); float64 throughout.

    Parameters
    ----------
    k : number of top eigenpairs kept (``1 <= k <= P``; ``k = P`` keeps ``H`` exactly).
    method : ``"exact"``, ``"lanczos"`` or ``"auto"`` (exact when ``P <= exact_max``).
    n_probe : Hutchinson probes for the diagonal (lanczos only).
    chunk : Hessian-vector products per vectorised call.
    """
    P = flat.n_params
    w = torch.as_tensor(check_finite_vector("w", w, P), dtype=torch.float64)
    wd = positive("weight_decay", weight_decay, allow_zero=True)
    k = positive_int("k", k)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: must be one of {', '.join(METHODS)}")
    if k > P or (k == P and method == "lanczos"):
        raise ValueError(f"k={k}: must be at most the number of parameters ({P}; smaller "
                         "for lanczos)")
    positive_int("n_probe", n_probe)
    chunk = positive_int("chunk", chunk)
    if method == "auto":
        method = "exact" if P <= exact_max or k == P else "lanczos"
    X = X.to(torch.float64)
    if method == "exact":
        return curvature_from_dense(exact_hessian(flat, X, y, w, wd, chunk=chunk), k, wd)
    hvp = hvp_function(flat, X, y, w, wd)
    batched = vmap(hvp)
    from scipy.sparse.linalg import LinearOperator, eigsh

    def mv(v):
        return hvp(torch.as_tensor(np.ascontiguousarray(v).reshape(-1))).numpy()

    op = LinearOperator((P, P), matvec=mv, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(P)
    ev, V = eigsh(op, k=k, which="LA", v0=v0, tol=1e-8)
    order = np.argsort(ev)[::-1]
    rng = np.random.default_rng([seed, 1])
    acc = np.zeros(P)
    done = 0
    while done < n_probe:
        m = min(chunk, n_probe - done)
        Z = torch.as_tensor(rng.choice([-1.0, 1.0], size=(m, P)))
        acc += (Z * batched(Z)).sum(0).numpy()
        done += m
    diag = acc / n_probe
    return Curvature(eigvals=ev[order], eigvecs=V[:, order], diag=diag, trace=float(diag.sum()),
                     method="lanczos", weight_decay=wd)


def exact_hessian(flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w, weight_decay: float = 0.0,
                  *, chunk: int = 64) -> np.ndarray:
    """The dense ``P x P`` Hessian of ``U = CE + (wd/2)||w||^2`` at ``w`` (float64, symmetrised):
    ``P`` products ``H e_i`` in chunks of ``chunk`` (``vmap`` over basis vectors)."""
    P = flat.n_params
    w = torch.as_tensor(check_finite_vector("w", w, P), dtype=torch.float64)
    wd = positive("weight_decay", weight_decay, allow_zero=True)
    chunk = positive_int("chunk", chunk)
    batched = vmap(hvp_function(flat, X.to(torch.float64), y, w, wd))
    H = np.empty((P, P))
    eye = torch.eye(P, dtype=torch.float64)
    for i in range(0, P, chunk):
        H[i:i + chunk] = batched(eye[i:i + chunk]).numpy()
    return 0.5 * (H + H.T)


def curvature_from_dense(H: np.ndarray, k: int, weight_decay: float = 0.0) -> Curvature:
    """:class:`Curvature` (method ``"exact"``) of a dense symmetric Hessian ``H``."""
    H = np.asarray(H, dtype=float)
    P = H.shape[0]
    if H.shape != (P, P) or not np.all(np.isfinite(H)):
        raise ValueError(f"H: expected a finite square matrix, got shape {H.shape}")
    k = positive_int("k", k)
    if k > P:
        raise ValueError(f"k={k}: must be at most the number of parameters ({P})")
    ev, V = np.linalg.eigh(H)
    top = np.argsort(ev)[::-1][:k]
    curv = Curvature(eigvals=ev[top], eigvecs=V[:, top], diag=np.diag(H).copy(),
                     trace=float(np.trace(H)), method="exact", weight_decay=weight_decay,
                     min_eig=float(ev.min()), n_negative=int((ev < 0).sum()))
    curv.frob_rel_error = float(np.linalg.norm(H - curv.dense()) / np.linalg.norm(H))
    return curv


def per_sample_gn_factors(flat: FlatModel, X: torch.Tensor, w, *, y: torch.Tensor | None = None,
                          chunk: int = 256) -> np.ndarray:
    """Gauss-Newton factors ``F_n = J_n^T Q_n diag(e_n)^(1/2)`` of ``flat``'s loss (module
    docstring), float64 ``(N, P, C - 1)`` for the softmax cross-entropy and ``(N, P, C)`` for
    any other loss of ``C`` outputs: ``F_n F_n^T = J_n^T Lambda_n J_n`` exactly.

    ``J_n`` is ``torch.func.jacrev`` of one sample's outputs (``vmap`` over samples, ``chunk``
    at a time); outputs of any shape are flattened to ``C`` numbers. ``y`` (targets) is
    needed for losses other than cross-entropy (their ``Lambda_n`` may depend on it).
    """
    P = flat.n_params
    w = torch.as_tensor(check_finite_vector("w", w, P), dtype=torch.float64)
    chunk = positive_int("chunk", chunk)
    X = X.to(torch.float64)
    ce = flat.loss_fn is torch.nn.functional.cross_entropy
    if not ce and y is None:
        raise ValueError("y: per-sample Gauss-Newton factors of a loss other than "
                         "cross-entropy need the targets")

    jac = vmap(jacrev(lambda ww, x: flat.logits(ww, x[None]).reshape(-1)), in_dims=(None, 0))
    out = []
    for i in range(0, X.shape[0], chunk):
        Xc = X[i:i + chunk]
        with torch.no_grad():
            z = flat.logits(w, Xc)
        J = jac(w, Xc)                                        # (n, C, P)
        if ce:
            p = torch.softmax(z, dim=1)
            lam = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
            e, Q = torch.linalg.eigh(lam)                     # ascending; e[:, 0] ~ 0
            e, Q = e[:, 1:], Q[:, :, 1:]
        else:
            lam = output_hessians(flat.loss_fn, z, y[i:i + chunk])
            e, Q = torch.linalg.eigh(lam)
        S = Q * e[:, None, :].clamp_min(0.0).sqrt()           # (n, C, r)
        out.append(torch.einsum("ncp,ncr->npr", J, S).cpu().numpy())
    return np.concatenate(out)


def output_hessians(loss_fn, Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``Lambda_n = d^2 l(z_n, y_n) / dz^2`` per sample, ``(n, C, C)`` with ``C`` the flattened
    output size (``torch.func.hessian`` of the one-sample loss, ``vmap`` over samples)."""
    from torch.func import hessian

    shape = Z.shape[1:]
    Yd = Y.to(Z.dtype) if Y.is_floating_point() else Y

    def one(z, t):
        return loss_fn(z.reshape(1, *shape), t[None])

    return vmap(hessian(one))(Z.reshape(Z.shape[0], -1), Yd)


def minibatch_hvp(flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w):
    """``(idx, V) -> H_B V``: exact Hessian-vector products of the minibatch *data* loss
    ``(1/B) sum_{n in idx} l_n`` at ``w`` (forward-over-reverse), batched over rows:
    ``idx`` ``(S, B)`` indices, ``V`` ``(S, P)`` directions, one minibatch per row."""
    w = torch.as_tensor(w, dtype=torch.float64)
    X = X.to(torch.float64)

    def one(Xb, yb, v):
        return jvp(grad(lambda p: flat.loss(p, Xb, yb)), (w,), (v,))[1]

    batched = vmap(one)

    def hvp(idx: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        return batched(X[idx], y[idx], V)

    return hvp


def gn_mean(factors: np.ndarray) -> np.ndarray:
    """``(1/N) sum_n F_n F_n^T`` (P x P) of ``(N, P, r)`` factors."""
    F = np.asarray(factors, dtype=float)
    N, P, r = F.shape
    Fm = F.transpose(0, 2, 1).reshape(N * r, P)
    return Fm.T @ Fm / N


@dataclass
class FactorError:
    """Relative error ``||H_B^model v - H_B v|| / ||H_B v||`` over random ``(B, v)``."""

    batch_size: int
    n: int
    median: float
    mean: float
    q90: float
    max: float
    mean_only: float

    def summary(self) -> dict:
        return {"batch_size": self.batch_size, "n": self.n, "median": self.median,
                "mean": self.mean, "q90": self.q90, "max": self.max,
                "full_batch_mean_hessian_error": self.mean_only,
                "what": "||(1/B) sum F_n F_n^T v + R v - H_B v|| / ||H_B v|| (data loss, no L2); "
                        "v ~ N(0, I), B uniform with replacement"}


def factor_error(flat: FlatModel, X: torch.Tensor, y: torch.Tensor, w, factors: np.ndarray,
                 remainder: np.ndarray | None, batch_size: int, *, n: int = 64,
                 seed: int = 0) -> FactorError:
    """How far the factored minibatch Hessian ``(1/B) sum F_n F_n^T + R`` is from the exact
    ``H_B`` (module docstring): ``n`` random pairs (minibatch of ``batch_size`` drawn with
    replacement, direction ``v ~ N(0, I)``), stream ``(seed, batch_size)``.
    ``mean_only`` is the same error of the full-data mean ``H`` (``R`` included) for ``H_B``:
    what a model without curvature noise would make."""
    B = positive_int("batch_size", batch_size)
    n = positive_int("n", n)
    F = np.asarray(factors, dtype=float)
    N, P = F.shape[:2]
    rng = np.random.default_rng([int(seed), B])
    idx = rng.integers(0, N, size=(n, B))
    V = rng.standard_normal((n, P))
    exact = minibatch_hvp(flat, X, y, w)(torch.as_tensor(idx), torch.as_tensor(V)).numpy()
    Fb = F[idx]                                              # (n, B, P, r)
    t = np.einsum("sbqr,sq->sbr", Fb, V)
    model = np.einsum("sbpr,sbr->sp", Fb, t) / B
    Hbar = gn_mean(F)
    if remainder is not None:
        model = model + V @ remainder.T
        Hbar = Hbar + remainder
    nrm = np.linalg.norm(exact, axis=1)
    err = np.linalg.norm(model - exact, axis=1) / nrm
    err0 = np.linalg.norm(V @ Hbar.T - exact, axis=1) / nrm
    return FactorError(batch_size=B, n=n, median=float(np.median(err)), mean=float(err.mean()),
                       q90=float(np.quantile(err, 0.9)), max=float(err.max()),
                       mean_only=float(err0.mean()))
