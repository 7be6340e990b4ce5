"""Closed forms for heavy-tailed SDEs: one module per result, and one door from a Problem.

The door
--------
:func:`closed_forms` takes a :class:`levydyn.Problem` and returns every closed form that
applies, each with its regime, assumptions, convention and source
(:mod:`levydyn.theory.closed_form`). The CLI, ``sweep`` and ``verify`` use it.

The modules (each reachable as an attribute, ``levydyn.theory.box``, imported on first use)
-----------------------------------------------------------------------------------------
``exit_interval`` (paper 000, Thm 1), ``box`` (paper 004, s = 1), ``schedules`` (paper 004
under Power / MultiStep schedules), ``markov_chain`` (paper 000, Thm 2), ``small_noise``
(first-order corrections), ``gaussian`` (alpha = 2: exact exit, Kramers/Eyring-Kramers),
``levy_measure`` (``c_alpha`` derived with sympy; the two conventions).

One argument order
------------------
Every function reads ``f([point,] alpha, eps, geometry, *, <keywords>)``:

* ``point``: where a function is evaluated, first as in ``scipy.stats`` (``t`` for a
  survival, ``p`` for a quantile, ``side``, axis indices ``l, j``, a ``horizon``);
* ``alpha, eps``: the noise (per axis where the result is N-dimensional; ``gaussian`` has
  ``eps`` only, alpha being 2); taken also where a result does not depend on eps, so
  every call has the same shape;
* ``geometry``: ``d_minus, d_plus`` (distances from the attractor ``x*`` to the faces),
  or a :class:`~levydyn.Box` / :class:`~levydyn.Ball` and the attractor ``x*``;
  ``minima, maxima`` or a :class:`~levydyn.WellPartition` (second slot omitted);
  ``gaussian``: the interval ends ``lower, upper`` or a 1-D Box;
* keyword-only: the landscape (``grad``, ``potential``, ``curvature``, ``x0``, ``core``),
  the ``schedule`` (a :mod:`levydyn.model.schedules` object; ``theory.schedules`` also takes the
  plain ``gamma, t0, milestones, values``), and ``measure``.

``measure="sas"`` (default) gives rates for SaS(1) noise (Levy measure
``c_alpha |y|^(-1-alpha) dy``, what levydyn simulates); ``measure="unit"`` for the unit
measure ``|y|^(-1-alpha) dy`` of the papers.
"""
from __future__ import annotations

import importlib

_MODULES = ("box", "closed_form", "exit_interval", "gaussian", "levy_measure", "markov_chain",
            "schedules", "small_noise")
_DOOR = ("closed_forms", "ClosedForm", "ClosedForms")


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _DOOR:
        return getattr(importlib.import_module(f"{__name__}.closed_form"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES, *_DOOR})


__all__ = [*_DOOR, *_MODULES]
