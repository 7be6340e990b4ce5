"""The user's own network and data for ``levydyn nn measure --model-file FILE.py:FUNC --data D.npz``.

Model file: a Python file defining a function (``FUNC``, default ``build``) that takes no
arguments and returns either a ``torch.nn.Module`` or a pair ``(module, loss_fn)`` with
``loss_fn(outputs, targets)`` a scalar mean over the minibatch (default: cross-entropy).
The module is measured at the weights the builder gives it: load a checkpoint inside the
builder (``model.load_state_dict(torch.load(...))``) to measure trained weights.

Data file: a ``.npz`` with arrays ``X`` (inputs, any shape ``(n, ...)``, fed to the model
as they are, float32) and ``y`` (targets: integer class labels become int64, real targets
float32). No standardisation or split: the file is the training set whose gradient noise
is measured.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

__all__ = ["load_model_file", "load_npz_data"]


def load_model_file(spec: str) -> tuple[nn.Module, Callable]:
    """``"path.py:func"`` (``func`` defaults to ``build``) -> ``(model, loss_fn)``."""
    text = str(spec)
    path, sep, func = text.rpartition(":")
    if not sep or not path.endswith(".py"):
        path, func = text, "build"
    func = func or "build"
    p = Path(path)
    if p.suffix != ".py" or not p.is_file():
        raise ValueError(f"model_file={text!r}: {path!r} is not a Python file")
    name = f"_levydyn_user_model_{abs(hash(str(p.resolve())))}"
    mod_spec = importlib.util.spec_from_file_location(name, p)
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[name] = module
    try:
        mod_spec.loader.exec_module(module)
    except Exception as exc:   # the user's file: any failure is reported in one line
        raise ValueError(f"model_file={text!r}: importing {path!r} failed "
                         f"({type(exc).__name__}: {exc})") from None
    builder = getattr(module, func, None)
    if not callable(builder):
        raise ValueError(f"model_file={text!r}: {path!r} has no function {func!r}")
    try:
        out = builder()
    except Exception as exc:
        raise ValueError(f"model_file={text!r}: {func}() failed "
                         f"({type(exc).__name__}: {exc})") from None
    loss_fn: Callable = nn.functional.cross_entropy
    if isinstance(out, tuple) and len(out) == 2:
        out, loss_fn = out
        if not callable(loss_fn):
            raise ValueError(f"model_file={text!r}: {func}() returned a loss that is not "
                             "callable")
    if not isinstance(out, nn.Module):
        raise ValueError(f"model_file={text!r}: {func}() returned {type(out).__name__}, "
                         "expected a torch.nn.Module or (module, loss_fn)")
    return out, loss_fn


def load_npz_data(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``X, y`` tensors from a ``.npz`` (module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data={str(path)!r}: file not found")
    try:
        with np.load(p, allow_pickle=False) as z:
            if "X" not in z.files or "y" not in z.files:
                raise ValueError(f"data={str(path)!r}: needs arrays 'X' and 'y', has "
                                 f"{sorted(z.files)}")
            X, y = z["X"], z["y"]
    except (OSError, EOFError) as exc:
        raise ValueError(f"data={str(path)!r}: not a readable .npz ({exc})") from None
    if X.ndim < 1 or y.ndim < 1 or X.shape[0] != y.shape[0] or X.shape[0] < 2:
        raise ValueError(f"data={str(path)!r}: X has shape {X.shape} and y {y.shape}; need "
                         "the same number (>= 2) of samples")
    if not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
        raise ValueError(f"data={str(path)!r}: X must be finite numbers")
    Xt = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))
    if np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
        yt = torch.as_tensor(np.ascontiguousarray(y, dtype=np.int64))
    elif np.issubdtype(y.dtype, np.floating):
        yt = torch.as_tensor(np.ascontiguousarray(y, dtype=np.float32))
    else:
        raise ValueError(f"data={str(path)!r}: y has dtype {y.dtype}, expected numbers")
    return Xt, yt
