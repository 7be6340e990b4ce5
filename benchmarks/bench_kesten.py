"""Speed of the kesten empirical kernel against a torch ``vmap`` implementation of the same
recursion, on the breast-cancer MLP at B = 8; same law checked by a two-sample KS test.

The recursion (levydyn.kesten): ``x_{k+1} = x_k - lr (H_B x_k + u_B)`` near the network's
minimum ``w*`` of ``U = CE + (wd/2)||w||^2``, with per-sample deviations
``u_n = grad l_n(w*) - mean_m grad l_m(w*)`` and per-sample Gauss-Newton curvature
``H_n = J_n^T Lambda_n J_n`` (``J_n`` the Jacobian of the logits at ``w*``,
``Lambda_n = diag(p_n) - p_n p_n^T`` the softmax cross-entropy Hessian in the logits),
``H_B = (1/B) sum_b H_{n_b} + wd I``, ``B`` indices with replacement.

- levydyn: ``EmpiricalMinibatch`` with factors ``F_n = J_n^T V_n diag(mu_n)^(1/2)`` from the
  eigenpairs of ``Lambda_n`` (rank C - 1 = 1 for two classes), computed once here with
  ``torch.func.jacrev``; then the numba kernel (no torch).
- torch: all paths at once, per step ``vmap`` over (path, batch element) of
  ``torch.func.jvp`` (``J_n v``), the ``Lambda_n`` product and ``torch.func.vjp``
  (``J_n^T c``): per-sample Gauss-Newton-vector products through the network.

``--phase`` first prints, on nn_bridge's study grid of ``(B, lr)``, the regime from
``lambda_1`` and the model's mean escape iterations from the ball (200 paths).
Both run single-threaded by default (``--threads``). Speed: path-steps per second with a
huge radius (nobody exits), best of 3. Law: escape times from a ball of radius ``--radius``
(same lr, B), two-sample KS. The last line reads ``speed-up: <N> x``.

    python benchmarks/bench_kesten.py [--quick] [--threads 1] [--lr 0.5] [--radius 1.0]
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np
import torch
from scipy import stats
from torch.func import jacrev, jvp, vjp, vmap

from levydyn import Ball
from levydyn import kesten as kz
from nn_bridge.data.datasets import load_dataset
from nn_bridge.escape.experiment import find_minimum
from nn_bridge.data.flat import FlatModel
from nn_bridge.data.models import ModelSpec, build_model
from nn_bridge.noise.per_sample import per_sample_gradients
from nn_bridge.escape.config import StudyConfig
from nn_bridge.training.train import train
from timing import best_of


def basin(cfg: StudyConfig):
    """Trained MLP (nn_bridge's study defaults), its minimum and the per-sample pieces."""
    data = load_dataset(cfg.dataset, test_fraction=cfg.test_fraction, seed=cfg.seed)
    spec = ModelSpec(kind="mlp", in_features=data.n_features, n_classes=data.n_classes,
                     width=cfg.width, depth=cfg.depth, seed=cfg.seed)
    res = train(data, spec, cfg.train_config(), device="cpu")
    mn = find_minimum(res.model, data, cfg.weight_decay)
    net = build_model(spec).double()
    flat = FlatModel(net)
    flat.load(mn.w)
    X = torch.as_tensor(data.X_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    w = torch.as_tensor(mn.w, dtype=torch.float64)
    G = per_sample_gradients(net, X, y).to(torch.float64)
    G = G - G.mean(0)
    logits = lambda w_, x: flat.logits(w_, x[None])[0]          # noqa: E731
    J = vmap(jacrev(logits), in_dims=(None, 0))(w, X)             # (N, C, P)
    p = torch.softmax(flat.logits(w, X), dim=1)                   # (N, C)
    Lam = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    mu, V = torch.linalg.eigh(Lam)                                # ascending; mu[:, 0] ~ 0
    keep = slice(1, None)                                         # rank C - 1
    F = torch.einsum("ncp,ncr->npr", J, V[:, :, keep] * mu[:, None, keep].clamp_min(0).sqrt())
    return flat, w, X, p, G, F, mn


class TorchRecursion:
    """The same recursion with per-sample Gauss-Newton-vector products via torch.func."""

    def __init__(self, flat, w, X, p, G, batch, lr, wd, seed):
        self.flat, self.w, self.X, self.p, self.G = flat, w, X, p, G
        self.B, self.lr, self.wd = batch, lr, wd
        self.gen = torch.Generator().manual_seed(seed)
        f = lambda w_, x: flat.logits(w_, x[None])[0]            # noqa: E731

        def gn_vec(x, p_n, v):
            jv = jvp(lambda w_: f(w_, x), (w,), (v,))[1]          # J_n v
            c = p_n * jv - p_n * (p_n @ jv)                       # Lambda_n J_n v
            return vjp(lambda w_: f(w_, x), w)[1](c)[0]           # J_n^T Lambda_n J_n v

        self._gn = vmap(gn_vec)

    def run(self, n_paths, max_steps, radius):
        S, P, B, N = n_paths, self.w.numel(), self.B, self.X.shape[0]
        x = torch.zeros(S, P, dtype=torch.float64)
        alive = torch.ones(S, dtype=torch.bool)
        times = torch.full((S,), max_steps, dtype=torch.int64)
        for k in range(max_steps):
            idx = torch.randint(0, N, (S, B), generator=self.gen)
            xs = x[:, None, :].expand(S, B, P).reshape(S * B, P)
            hv = self._gn(self.X[idx.reshape(-1)], self.p[idx.reshape(-1)], xs)
            hv = hv.reshape(S, B, P).mean(1)
            step = self.lr * (hv + self.wd * x + self.G[idx].mean(1))
            x = torch.where(alive[:, None], x - step, x)
            out = alive & (x.norm(dim=1) >= radius)
            times[out] = k + 1
            alive &= ~out
            if not alive.any():
                break
        return times.numpy(), (~alive).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short training, fewer paths")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.5)
    ap.add_argument("--radius", type=float, default=1.0)
    ap.add_argument("--paths", type=int, default=None, help="paths per law sample")
    ap.add_argument("--phase", action="store_true",
                    help="also print lambda_1 (and the regime) on nn_bridge's (B, lr) grid")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    cfg = StudyConfig(max_epochs=300) if args.quick else StudyConfig()
    t = time.perf_counter()
    flat, w, X, p, G, F, mn = basin(cfg)
    print(f"MLP 30-{cfg.width}x{cfg.depth - 1}-2 ({flat.n_params} parameters), N = {X.shape[0]}, "
          f"B = {args.batch}, lr = {args.lr}, wd = {cfg.weight_decay}, {args.threads} thread(s); "
          f"minimum: U = {mn.objective:.4g}, |grad U| = {mn.grad_norm:.1e} "
          f"({time.perf_counter() - t:.0f} s to train + factor)")
    law = kz.EmpiricalMinibatch(G.numpy(), F.numpy(), args.batch,
                                weight_decay=cfg.weight_decay)
    lam = kz.lyapunov_exponent(law, args.lr, n_paths=64, n_steps=500)
    print(f"lambda_1(lr={args.lr}, B={args.batch}) = {lam} per iteration")
    if args.phase:      # nn_bridge's study grid: regime and mean escape iterations
        for B in (4, 8, 16):
            for lr in (0.2, 0.3, 0.5, 0.8):
                lb = law.with_batch(B)
                pred = kz.escape_law(lb, lr, tail=False,
                                     lyapunov_kw={"n_paths": 64, "n_steps": 500})
                r = kz.simulate(kz.Recursion(lb, lr, domain=Ball(np.zeros(law.dim),
                                                                 args.radius)),
                                n_paths=200, max_steps=20_000, prediction=pred)
                print(f"B={B:<3d} lr={lr}: lambda_1 = {pred.lyapunov} ({pred.regime}); "
                      f"E tau(R={args.radius}) = {r.mean_exit_time()} iterations, "
                      f"{r.censored_fraction:.0%} censored")
    tor = TorchRecursion(flat, w, X, p, G, args.batch, args.lr, cfg.weight_decay, seed=1)

    # speed: nobody exits (radius huge), fixed steps
    S_nb, steps_nb = 256, (200 if args.quick else 1000)
    S_t, steps_t = 256, (10 if args.quick else 30)
    far = kz.Recursion(law, args.lr, domain=Ball(np.zeros(law.dim), 1e100))
    kz.simulate(far, n_paths=2, max_steps=2, classify=False)                     # compile
    t_nb = best_of(lambda: kz.simulate(far, n_paths=S_nb, max_steps=steps_nb,
                                       classify=False), repeat=3)
    tor.run(4, 2, 1e100)                                                        # warm-up
    t_t = best_of(lambda: tor.run(S_t, steps_t, 1e100), repeat=3)
    rate_nb, rate_t = S_nb * steps_nb / t_nb, S_t * steps_t / t_t
    print(f"levydyn kesten kernel : {rate_nb:12,.0f} path-steps/s ({S_nb} paths x {steps_nb})")
    print(f"torch vmap jvp/vjp    : {rate_t:12,.0f} path-steps/s ({S_t} paths x {steps_t})")

    # law: escape times from the ball, both implementations
    n = args.paths or (200 if args.quick else 1000)
    max_steps = 2000
    rec = kz.Recursion(law, args.lr, domain=Ball(np.zeros(law.dim), args.radius))
    a = kz.simulate(rec, n_paths=n, max_steps=max_steps, seed=2)
    t_tor, ex_tor = tor.run(n, max_steps, args.radius)
    ks = stats.ks_2samp(a.times, t_tor)
    print(f"escape from radius {args.radius}: levydyn mean {a.mean_exit_time()} "
          f"({a.censored_fraction:.0%} censored, regime {a.meta['regime']}), torch mean "
          f"{t_tor.mean():.4g} ({1 - ex_tor.mean():.0%} censored); two-sample KS "
          f"D = {ks.statistic:.3f}, p = {ks.pvalue:.3f} (n = {n} each)")
    print(f"speed-up: {rate_nb / rate_t:.0f} x")


if __name__ == "__main__":
    main()
