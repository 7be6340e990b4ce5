"""levydyn: heavy-tailed SDEs for the theory of stochastic gradient descent."""
from levydyn.noise import c_alpha, sas_rvs

__all__ = ["c_alpha", "sas_rvs"]
__version__ = "0.1.0"
