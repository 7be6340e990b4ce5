"""The Levy-measure constant of SaS(1) noise, derived with sympy, and the two conventions.

Statement
---------
``Z ~ SaS(1)`` (``E exp(i w Z) = exp(-|w|^alpha)``, scipy ``levy_stable(alpha, 0)``) is
the value at time 1 of a pure-jump Levy process with Levy measure
``nu(dy) = c_alpha |y|^(-1-alpha) dy``, 0 < alpha < 2, where

    c_alpha = Gamma(1 + alpha) sin(pi alpha / 2) / pi

(e.g. Sato 1999, Lemma 14.11; Samorodnitsky & Taqqu 1994, eq. 1.2.9 in another form).
The metastability results (Imkeller & Pavlyukevich 2006; Simsekli et al. 2019,
Thms 1-2 = paper 000 eqs. 11-14; paper 004) are stated for the *unit* measure
``|y|^(-1-alpha) dy``. Hence the two ``measure`` conventions used by every function in
:mod:`levydyn.theory`:

* ``measure="sas"``: the noise is SaS(1) (what levydyn simulates); every Levy mass
  carries the factor ``c_alpha``.
* ``measure="unit"``: the noise has Levy measure ``|y|^(-1-alpha) dy`` (the papers).

A rate ``r_unit`` from the papers becomes ``c_alpha * r_unit`` for SaS(1) noise; the
same process is obtained with noise level ``eps_unit = eps_sas * c_alpha^(1/alpha)``.

Derivation (:func:`derive_c_alpha`)
------------------------------------
Symmetry kills the compensator, so the characteristic exponent of ``|y|^(-1-alpha) dy`` is

    psi(w) = int_R (1 - cos(w y)) |y|^(-1-alpha) dy = |w|^alpha K(alpha),
    K(alpha) = 2 int_0^inf (1 - cos y) y^(-1-alpha) dy .

Integrating by parts (the boundary term ``(1 - cos y) y^(-alpha)`` vanishes at 0 and at
infinity for 0 < alpha < 2) gives ``K = (2/alpha) int_0^inf sin(y) y^(-alpha) dy``, the
Mellin transform of ``sin`` at ``s = 1 - alpha`` (inside its strip ``-1 < s < 1``).
sympy evaluates that transform, and ``c_alpha = 1 / K`` makes ``psi(w) = |w|^alpha``.
"""
from __future__ import annotations

import functools

import numpy as np

from levydyn.model.noise import c_alpha  # the one numeric implementation (re-exported here)
from levydyn.theory._validate import check_alpha, check_measure


@functools.lru_cache(maxsize=1)
def derive_c_alpha():
    """Derive ``c_alpha`` with sympy; returns ``(alpha_symbol, expression)``.

    The expression is the one sympy produces from the Mellin transform of ``sin``
    (see the module docstring); :func:`c_alpha_textbook` is the usual closed form and
    the tests check that sympy simplifies their ratio to 1, and that the numeric
    :func:`levydyn.model.noise.c_alpha` (re-exported here as :func:`c_alpha`) matches it.
    """
    import sympy as sp

    a = sp.Symbol("alpha", positive=True)
    y = sp.Symbol("y", positive=True)
    s = sp.Symbol("s")
    mellin_sin, strip, _ = sp.mellin_transform(sp.sin(y), y, s)
    # the by-parts step needs s = 1 - alpha inside the strip: -1 < 1 - alpha < 1 <=> 0 < alpha < 2
    if tuple(strip) != (-1, 1):  # pragma: no cover - guards a change in sympy's answer
        raise RuntimeError(f"unexpected Mellin strip for sin: {strip}")
    k_alpha = 2 / a * mellin_sin.subs(s, 1 - a)
    return a, sp.gammasimp(1 / k_alpha)


def c_alpha_textbook():
    """The textbook form ``Gamma(1 + alpha) sin(pi alpha / 2) / pi`` as a sympy expression."""
    import sympy as sp

    a, _ = derive_c_alpha()
    return sp.gamma(1 + a) * sp.sin(sp.pi * a / 2) / sp.pi


def measure_constant(alpha: float, measure: str = "sas") -> float:
    """Factor multiplying ``|y|^(-1-alpha) dy``: ``c_alpha`` for ``"sas"``, 1 for ``"unit"``."""
    check_measure(measure)
    a = check_alpha(alpha)
    return c_alpha(a) if measure == "sas" else 1.0


def measure_constants(alpha, measure: str = "sas") -> np.ndarray:
    """:func:`measure_constant` per axis for an array of tail indices (one value per entry)."""
    return np.array([measure_constant(a, measure) for a in np.atleast_1d(alpha)])


def tail_mass(x: float, alpha: float, *, measure: str = "sas") -> float:
    """``nu((x, inf)) = C x^(-alpha) / alpha`` for x > 0, C from :func:`measure_constant`.

    For ``"sas"`` this is also the tail ``P(Z > x) ~ c_alpha x^(-alpha) / alpha`` of SaS(1).
    """
    if not (float(x) > 0):
        raise ValueError(f"x must be positive, got x={x!r}")
    return measure_constant(alpha, measure=measure) * float(x) ** (-float(alpha)) / float(alpha)


def characteristic_exponent(w, alpha: float, *, measure: str = "sas"):
    """``psi(w) = int (1 - cos(w y)) nu(dy) = (C / c_alpha) |w|^alpha``.

    ``measure="sas"`` gives ``|w|^alpha`` (SaS(1)); ``"unit"`` gives ``|w|^alpha / c_alpha``.
    """
    C = measure_constant(alpha, measure=measure)
    return C / c_alpha(alpha) * np.abs(np.asarray(w, dtype=float)) ** float(alpha)


def convert_rate(rate, alpha: float, from_measure: str, to_measure: str):
    """Convert a jump rate (any Levy mass, e.g. an exit rate) between conventions.

    Rates are linear in the Levy measure: ``rate_sas = c_alpha * rate_unit``.
    """
    c_from = measure_constant(alpha, from_measure)
    c_to = measure_constant(alpha, to_measure)
    return np.asarray(rate, dtype=float) * (c_to / c_from) if np.ndim(rate) else float(rate) * c_to / c_from


def equivalent_eps(eps, alpha: float, from_measure: str, to_measure: str):
    """Noise level giving the same process in the other convention.

    ``eps L`` with Levy measure ``C_from |y|^(-1-alpha)`` has Levy measure
    ``C_from eps^alpha |y|^(-1-alpha)``; matching ``C_to eps'^alpha`` gives
    ``eps' = eps (C_from / C_to)^(1/alpha)``.
    """
    c_from = measure_constant(alpha, from_measure)
    c_to = measure_constant(alpha, to_measure)
    factor = (c_from / c_to) ** (1.0 / float(alpha))
    return np.asarray(eps, dtype=float) * factor if np.ndim(eps) else float(eps) * factor


__all__ = [
    "derive_c_alpha", "c_alpha_textbook", "c_alpha", "measure_constant", "measure_constants", "tail_mass",
    "characteristic_exponent", "convert_rate", "equivalent_eps",
]

