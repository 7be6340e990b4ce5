"""levydyn: heavy-tailed SDEs for the theory of stochastic gradient descent.

``Problem`` (potential, alpha_l, eps_l, schedule, domain) -> ``simulate`` -> Result.
"""
from levydyn.domains import Ball, Box, WellPartition
from levydyn.noise import c_alpha, sas_rvs
from levydyn.potentials import Ackley2D, Custom, MultiWell1D, Quadratic
from levydyn.problem import Problem
from levydyn.results import Estimate, EscapeResult, TransitionResult
from levydyn.schedules import Constant, MultiStep, Power, parse_schedule
from levydyn.simulate import simulate
from levydyn import kesten  # random linear recursions (multiplicative noise)

__all__ = [
    "Ackley2D", "Ball", "Box", "Constant", "Custom", "EscapeResult", "Estimate", "MultiStep",
    "MultiWell1D", "Power", "Problem", "Quadratic", "TransitionResult", "WellPartition",
    "c_alpha", "kesten", "parse_schedule", "sas_rvs", "simulate",
]
__version__ = "0.1.0"
