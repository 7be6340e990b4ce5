"""Stage 3, noise: trained weights -> the per-parameter law of the minibatch gradient noise.

Takes in: a model at w* (from ``nn_bridge.training``), its loss and data.
Measures: per-sample gradients and minibatch means ``u_d = g_d - grad U`` (``per_sample``,
N x P in memory) or their moments streamed in bounded memory for any model/loss/data
(``stream``); per-parameter tail indices alpha_i and scales sigma_i, Gaussianity tests and
fit errors (``stats``; log-moment estimator in ``log_moments``); ``measure`` is the one door
(train -> collect -> stats, resumable).
Hands on: ``NoiseStats`` / ``StreamStats`` and ``NoiseProfile`` (alpha_i, sigma_i per
coordinate of w, JSON/npz) from which ``nn_bridge.escape`` builds a levydyn SDE Problem.
"""
from nn_bridge.noise.measure import MeasureConfig, Measurement, measure_noise, run_measurement
from nn_bridge.noise.per_sample import (GradientNoise, collect_noise, collect_noise_loop,
                                        minibatch_indices, per_sample_gradients, pooled_noise)
from nn_bridge.noise.profile import NoiseProfile, load_profile, save_profile
from nn_bridge.noise.stats import NoiseStats, noise_stats
from nn_bridge.noise.stream import StreamConfig, StreamStats, stream_noise

__all__ = ["GradientNoise", "MeasureConfig", "Measurement", "NoiseProfile", "NoiseStats",
           "StreamConfig", "StreamStats", "collect_noise", "collect_noise_loop", "load_profile",
           "measure_noise", "minibatch_indices", "noise_stats", "per_sample_gradients",
           "pooled_noise", "run_measurement", "save_profile", "stream_noise"]
