"""The model: what is simulated.

A :class:`~levydyn.model.problem.Problem` gathers a potential ``U`` (:mod:`.potentials`), a noise
law (:mod:`.noise_laws`, sampled by :mod:`.noise`: SaS(1), ``E exp(i w L_1) = exp(-|w|^alpha)``),
a learning-rate schedule ``s_t`` (:mod:`.schedules`), an exit set or well partition
(:mod:`.domains`) and a start point. The constraints on every field are declared once in
:mod:`.validation` and shared with the command line's types.

Nothing here runs a simulation: :mod:`levydyn.solvers` and :func:`levydyn.simulate` do, and the
public names are re-exported from :mod:`levydyn` itself.
"""
