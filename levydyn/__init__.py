"""levydyn: heavy-tailed SDEs for the theory of stochastic gradient descent.

``Problem`` (potential, alpha_l, eps_l, schedule, domain) -> ``simulate`` -> Result.
"""
from levydyn.model.domains import Ball, Box, WellPartition
from levydyn.model.noise import c_alpha, sas_rvs
from levydyn.model.noise_laws import EmpiricalNoise, StableNoise, TemperedStable, TruncatedStable
from levydyn.model.potentials import Ackley2D, Custom, MultiWell1D, Quadratic
from levydyn.model.problem import Problem
from levydyn.results import Estimate, EscapeResult, TransitionResult
from levydyn.model.schedules import Constant, MultiStep, Power, parse_schedule
from levydyn.simulate import simulate
from levydyn.trajectories import Recording

__all__ = [
    "Ackley2D", "Ball", "Box", "Constant", "Custom", "EmpiricalNoise", "EscapeResult", "Estimate",
    "MultiStep", "MultiWell1D", "Power", "Problem", "Quadratic", "Recording", "StableNoise",
    "TemperedStable", "TransitionResult", "TruncatedStable", "WellPartition",
    "c_alpha", "kesten", "parse_schedule", "sas_rvs", "simulate", "theory",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``levydyn.theory`` and ``levydyn.kesten`` (random linear recursions: multiplicative
    noise) on first use, so ``import levydyn`` does not pay for them."""
    if name in ("theory", "kesten"):
        import importlib

        return importlib.import_module(f"levydyn.{name}")
    raise AttributeError(f"module 'levydyn' has no attribute {name!r}")
