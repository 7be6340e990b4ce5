"""Experiments: applications of the simulators, compared with theory and estimators.

- :mod:`.verify`: theorem by theorem, simulation of a Problem against :mod:`levydyn.theory`;
- :mod:`.sweep`: a grid of escape problems run as independent Dask tasks;
- :mod:`.sgd_tails`: heavy-tailed SGD iterates on least squares (the Kesten tail index, theory
  vs simulation), an application of :mod:`levydyn.kesten`;
- :mod:`.sgd_tails_data`: the same on a user's data set, as in the authors' experiments.

Dependencies point one way: experiments import kesten, solvers, theory and the model, never
the reverse.
"""
