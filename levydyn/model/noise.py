"""Symmetric alpha-stable noise: counter-based random streams and the CMS sampler.

Normalisation (used everywhere in levydyn)
------------------------------------------
``Z ~ SaS(1)`` means ``E exp(i w Z) = exp(-|w|^alpha)``; this is scipy's
``levy_stable(alpha, beta=0, scale=1)`` in its default S1 parameterisation. At
``alpha = 2`` it is ``N(0, 2)`` (not N(0, 1)); at ``alpha = 1`` it is the standard
Cauchy law. Its Levy measure is ``c_alpha |y|^(-1-alpha) dy`` with
``c_alpha = Gamma(1 + alpha) sin(pi alpha / 2) / pi`` (zero at alpha = 2). The
metastability papers (Imkeller-Pavlyukevich; Simsekli et al. 2019, Thms 1-2) use the
unit Levy measure ``|y|^(-1-alpha) dy``; a rate stated there is multiplied by
``c_alpha`` to apply to SaS(1) noise.

Randomness
----------
There is no global generator. A stream is identified by a 64-bit key derived from
``(seed, stream index)`` (one stream per simulated path) and produces its n-th 64-bit
word as ``mix64(key XOR n G)`` (``G`` the 64-bit golden-ratio Weyl increment, ``mix64``
the SplitMix64 finaliser of Steele, Lea & Flood 2014). For one key this is SplitMix64's
output on a XOR-masked Weyl sequence; the key is itself two rounds of ``mix64`` of
``(seed, stream)``, so different streams see inputs differing by a random 64-bit mask
rather than shifted copies of one sequence. Streams are therefore independent of thread
count and chunking: path 17 draws the same numbers whether it runs alone or among a
million.

Sampler
-------
Chambers, Mallows & Stuck (1976), symmetric case, with ``V ~ U(-pi/2, pi/2)`` and
``W ~ Exp(1)``::

    Z = sin(alpha V) / cos(V)^(1/alpha) * (cos((1 - alpha) V) / W)^((1 - alpha)/alpha)

By symmetry ``V`` is drawn as ``|V| = (pi/2) u`` with an independent sign bit, and
``cos|V|`` is computed as ``sin((pi/2)(1 - u))`` so it keeps full relative precision
at the end of the range (no 0/0, no spurious inf). ``alpha = 1`` gives ``tan V``
(Cauchy) and ``alpha = 2`` gives ``2 sin(V) sqrt(W) ~ N(0, 2)`` exactly. The general
formula is continuous through alpha = 1, so alphas near 1 need no special case.
The power factors are evaluated as one ``exp`` of a sum of logs (faster than two
``pow`` calls and free of spurious intermediate under/overflow for small alpha); sines
and cosines on the reduced range use Taylor polynomials accurate to ~3e-16.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from levydyn.model.validation import (ALPHA, as_float, as_int, check_memory,  # noqa: F401
                                      check_seed, reject)  # (check_seed re-exported)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_BIT10 = np.uint64(1 << 10)
_ONE = np.uint64(1)
_TWO53_INV = 1.0 / 9007199254740992.0
_HALF_PI = 0.5 * math.pi


@nb.njit(inline="always")
def _mix64(z):
    """SplitMix64 finaliser: a bijective avalanche mix of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def stream_key(seed, stream):
    """64-bit key of stream ``stream`` (e.g. a path index) under ``seed``."""
    k = _mix64(np.uint64(seed) * _GOLDEN + _ONE)
    return _mix64(k ^ _mix64((np.uint64(stream) + _ONE) * _GOLDEN))


@nb.njit(inline="always")
def random_word(key, counter):
    """The ``counter``-th 64-bit word of the stream with key ``key``."""
    return _mix64(key ^ (np.uint64(counter) * _GOLDEN))


@nb.njit(inline="always")
def _open_unit(word):
    """Uniform on the open interval (0, 1) from the top 53 bits: (k + 1/2) 2^-53."""
    return (np.float64(word >> _S11) + 0.5) * _TWO53_INV


@nb.njit(inline="always")
def uniform(key, counter):
    """U(0, 1), never exactly 0 or 1."""
    return _open_unit(random_word(key, counter))


# Taylor coefficients of sin and cos; on |x| <= pi/2 the truncation errors are below
# 3e-16 (sin, through x^21) and 1e-19 (cos, through x^24): as accurate as libm, and a
# polynomial is several times cheaper than a libm call.
_SIN_C = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(11))
_COS_C = tuple((-1) ** k / math.factorial(2 * k) for k in range(13))


@nb.njit(inline="always")
def _sin_q(x):
    """sin(x) for 0 <= x <= pi/2 (relative precision kept near 0)."""
    x2 = x * x
    p = _SIN_C[10]
    for k in range(9, -1, -1):
        p = p * x2 + _SIN_C[k]
    return x * p


@nb.njit(inline="always")
def _cos_q(x):
    """cos(x) for |x| <= pi/2."""
    x2 = x * x
    p = _COS_C[12]
    for k in range(11, -1, -1):
        p = p * x2 + _COS_C[k]
    return p


@nb.njit(inline="always")
def _sin_half_turn(x):
    """sin(x) for 0 <= x <= pi, by reflection onto [0, pi/2]."""
    return _sin_q(x) if x <= _HALF_PI else _sin_q(math.pi - x)


@nb.njit(inline="always")
def sas_from_words(alpha, w1, w2):
    """One SaS(1) variate from two random 64-bit words (CMS, see module doc)."""
    u = _open_unit(w1)
    negative = (w1 & _BIT10) != 0
    v = _HALF_PI * u                      # |V| in (0, pi/2)
    sin_v = _sin_q(v)
    cos_v = _sin_q(_HALF_PI * (1.0 - u))     # cos|V| with full relative precision
    e = -math.log(_open_unit(w2))            # W ~ Exp(1), in (0, 37.5)
    if alpha == 2.0:
        z = 2.0 * sin_v * math.sqrt(e)
    elif alpha == 1.0:
        z = sin_v / cos_v
    else:
        # one exp of logs instead of two pow calls: faster, and no intermediate
        # under/overflow for small alpha
        logz = ((1.0 - alpha) / alpha * math.log(_cos_q((1.0 - alpha) * v) / e)
                - math.log(cos_v) / alpha)
        z = _sin_half_turn(alpha * v) * math.exp(logz) if logz < 709.0 else (
            math.exp(math.log(_sin_half_turn(alpha * v)) + logz))
    return -z if negative else z


@nb.njit(inline="always")
def sas_draw(alpha, key, counter):
    """SaS(1) variate using the stream words ``counter`` and ``counter + 1``."""
    return sas_from_words(alpha, random_word(key, counter), random_word(key, counter + 1))


@nb.njit(parallel=True, cache=True)
def _sas_fill(alpha, seed, out2d):
    n_streams, n_per = out2d.shape
    for s in nb.prange(n_streams):
        key = stream_key(seed, s)
        for j in range(n_per):
            out2d[s, j] = sas_draw(alpha, key, 2 * j)


def sas_rvs(alpha: float, size, seed: int = 0, *, streams: int = 64) -> np.ndarray:
    """Draw i.i.d. SaS(1) variates (``E exp(iwZ) = exp(-|w|^alpha)``).

    Parameters
    ----------
    alpha : tail index in (0, 2]; 2 gives N(0, 2), 1 gives Cauchy.
    size : int or shape tuple.
    seed : non-negative integer; identical output for any numba thread count.
    streams : number of independent streams the draw is split over (parallelism).
        Output depends on ``(seed, size, streams)`` only.

    Returns
    -------
    ndarray of float64 with the requested shape.
    """
    a = as_float("alpha", alpha, ALPHA)
    seed = check_seed(seed)
    streams = as_int("streams", streams, 1)
    shape = (size,) if np.isscalar(size) else tuple(size)
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0 for k in shape):
        raise reject("size", "be a non-negative integer or a tuple of them", size)
    n = math.prod(int(k) for k in shape)
    check_memory("size", size, 8.0 * n, "the draws")
    if n == 0:
        return np.empty(shape)
    n_streams = min(streams, n)
    n_per = -(-n // n_streams)
    buf = np.empty((n_streams, n_per))
    _sas_fill(a, seed, buf)
    return buf.reshape(-1)[:n].reshape(shape)


def c_alpha(alpha):
    """Levy-measure constant of SaS(1): ``nu(dy) = c_alpha |y|^(-1-alpha) dy``.

    ``c_alpha = Gamma(1 + alpha) sin(pi alpha / 2) / pi`` for 0 < alpha <= 2, the one numeric
    implementation in levydyn (theory, solvers and CLI import it). A float gives a float, an
    array an array of the same shape. Exact at the special points: ``c_1 = 1/pi`` (Cauchy)
    and ``c_2 = 0`` (Brownian motion has no jumps). Plain double arithmetic (``lgamma``,
    ``sin``), so the value does not depend on any mpmath precision setting. The symbolic
    derivation from the characteristic function and its check live in
    :mod:`levydyn.theory.levy_measure`. Source: Sato (1999), Lemma 14.11.
    """
    try:
        a = np.asarray(alpha, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in (0, 2], got alpha={alpha!r}") from None
    ok = (a > 0) & (a <= 2)
    if not np.all(ok):
        raise ValueError(f"alpha must lie in (0, 2], got alpha={float(a[~ok].ravel()[0])!r}")
    c = np.exp(np.vectorize(math.lgamma, otypes=[float])(1.0 + a)) * np.sin(np.pi * a / 2.0) / np.pi
    c = np.where(a == 2.0, 0.0, np.where(a == 1.0, 1.0 / np.pi, c))
    return float(c) if c.ndim == 0 else c
