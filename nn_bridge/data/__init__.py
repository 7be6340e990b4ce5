"""Stage 1, data: what a network is made of.

Takes in: a dataset name (``load_dataset``: built-in sklearn sets) or the user's arrays
(``load_npz_data``, ``dataset_from_arrays``), a built-in architecture (``ModelSpec`` ->
``build_model``) or the user's own ``nn.Module`` from a file (``load_model_file``).
``Network`` ties one model (built-in or the user's), its loss and its data together, checked
once; every later stage takes it.
Hands on: ``Dataset`` (train/test tensors), an ``nn.Module`` with its ``weights_checksum``,
and the flat-parameter view every later stage works in (``FlatModel``: the network as a
function of one vector ``w``; ``ParameterLayout``: how ``w`` splits into named tensors).
"""
from nn_bridge.data.datasets import BUILTIN_DATASETS, Dataset, dataset_from_arrays, load_dataset
from nn_bridge.data.flat import FlatModel, ParameterLayout, parameter_layout
from nn_bridge.data.models import MLP, ModelSpec, SmallCNN, build_model, weights_checksum
from nn_bridge.data.network import LOSSES, Network
from nn_bridge.data.user_model import load_model_file, load_npz_data

__all__ = ["BUILTIN_DATASETS", "Dataset", "FlatModel", "LOSSES", "MLP", "ModelSpec", "Network",
           "ParameterLayout", "dataset_from_arrays",
           "SmallCNN", "build_model", "load_dataset", "load_model_file", "load_npz_data",
           "parameter_layout", "weights_checksum"]
