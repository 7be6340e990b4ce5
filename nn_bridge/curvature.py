"""Curvature of the training objective at a minimum from Hessian-vector products.

``H = Hess U(w*)`` with ``U = CE_train + (weight_decay/2)||w||^2`` (``nn_bridge.flat``).
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
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, jvp, vmap

from nn_bridge.flat import FlatModel, check_finite_vector, positive, positive_int

__all__ = ["Curvature", "hessian_curvature", "hvp_function", "METHODS"]

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
    hvp = hvp_function(flat, X, y, w, wd)
    batched = vmap(hvp)
    if method == "exact":
        H = np.empty((P, P))
        eye = torch.eye(P, dtype=torch.float64)
        for i in range(0, P, chunk):
            H[i:i + chunk] = batched(eye[i:i + chunk]).numpy()
        H = 0.5 * (H + H.T)
        ev, V = np.linalg.eigh(H)
        top = np.argsort(ev)[::-1][:k]
        curv = Curvature(eigvals=ev[top], eigvecs=V[:, top], diag=np.diag(H).copy(),
                         trace=float(np.trace(H)), method="exact", weight_decay=wd,
                         min_eig=float(ev.min()), n_negative=int((ev < 0).sum()))
        curv.frob_rel_error = float(np.linalg.norm(H - curv.dense()) / np.linalg.norm(H))
        return curv
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
