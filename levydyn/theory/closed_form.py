"""The one door from a :class:`~levydyn.Problem` to the closed forms that apply to it.

:func:`closed_forms` reads the problem -- noise (alpha_l, eps_l), potential and the
attractor ``x*`` of x0's basin (:func:`attractor`), domain (Box, Ball or WellPartition), schedule,
start point -- and returns every closed form of :mod:`levydyn.theory` whose statement
covers it, each with its regime, its assumptions, its Levy-measure convention and its
source. The CLI, :func:`levydyn.experiments.sweep.theory_columns` and :mod:`levydyn.experiments.verify` all ask
here, so one problem gets one answer everywhere.

What applies (``alpha`` per axis):

==============================================  ============================================
problem                                         closed forms (module)
==============================================  ============================================
Box/Ball, every alpha_l < 2, constant s, 1-D    Thm 1 of paper 000 (``exit_interval``); first
                                                order in eps^alpha (``small_noise``)
Box/Ball, every alpha_l < 2, constant s, N-D    paper 004 at s = 1 (``box``); first order per
                                                axis for a diagonal Quadratic (``small_noise``)
Box/Ball, every alpha_l < 2, Power/MultiStep    paper 004, exact small-noise law (``schedules``)
Box, alpha = 2, 1-D, constant s                 exact Brownian exit (``gaussian``); Laplace
                                                asymptotic for a Quadratic
WellPartition, alpha < 2, constant s            Thm 2 of paper 000 (``markov_chain``); first
                                                order (``small_noise.well_generator``)
WellPartition, alpha = 2, constant s            Eyring-Kramers chain (``gaussian``)
anything else (and non-stable noise laws)       nothing (``reason`` says why)
==============================================  ============================================

Values are computed when first read (a closed form that needs quadrature costs nothing
until asked for) and then kept; one that cannot be evaluated for these parameters raises
its one-line ``ValueError`` when read. Curves are functions: ``survival`` and
``cumulative_intensity`` of ``t``, ``exit_time_quantile`` of ``p``, ``expected_occupation``
of the horizon ``T``.

The noise is read from ``problem.alpha`` and ``problem.eps`` (symmetric alpha-stable,
SaS(1) per axis) in :func:`_stable_noise`; a Problem whose noise law is not
``StableNoise`` (truncated, tempered, empirical) gets no closed form, with the reason.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from levydyn.theory._validate import check_measure, faces

SMALL_NOISE = "small-noise limit (eps -> 0)"
FIRST_ORDER = ("first order in eps^alpha (levydyn's expansion, not in the papers: at most one "
               "extra large jump while the path relaxes)")
EXACT = "exact (no small-noise limit)"
LAPLACE = "small-noise asymptotic (eps -> 0, Laplace / Eyring-Kramers), relative error O(eps^2)"

CONVENTIONS = {
    "sas": "SaS(1) noise as simulated: Levy measure c_alpha |y|^(-1-alpha) dy",
    "unit": "unit Levy measure |y|^(-1-alpha) dy (the papers); rates of SaS(1) noise are c_alpha times these",
}
BROWNIAN = "alpha = 2: SaS(1) = N(0, 2), noise eps sqrt(2) dB (variance 2 eps^2 t)"
ANY = "independent of the Levy-measure convention (C only scales Q)"

_EXIT = ("x* = potential.minimum is the only attractor of -grad U in the domain, which it "
         "leaves invariant; start in its basin; exit by one large jump from near x*")
_AXES = "independent one-hot noise per axis (jumps of different axes never coincide)"
_BALL = "ball faces: distance from x* to the sphere along each axis (one-hot jumps)"
_BALL_LABEL = ("recorded exit axis = coordinate of the largest displacement from the ball's "
               "centre at exit (not the jump's axis when x* is off-centre), side = its sign")
_SCHED = "the schedule varies on the exit time scale (MultiStep: milestones ~ eps^-alpha)"
_WELLS = ("1-D landscape, non-degenerate minima separated by the maxima; natural time "
          "(generator eps^alpha Q); start in the well of x0")
_RELAX = "deterministic relaxation dx/dt = -U'(x) between jumps; wells counted at their cores"


@dataclass(frozen=True, eq=False)
class ClosedForm:
    """One closed form for one problem: its value and the terms on which it holds.

    ``value`` is computed on first access (and kept). ``regime``: the limit or order in
    which it holds; ``assumptions``: what the statement needs beyond the problem;
    ``convention``: the noise normalisation; ``source``: paper and equation;
    ``function``: the :mod:`levydyn.theory` function that evaluates it.
    """

    quantity: str
    regime: str
    assumptions: str
    convention: str
    source: str
    function: str
    compute: Callable[[], object] = field(repr=False)

    @functools.cached_property
    def value(self):
        return self.compute()

    def describe(self) -> dict:
        """The terms (no value): regime, assumptions, convention, source, function."""
        return {"regime": self.regime, "assumptions": self.assumptions,
                "convention": self.convention, "source": self.source, "function": self.function}


@dataclass(frozen=True, eq=False)
class ClosedForms(Mapping):
    """The closed forms that apply to a problem, by quantity (a read-only mapping).

    ``model``: which theory applies (e.g. ``"box small-noise limit"``, ``"none"``);
    ``reason``: why nothing (or not more) applies; ``measure``: the convention asked for.
    """

    problem: object
    measure: str
    model: str
    reason: str
    forms: dict

    @property
    def kind(self) -> str:
        """``"levy"`` (small-noise jump laws, alpha < 2), ``"brownian"`` (alpha = 2) or ``"none"``."""
        if self.model.endswith("small-noise limit"):
            return "levy"
        return "brownian" if self.model.startswith("gaussian") else "none"

    def __getitem__(self, quantity: str) -> ClosedForm:
        try:
            return self.forms[quantity]
        except KeyError:
            raise KeyError(f"no closed form {quantity!r} for this problem ({self.model}); "
                           f"available: {', '.join(self.forms) or 'none'}") from None

    def __iter__(self):
        return iter(self.forms)

    def __len__(self) -> int:
        return len(self.forms)

    def value(self, quantity: str, default=None):
        """The value of ``quantity``, or ``default`` when no closed form gives it."""
        return self.forms[quantity].value if quantity in self.forms else default

    def describe(self) -> dict:
        """JSON-friendly: model, reason, convention and the terms of every form."""
        return {"model": self.model, "kind": self.kind, "reason": self.reason, "measure": self.measure,
                "forms": {q: f.describe() for q, f in self.forms.items()}}


def _stable_noise(problem) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, eps)`` per axis of the problem's SaS(1) noise."""
    return np.asarray(problem.alpha, dtype=float), np.asarray(problem.eps, dtype=float)


class _Forms:
    """Collects the forms of one problem (shared terms filled in)."""

    def __init__(self, convention: str):
        self.convention = convention
        self.forms: dict = {}

    def add(self, quantity, compute, regime, assumptions, source, function, convention=None):
        self.forms[quantity] = ClosedForm(quantity, regime, assumptions,
                                          convention or self.convention, source, function, compute)


def _cached(fn):
    return functools.lru_cache(maxsize=1)(fn)


# --------------------------------------------------------------------------- exit problems


def _add_law(F: _Forms, module, args, kw, table, regime, assumptions, source) -> None:
    """Add ``quantity -> module.function(args, **kw)`` for each ``(quantity, function, curve)``
    of ``table``; a curve is the function of its evaluation point (``t`` or ``p``)."""
    for quantity, name, curve in table:
        f = getattr(module, name)
        if curve:
            compute = (lambda f=f: lambda x: f(x, *args, **kw))
        else:
            compute = (lambda f=f: f(*args, **kw))
        F.add(quantity, compute, regime, assumptions, source, f"{module.__name__}.{name}")


_LAW = [("mean_exit_time", "mean_exit_time", False), ("survival", "survival", True),
        ("exit_time_quantile", "exit_time_quantile", True)]


def _levy_exit(F: _Forms, problem, alpha, eps, measure) -> str:
    from levydyn.model.domains import Ball
    from levydyn.theory import box, exit_interval, schedules

    pot, dom, sched = problem.potential, problem.domain, problem.schedule
    xstar = attractor(problem)
    dm, dp = (np.asarray(v, dtype=float) for v in faces(dom, xstar))
    assume = _EXIT.replace("x* = potential.minimum", f"x* = {xstar.tolist()} (x0's attractor)")
    assume += "; " + _BALL if isinstance(dom, Ball) else ""
    kw = {"measure": measure}
    if not sched.is_constant:
        _add_law(F, schedules, (alpha, eps, dm, dp), {**kw, "schedule": sched},
                 _LAW + [("median_exit_time", "median_exit_time", False),
                         ("intensity", "intensity", True),
                         ("cumulative_intensity", "cumulative_intensity", True),
                         ("exit_side_probabilities", "exit_side_probabilities", False),
                         ("exit_axis_probabilities", "exit_axis_probabilities", False)],
                 SMALL_NOISE, assume + "; " + _AXES + "; " + _SCHED,
                 "paper 004, Thms 4.1, 4.3, 4.5 / Cors 4.2, 4.6 (exact small-noise law, eqs. 12-13)")
        _ball_labels(F, problem, alpha, eps, xstar, measure, SMALL_NOISE, assume)
        return "schedules small-noise limit"
    if problem.dim == 1:
        args = (float(alpha[0]), float(eps[0]), float(dm[0]), float(dp[0]))
        src = "paper 000, Thm 1, eqs. 11-12 (Imkeller & Pavlyukevich 2006)"
        _add_law(F, exit_interval, args, kw,
                 _LAW + [("exit_rate", "exit_rate", False), ("median_exit_time", "median_exit_time", False)],
                 SMALL_NOISE, assume, src)
        F.add("exit_side_probabilities",
              lambda: np.array([[exit_interval.side_probability(s, *args, **kw) for s in (-1, 1)]]),
              SMALL_NOISE, assume, src + " (q_ij / q_i)", "levydyn.theory.exit_interval.side_probability")
        F.add("exit_axis_probabilities", lambda: np.ones(1), SMALL_NOISE, assume, src, "(one axis)")
        F.add("eps_scaling_exponent", lambda: exit_interval.eps_scaling_exponent(args[0], **kw),
              SMALL_NOISE, assume, src + " (E sigma ~ eps^-alpha)",
              "levydyn.theory.exit_interval.eps_scaling_exponent")
        first = _cached(lambda: _interval_first_order(problem, args, dom, xstar, measure))
        a1, src1 = assume + "; " + _RELAX, "levydyn.theory.small_noise (first-order expansion)"
        fn1 = "levydyn.theory.small_noise.interval_rates"
        F.add("exit_rate_first_order", lambda: first()["rate_1"], FIRST_ORDER, a1, src1, fn1)
        F.add("mean_exit_time_first_order", lambda: 1.0 / first()["rate_1"], FIRST_ORDER, a1, src1, fn1)
        F.add("exit_side_probabilities_first_order",
              lambda: np.array([[1.0 - first()["side_plus_1"], first()["side_plus_1"]]]),
              FIRST_ORDER, a1, src1, fn1)
        return "exit_interval small-noise limit"
    args = (alpha, eps, dm, dp)
    a = assume + "; " + _AXES
    src = "paper 004, Sec. 3.2 (eqs. 12-13) and Thm 4.3 at s = 1"
    _add_law(F, box, args, kw,
             _LAW + [("exit_rate", "total_rate", False), ("exit_side_rates", "side_rates", False),
                     ("exit_side_probabilities", "exit_side_probabilities", False),
                     ("exit_axis_probabilities", "exit_axis_probabilities", False)],
             SMALL_NOISE, a, src)
    F.add("median_exit_time", lambda: box.exit_time_quantile(0.5, *args, **kw), SMALL_NOISE, a, src,
          "levydyn.theory.box.exit_time_quantile")
    _ball_labels(F, problem, alpha, eps, xstar, measure, SMALL_NOISE, a)
    h = _diagonal_curvature(pot)
    if h is not None and not isinstance(dom, Ball):
        F.add("exit_side_rates_first_order", lambda: _box_first_order(alpha, eps, dm, dp, h, measure),
              FIRST_ORDER, a + "; " + _RELAX + "; diagonal Hessian: the axes are independent intervals",
              "levydyn.theory.small_noise (first-order expansion, per axis)",
              "levydyn.theory.small_noise.interval_rates")
    return "box small-noise limit"


def _ball_labels(F: _Forms, problem, alpha, eps, xstar, measure, regime, assume) -> None:
    """For a Ball: the exit side/axis probabilities of the label the simulator records
    (largest displacement from the centre), :mod:`levydyn.theory.ball`."""
    from levydyn.model.domains import Ball
    from levydyn.theory import ball

    dom = problem.domain
    if not isinstance(dom, Ball) or problem.dim == 1:
        return
    args = (alpha, eps, dom.center, dom.radius, xstar)
    src = ("paper 004, eqs. 12-13, jump intensities relabelled to the recorded axis "
           "(levydyn.theory.ball docstring)")
    a = assume + "; " + _BALL_LABEL
    F.add("exit_side_probabilities", lambda: ball.exit_side_probabilities(*args, measure=measure),
          regime, a, src, "levydyn.theory.ball.exit_side_probabilities")
    F.add("exit_axis_probabilities", lambda: ball.exit_axis_probabilities(*args, measure=measure),
          regime, a, src, "levydyn.theory.ball.exit_axis_probabilities")


def attractor(problem) -> np.ndarray:
    """The attractor ``x*`` of ``-grad U`` whose basin holds ``problem.x0``.

    A :class:`~levydyn.potentials.MultiWell1D` has one attractor per minimum ``m_i``, basin
    ``(s_{i-1}, s_i)`` between its maxima: ``x* = m_i`` for ``x0`` in that basin. The exit
    theorems need the domain to hold exactly that attractor and to be invariant under the
    flow, so a domain holding two minima, or a maximum, raises a ``ValueError`` saying so
    (:func:`closed_forms` turns it into ``reason``). Other potentials declare their one
    attractor as ``potential.minimum``.
    """
    from levydyn.model.potentials import MultiWell1D

    pot, dom = problem.potential, problem.domain
    if not isinstance(pot, MultiWell1D):
        return np.asarray(pot.minimum, dtype=float)
    m, s = np.array(pot.minima), np.array(pot.maxima)
    x0 = float(np.asarray(problem.x0, dtype=float).reshape(-1)[0])
    if np.any(s == x0):
        raise ValueError(f"x0={x0:g} is a maximum of U, in no attractor's basin: no exit law applies")
    own = float(m[np.searchsorted(s, x0)])
    held = [float(v) for v in m if dom.contains([v])]
    if len(held) > 1:
        raise ValueError(f"the domain {dom.describe()} holds {len(held)} attractors {held} of "
                         f"-grad U (x0={x0:g} is in the basin of {own:g}); the exit theorems need "
                         "exactly one, so no exit law applies")
    tops = [float(v) for v in s if dom.contains([v])]
    if tops:
        raise ValueError(f"the domain {dom.describe()} contains the maximum {tops} of U, so the "
                         f"flow leaves it without a jump; the exit theorems need it inside the "
                         f"basin of x0's attractor {own:g}")
    return np.array([own])


def _box_first_order(alpha, eps, dm, dp, h, measure) -> np.ndarray:
    """(N, 2) side rates to first order: the axes of a diagonal quadratic are independent."""
    from levydyn.theory import small_noise

    out = []
    for l in range(alpha.size):
        fo = small_noise.interval_rates(float(alpha[l]), float(eps[l]), float(dm[l]), float(dp[l]),
                                        curvature=float(h[l]), measure=measure)
        out.append([fo["rate_1"] * (1 - fo["side_plus_1"]), fo["rate_1"] * fo["side_plus_1"]])
    return np.array(out)


def _diagonal_curvature(potential) -> np.ndarray | None:
    """Diagonal Hessian of a Quadratic (None for other potentials or a full Hessian)."""
    from levydyn.model.potentials import Quadratic

    if not isinstance(potential, Quadratic):
        return None
    H = potential.hessian_matrix
    return np.diag(H).copy() if np.count_nonzero(H - np.diag(np.diag(H))) == 0 else None


def _interval_first_order(problem, args, dom, xstar, measure) -> dict:
    from levydyn.theory import small_noise

    a, e, dm, dp = args
    h = _diagonal_curvature(problem.potential)
    if h is not None:
        return small_noise.interval_rates(a, e, dm, dp, curvature=float(h[0]), measure=measure)
    return small_noise.interval_rates(a, e, dom, xstar, grad=problem.potential, measure=measure)


def _brownian_exit(F: _Forms, problem, eps) -> str:
    from levydyn.model.potentials import Quadratic
    from levydyn.theory import gaussian

    pot, dom = problem.potential, problem.domain
    e = float(eps[0])
    x0 = float(problem.x0[0])
    src = "Gardiner, Stochastic Methods, Sec. 5.2.7; Karlin & Taylor, Ch. 15 (scale and speed)"
    a = "alpha = 2, 1-D, constant schedule; exact for any U on the interval, from x0"
    if isinstance(pot, Quadratic):
        c = float(pot.minimum[0])
        h = float(pot.hessian_matrix[0, 0])
        dm, dp = (float(v[0]) for v in faces(dom, pot.minimum))
        x_rel = x0 - c
        U = lambda x: 0.5 * h * x * x  # noqa: E731  (coordinates centred at the minimum)
        F.add("mean_exit_time", lambda: gaussian.mean_exit_time(e, -dm, dp, potential=U, x0=x_rel),
              EXACT, a, src, "levydyn.theory.gaussian.mean_exit_time", BROWNIAN)
        F.add("exit_side_probabilities",
              lambda: np.array([[gaussian.exit_side_probability(s, e, -dm, dp, potential=U, x0=x_rel)
                                 for s in (-1, 1)]]),
              EXACT, a, src, "levydyn.theory.gaussian.exit_side_probability", BROWNIAN)
        F.add("mean_exit_time_laplace",
              lambda: gaussian.quadratic_mean_exit_time(e, dm, dp, curvature=h, asymptotic=True),
              LAPLACE, "quadratic well, started at (or relaxed to) its minimum",
              "Laplace's method on the exact formula (gaussian module docstring)",
              "levydyn.theory.gaussian.quadratic_mean_exit_time", BROWNIAN)
    else:
        F.add("mean_exit_time_laplace", lambda: gaussian.laplace_mean_exit_time(e, dom, potential=pot),
              LAPLACE, "started at (or relaxed to) the minimum of U, which rises from it to both "
              "ends; needs potential.value",
              "Laplace's method on the exact formula (gaussian module docstring)",
              "levydyn.theory.gaussian.laplace_mean_exit_time", BROWNIAN)
        F.add("mean_exit_time", lambda: gaussian.mean_exit_time(e, dom, potential=pot, x0=x0),
              EXACT, a + " (needs potential.value)", src, "levydyn.theory.gaussian.mean_exit_time", BROWNIAN)
        F.add("exit_side_probabilities",
              lambda: np.array([[gaussian.exit_side_probability(s, e, dom, potential=pot, x0=x0)
                                 for s in (-1, 1)]]),
              EXACT, a + " (needs potential.value)", src,
              "levydyn.theory.gaussian.exit_side_probability", BROWNIAN)
    F.add("exit_axis_probabilities", lambda: np.ones(1), EXACT, a, src, "(one axis)", BROWNIAN)
    return "gaussian exact"


# --------------------------------------------------------------------------- wells


def _chain_forms(F: _Forms, Q: Callable[[], np.ndarray], regime, assume, src, start: int,
                 convention=None) -> None:
    from levydyn.theory import markov_chain as mc

    fn = "levydyn.theory.markov_chain."
    F.add("stationary_distribution", lambda: mc.stationary_from_generator(Q()), regime, assume,
          src + " (Q^T pi = 0)", fn + "stationary_from_generator", convention or ANY)
    F.add("exit_rates", lambda: -np.diag(Q()).copy(), regime, assume, src, "-diag(Q)", convention)
    F.add("mean_first_passage_times", lambda: mc.first_passage_from_generator(Q()), regime, assume,
          src, fn + "first_passage_from_generator", convention)
    F.add("expected_occupation", lambda: lambda T: mc.occupation_from_generator(Q(), start, T), regime,
          assume + f"; chain started in well {start + 1}", src + " (finite horizon, deviation matrix)",
          fn + "occupation_from_generator", convention)


def _levy_wells(F: _Forms, problem, alpha, eps, measure) -> str:
    from levydyn.theory import markov_chain as mc
    from levydyn.theory import small_noise

    dom = problem.domain
    a, e = float(alpha[0]), float(eps[0])
    start = dom.well_of(float(problem.x0[0]))
    src = "paper 000, Thm 2, eqs. 13-14 (Imkeller & Pavlyukevich 2008)"
    Q = _cached(lambda: mc.generator(a, e, dom, measure=measure))
    F.add("generator", Q, SMALL_NOISE, _WELLS, src, "levydyn.theory.markov_chain.generator")
    F.add("jump_chain", lambda: mc.jump_chain(a, e, dom, measure=measure), SMALL_NOISE, _WELLS,
          src + " (q_ij / q_i)", "levydyn.theory.markov_chain.jump_chain", ANY)
    _chain_forms(F, Q, SMALL_NOISE, _WELLS, src, start)
    if dom.n_wells == 2:
        F.add("two_well_stationary", lambda: np.array(mc.two_well_stationary(a, e, dom, measure=measure)),
              SMALL_NOISE, _WELLS, "paper 000, after eq. 14",
              "levydyn.theory.markov_chain.two_well_stationary", ANY)
    F.add("generator_first_order",
          _cached(lambda: small_noise.well_generator(a, e, dom, grad=problem.potential, measure=measure)[1]),
          FIRST_ORDER, _WELLS + "; " + _RELAX, "levydyn.theory.small_noise (first-order expansion)",
          "levydyn.theory.small_noise.well_generator")
    return "markov_chain small-noise limit"


def _brownian_wells(F: _Forms, problem, eps) -> str:
    from levydyn.theory import gaussian

    dom = problem.domain
    e = float(eps[0])
    start = dom.well_of(float(problem.x0[0]))
    src = "Eyring-Kramers law (e.g. Berglund 2013, Markov Process. Relat. Fields 19)"
    assume = _WELLS.replace("eps^alpha Q", "Q") + "; transitions between neighbouring wells only"
    Q = _cached(lambda: gaussian.eyring_kramers_generator(e, dom, potential=problem.potential))
    F.add("generator", Q, LAPLACE, assume, src, "levydyn.theory.gaussian.eyring_kramers_generator", BROWNIAN)
    _chain_forms(F, Q, LAPLACE, assume, src, start, BROWNIAN)
    return "gaussian Eyring-Kramers"


# --------------------------------------------------------------------------- the door


def closed_forms(problem, *, measure: str = "sas") -> ClosedForms:
    """Every closed form of :mod:`levydyn.theory` that applies to ``problem``.

    Parameters
    ----------
    problem : :class:`levydyn.Problem`.
    measure : ``"sas"`` (default): rates for the SaS(1) noise levydyn simulates (Levy
        measure ``c_alpha |y|^(-1-alpha) dy``); ``"unit"``: for the unit measure
        ``|y|^(-1-alpha) dy`` of the papers. Brownian (alpha = 2) forms exist only for "sas".

    Returns
    -------
    :class:`ClosedForms`, a mapping quantity -> :class:`ClosedForm` (value, regime,
    assumptions, convention, source), with ``model`` (which theory applies) and ``reason``
    (why nothing applies, when nothing does). See the module docstring for the table.
    """
    from levydyn.model.problem import Problem

    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a levydyn.Problem, got problem={problem!r}")
    check_measure(measure)
    F = _Forms(CONVENTIONS[measure])
    law = getattr(problem, "noise", None)
    if law is not None and law.name != "stable":
        return ClosedForms(problem, measure, "none",
                           f"no closed form for {type(law).__name__} noise: the theorems assume "
                           "symmetric alpha-stable (or Brownian) noise", {})
    alpha, eps = _stable_noise(problem)
    try:
        model, reason = _dispatch(F, problem, alpha, eps, measure)
    except ValueError as err:            # e.g. the attractor x* outside the domain
        model, reason, F.forms = "none", " ".join(str(err).split()), {}
    return ClosedForms(problem, measure, model, reason, F.forms)


def _dispatch(F: _Forms, problem, alpha, eps, measure) -> tuple[str, str]:
    from levydyn.model.domains import WellPartition

    levy, brownian = bool(np.all(alpha < 2.0)), bool(np.all(alpha == 2.0))
    constant = problem.schedule.is_constant
    reason = ""
    if isinstance(problem.domain, WellPartition):
        if not constant:
            model, reason = "none", "no closed form for wells under a learning-rate schedule"
        elif levy:
            model = _levy_wells(F, problem, alpha, eps, measure)
        elif brownian and measure == "sas":
            model = _brownian_wells(F, problem, eps)
        else:
            model, reason = "none", "the Brownian chain has no 'unit' Levy-measure convention"
    elif levy:
        model = _levy_exit(F, problem, alpha, eps, measure)
    elif brownian and problem.dim == 1 and constant and measure == "sas":
        model = _brownian_exit(F, problem, eps)
    else:
        model = "none"
        reason = ("alpha = 2 axes mixed with jump axes" if not brownian else
                  "Brownian exit has a closed form only in 1-D, under a constant schedule, for SaS(1) noise")
    return model, reason


__all__ = ["ClosedForm", "ClosedForms", "attractor", "closed_forms", "SMALL_NOISE", "FIRST_ORDER", "EXACT", "LAPLACE"]
