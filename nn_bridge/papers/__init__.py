"""Stage 6, papers: the seed papers' measurements repeated on small networks.

Takes in: dataset and architecture grids (``nn_bridge.data``), the training and noise
stages (``nn_bridge.training``, ``nn_bridge.noise``).
Hands on: rows comparable with the papers' tables: per-parameter noise tail indices and
third-moment / Berry-Esseen bounds across batch sizes (``reproduce``), and tail indices of
the SGD iterates themselves (``iterates``, paper 001's protocol).
"""
from nn_bridge.papers.iterates import IterateConfig, IterateRow, run_iterates
from nn_bridge.papers.reproduce import ReproduceRow, bound_batch_size, reproduce_grid

__all__ = ["IterateConfig", "IterateRow", "ReproduceRow", "bound_batch_size", "reproduce_grid",
           "run_iterates"]
