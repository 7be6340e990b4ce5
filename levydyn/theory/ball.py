"""Exit axis and side from a ball, in the convention the simulator records (small-noise limit).

Statement
---------
As in :mod:`levydyn.theory.box`: for small eps the process leaves ``|x - c| < R`` by one
large jump of one coordinate l from (near) the attractor ``x*``, jumps of coordinate l of
signed size y arriving with intensity ``eps_l^alpha_l C_l |y|^(-1-alpha_l) dy``. With
``delta = x* - c`` the jump leaves when ``y >= d+_l`` or ``y <= -d-_l``,
``d+-_l = sqrt(R^2 - |delta|^2 + delta_l^2) -+ delta_l`` (:func:`levydyn.theory._validate.faces`).

The recorded label (:class:`levydyn.domains.Ball`, :func:`levydyn.solvers.euler.check_exit`)
is *not* the jump's axis: it is the coordinate of the largest displacement from the centre
at exit, ``k = argmax_k |u_k|`` with ``u = delta + y e_l``, side ``sign(u_k)``. When
``x* = c`` both agree. Off-centre they differ: a jump along l lands at
``u_l = delta_l + y`` while every other coordinate keeps ``delta_k``, so the label is l only
if ``|delta_l + y| > M_l = max_{k != l} |delta_k|``; otherwise it is
``k* = argmax_{k != l} |delta_k|`` with side ``sign(delta_k*)``. (Example: ``c = 0``,
``R = 1.5``, ``x* = (1.2, 0)``: jumps along axis 1 of size 0.9-1.2 are recorded as axis 0.)

So, with ``T_l(a) = eps_l^alpha_l C_l a^(-alpha_l) / alpha_l`` the intensity of jumps of
coordinate l larger than ``a`` in one direction,

    rate(label l, +) = T_l(max(d+_l, M_l - delta_l)),
    rate(label l, -) = T_l(max(d-_l, M_l + delta_l)),
    rate(label k*_l, sign delta_k*) += T_l(d+_l) - rate(label l, +) + T_l(d-_l) - rate(label l, -),

(on the exit set ``delta_l + y`` has the jump's sign, since ``delta_l + d+_l > 0``), and
the probabilities are the rates over their sum ``lambda`` (the total rate of
:mod:`levydyn.theory.box` with these faces: relabelling moves rate, it does not create it).
``C_l`` per ``measure`` as in :func:`levydyn.theory.box.side_rates`.
"""
from __future__ import annotations

import numpy as np

from levydyn.theory._validate import check_measure
from levydyn.theory.levy_measure import measure_constants
from levydyn.model.validation import POSITIVE, as_float, as_vector


def _tail(a, e, C, x):
    with np.errstate(divide="ignore"):
        return e ** a * C * x ** (-a) / a


def exit_side_probabilities(alpha, eps, center, radius, xstar, *, measure: str = "sas") -> np.ndarray:
    """``(N, 2)`` array ``P(recorded axis k, side -/+)`` for the ball ``|x - center| < radius``
    around the attractor ``xstar`` (module docstring: formula and convention)."""
    check_measure(measure)
    c = as_vector("center", center)
    n = c.size
    x = as_vector("xstar", xstar, n)
    r = as_float("radius", radius, POSITIVE)
    a = as_vector("alpha", np.broadcast_to(alpha, (n,)), n)
    e = as_vector("eps", np.broadcast_to(eps, (n,)), n)
    delta = x - c
    if float(delta @ delta) >= r * r:
        raise ValueError(f"the attractor x*={x.tolist()} is not inside the ball (center "
                         f"{c.tolist()}, radius {r:g})")
    C = measure_constants(a, measure)
    rates = np.zeros((n, 2))
    for l in range(n):
        reach = np.sqrt(r * r - float(delta @ delta) + delta[l] ** 2)
        d_plus, d_minus = reach - delta[l], reach + delta[l]
        rest = [k for k in range(n) if k != l]
        m = float(np.abs(delta[rest]).max()) if rest else 0.0
        own_p = _tail(a[l], e[l], C[l], max(d_plus, m - delta[l]))
        own_m = _tail(a[l], e[l], C[l], max(d_minus, m + delta[l]))
        rates[l, 1] += own_p
        rates[l, 0] += own_m
        moved = (_tail(a[l], e[l], C[l], d_plus) - own_p) + (_tail(a[l], e[l], C[l], d_minus) - own_m)
        if moved > 0:                        # then m > 0: another axis is displaced
            k = rest[int(np.argmax(np.abs(delta[rest])))]   # first largest, as the kernel
            rates[k, 1 if delta[k] > 0 else 0] += moved
    return rates / rates.sum()


def exit_axis_probabilities(alpha, eps, center, radius, xstar, *, measure: str = "sas") -> np.ndarray:
    """``P(recorded axis k)``: the row sums of :func:`exit_side_probabilities`."""
    return exit_side_probabilities(alpha, eps, center, radius, xstar, measure=measure).sum(axis=1)


__all__ = ["exit_side_probabilities", "exit_axis_probabilities"]
