"""Exact zeros: an atom at 0 (ReLU gradient noise) is reported and left out.

A SaS law has no atom; an estimator run on a sample with a point mass at 0 mistakes it for
a light tail. ``zeros="drop"`` (the default of every estimator) drops exact zeros with an
:class:`AtomWarning`; :func:`atom_fraction` reports the atom per column.
"""
from __future__ import annotations

import warnings

import numpy as np

from levydyn.estimators.samples import MIN_SAMPLES, _as_columns, _out


# ---------------------------------------------------------------------------------
# exact zeros: an atom at 0 (ReLU gradient noise) is reported and left out
# ---------------------------------------------------------------------------------
#: Accepted values of the ``zeros`` argument of the estimators.
ZEROS = ("drop", "keep")


class AtomWarning(UserWarning):
    """Some samples are exact zeros (a point mass at 0) and were left out of an estimate."""


def _check_zeros(zeros):
    if zeros not in ZEROS:
        raise ValueError(f"zeros must be one of {', '.join(map(repr, ZEROS))}, got zeros={zeros!r}")
    return zeros


def atom_fraction(x, axis: int = 0):
    """Share of samples that are exactly 0, per column (1-D input: a float).

    Gradient noise of ReLU networks puts a point mass at 0 (a unit inactive on a whole
    minibatch gives an exact zero). A SaS law has no atom, so the estimators here
    (``zeros="drop"``, the default) estimate alpha of the *continuous part* -- the law of
    x given x != 0 -- and warn (:class:`AtomWarning`); this function reports the atom's
    weight so it can be quoted next to the estimate.
    """
    a, one_d = _as_columns(x, axis, min_n=1)
    return _out(np.mean(a == 0.0, axis=0), one_d)


def _on_nonzero(a, zeros, core, n_out, min_n=MIN_SAMPLES, name="x", warn=True):
    """Apply ``core`` to the nonzero samples of every column of the clean (n, m) array a.

    ``core(b)`` takes a (n_b, m_b) array without zeros (or with them when
    ``zeros="keep"``) and returns ``n_out`` arrays of shape (m_b,). Columns are compacted
    (nonzero samples first, original order kept, so block sums stay sums of consecutive
    samples) and grouped by their number of nonzero samples, one vectorised call per
    group. Columns with fewer than ``min_n`` nonzero samples give nan. One
    :class:`AtomWarning` per call when some column has a partial atom at 0.
    """
    n, m = a.shape
    nz = a != 0.0
    cnt = nz.sum(axis=0)
    partial = (cnt < n) & (cnt > 0)
    if zeros == "keep" or not partial.any():
        return core(a)
    outs = [np.full(m, np.nan) for _ in range(n_out)]

    def put(cols, res):
        for o, r in zip(outs, res):
            o[cols] = r

    full = np.flatnonzero(cnt == n)
    if full.size:
        put(full, core(np.ascontiguousarray(a[:, full])))
    part = np.flatnonzero(partial & (cnt >= min_n))
    if part.size:
        order = np.argsort(~nz[:, part], axis=0, kind="stable")
        sub = np.take_along_axis(a[:, part], order, axis=0)
        cp = cnt[part]
        for c in np.unique(cp):
            sel = cp == c
            put(part[sel], core(np.ascontiguousarray(sub[:c, sel])))
    if warn:
        frac = 1.0 - cnt[partial] / n
        short = int(np.sum(partial & (cnt < min_n)))
        msg = (f"{name}: exact zeros (an atom at 0) in {int(partial.sum())} of {m} column"
               f"{'s' if m > 1 else ''}, {100 * frac.max():.3g}% of the samples at most"
               f" (mean {100 * frac.mean():.3g}%); alpha is estimated on the nonzero samples"
               " (zeros='keep' includes them)")
        if short:
            msg += (f"; {short} column{'s' if short > 1 else ''} with fewer than {min_n} nonzero"
                    f" samples give{'' if short > 1 else 's'} nan")
        warnings.warn(msg, AtomWarning, stacklevel=3)
    return outs
