"""Offline classification datasets for gradient-noise measurements.

Built-in (shipped with scikit-learn, no download):

- ``breast_cancer``: 569 x 30 tabular, 2 classes -- the stand-in for paper 004's UCI
  "Cardio" (a small tabular set on which a 3-layer ReLU MLP is trained);
- ``wine``: 178 x 13 tabular, 3 classes;
- ``digits``: 1797 x 64 (8 x 8 grey images, MNIST-like), 10 classes.

A user's own data: a ``.npz`` with arrays ``X`` (n x d or n x h x w) and ``y`` (n integer
labels), or a numeric ``.csv`` whose last column is the label (an optional header row is
skipped). Labels are mapped to ``0..C-1``. In Python, arrays or tensors
(``dataset_from_arrays``).

Targets: ``task="classification"`` (integer labels, at least two classes) or
``"regression"`` (real targets, shape ``(n,)`` or ``(n, k)``, kept as they are; ``n_classes``
is then the output width ``k``, 1 for 1-D targets); ``"auto"`` picks classification for
integer (or boolean) labels and regression for real ones.

Features are standardised with the *training* part's mean and standard deviation
(constant features keep scale 1). The train/test split is stratified and fixed by
``seed``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "BUILTIN_DATASETS", "TASKS", "dataset_from_arrays", "load_dataset"]

BUILTIN_DATASETS = ("breast_cancer", "digits", "wine")
TASKS = ("classification", "regression", "auto")


@dataclass(frozen=True)
class Dataset:
    """A standardised, split classification dataset (numpy, float32 features).

    ``X_*`` have shape ``(n, d)`` (images flattened); ``image_shape`` is ``(C, H, W)``
    for image data (digits: ``(1, 8, 8)``) and ``None`` for tabular data.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple[int, int, int] | None = None
    seed: int = 0
    test_fraction: float = 0.2
    task: str = "classification"
    _checksum: str = field(default="", repr=False, compare=False)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Output width a model needs: classes, or the regression targets' width."""
        return self.n_classes

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input as the model receives it: ``image_shape`` or ``(d,)``."""
        return tuple(self.image_shape) if self.image_shape else (self.n_features,)

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def checksum(self) -> str:
        """sha256 (first 16 hex digits) of the split, standardised arrays."""
        if not self._checksum:
            h = hashlib.sha256()
            for a in (self.X_train, self.y_train, self.X_test, self.y_test):
                h.update(np.ascontiguousarray(a).tobytes())
            object.__setattr__(self, "_checksum", h.hexdigest()[:16])
        return self._checksum

    def describe(self) -> dict:
        return {"name": self.name, "n_train": self.n_train, "n_test": int(self.X_test.shape[0]),
                "n_features": self.n_features, "n_classes": self.n_classes,
                "seed": self.seed, "test_fraction": self.test_fraction, "checksum": self.checksum,
                **({"task": self.task} if self.task != "classification" else {})}


def load_dataset(name: str, *, test_fraction: float = 0.2, seed: int = 0,
                 task: str = "classification", standardize: bool = True) -> Dataset:
    """Load, split (stratified for classification, ``seed``) and standardise a dataset.

    Parameters
    ----------
    name : a built-in name (``breast_cancer``, ``wine``, ``digits``) or a path to a
        ``.npz``/``.csv`` file.
    test_fraction : held-out fraction in [0, 0.9]; 0 keeps every sample for training.
    seed : seed of the split.
    task : ``"classification"``, ``"regression"`` or ``"auto"`` (module docstring).
    standardize : standardise the features with the training part's mean and std.
    """
    X, y, image_shape, label = _read(name, task)
    return _prepare(X, y, image_shape, label, f"dataset={name!r}", test_fraction, seed, task,
                    standardize)


def dataset_from_arrays(X, y, *, name: str = "arrays", test_fraction: float = 0.0,
                        seed: int = 0, task: str = "auto", standardize: bool = True) -> Dataset:
    """A :class:`Dataset` from arrays / tensors ``X`` ``(n, ...)`` and ``y`` ``(n, ...)`` or
    from a ``torch.utils.data.Dataset`` of ``(x, y)`` pairs given as ``X`` (``y=None``).

    Inputs of more than one dimension per sample are kept as ``image_shape`` (a 2-D sample
    ``(h, w)`` becomes ``(1, h, w)``); by default every sample is training data."""
    where = f"data={name!r}"
    if y is None:
        X, y = _stack_pairs(X, where)
    X = _numpy(X, "X", where)
    y = _numpy(y, "y", where)
    if X.ndim < 2:
        X = X.reshape(-1, 1)
    image_shape = None
    return _prepare(X.astype(np.float64), y, image_shape, name, where, test_fraction, seed,
                    task, standardize)


def _numpy(a, what: str, where: str) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if not (np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.bool_)):
        raise ValueError(f"{where}: {what} has dtype {a.dtype}, expected numbers")
    return a


def _stack_pairs(ds, where: str):
    """``(X, y)`` from a map-style dataset of ``(x, y)`` pairs."""
    try:
        pairs = [ds[i] for i in range(len(ds))]
        X = np.stack([_numpy(p[0], "x", where) for p in pairs])
        y = np.stack([_numpy(p[1], "y", where) for p in pairs])
    except (TypeError, IndexError, ValueError, KeyError) as exc:
        raise ValueError(f"{where}: expected (X, y) or a Dataset of (x, y) pairs of equal "
                         f"shapes ({type(exc).__name__}: {exc})") from None
    return X, y


def _prepare(X, y, image_shape, label, where, test_fraction, seed, task, standardize) -> Dataset:
    if not isinstance(test_fraction, (int, float)) or not 0.0 <= float(test_fraction) <= 0.9:
        raise ValueError(f"test_fraction={test_fraction!r}: must be a number in [0, 0.9]")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be a non-negative integer")
    if task not in TASKS:
        raise ValueError(f"task={task!r}: must be one of {', '.join(TASKS)}")
    if X.ndim < 1 or y.ndim < 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"{where}: X has {X.shape[0] if X.ndim else 0} samples but y has "
                         f"{y.shape[0] if y.ndim else 0}: lengths must match")
    if X.ndim > 2:
        image_shape = (1,) + tuple(X.shape[1:]) if X.ndim == 3 else tuple(X.shape[1:])
        X = X.reshape(X.shape[0], -1)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"{where}: X has shape {X.shape}; need at least 2 samples")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{where}: features contain NaN or inf")
    if task == "auto":
        task = "classification" if (np.issubdtype(y.dtype, np.integer)
                                    or np.issubdtype(y.dtype, np.bool_)) else "regression"
    if task == "classification":
        if y.ndim != 1:
            raise ValueError(f"{where}: class labels y must be 1-D, got shape {y.shape}")
        if not np.all(np.isfinite(y.astype(float))) or not np.all(y == np.round(y)):
            raise ValueError(f"{where}: class labels y must be integers (a regression loss "
                             "such as mse takes real targets)")
        classes, y = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"{where}: needs at least 2 classes, found {classes.size}")
        n_out, stratify, y = int(classes.size), y, y.astype(np.int64)
    else:
        y = y.astype(np.float32)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{where}: targets y contain NaN or inf")
        n_out, stratify = (1 if y.ndim == 1 else int(np.prod(y.shape[1:]))), None
    idx = np.arange(X.shape[0])
    if test_fraction > 0:
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(idx, test_size=float(test_fraction), random_state=int(seed),
                                  stratify=stratify)
        tr, te = np.sort(tr), np.sort(te)
    else:
        tr, te = idx, idx[:0]
    if standardize:
        mu = X[tr].mean(axis=0)
        sd = X[tr].std(axis=0)
        sd[sd == 0] = 1.0
        X = (X - mu) / sd
    Xs = X.astype(np.float32)
    return Dataset(name=label, X_train=Xs[tr], y_train=y[tr], X_test=Xs[te], y_test=y[te],
                   n_classes=n_out, image_shape=image_shape, seed=int(seed),
                   test_fraction=float(test_fraction), task=task)


def _read(name: str, task: str = "classification"):
    if not isinstance(name, str) or not name:
        raise ValueError(f"dataset={name!r}: must be a non-empty string")
    if name in BUILTIN_DATASETS:
        from sklearn import datasets as skd

        loader = {"breast_cancer": skd.load_breast_cancer, "wine": skd.load_wine,
                  "digits": skd.load_digits}[name]
        X, y = loader(return_X_y=True)
        shape = (1, 8, 8) if name == "digits" else None
        return np.asarray(X, dtype=np.float64), np.asarray(y), shape, name
    path = Path(name)
    if path.suffix.lower() not in (".npz", ".csv"):
        raise ValueError(f"dataset={name!r}: not a built-in dataset "
                         f"({', '.join(BUILTIN_DATASETS)}) nor a .npz/.csv file")
    if not path.is_file():
        raise ValueError(f"dataset={name!r}: file not found")
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z.files or "y" not in z.files:
                raise ValueError(f"dataset={name!r}: .npz must hold arrays 'X' and 'y', "
                                 f"found {sorted(z.files)}")
            X, y = np.asarray(z["X"], dtype=np.float64), np.asarray(z["y"])
        if y.ndim != 1 and task == "classification":
            raise ValueError(f"dataset={name!r}: 'y' must be 1-D, got shape {y.shape}")
        return X, y, None, path.stem
    with open(path) as fh:
        first = fh.readline()
    try:
        [float(t) for t in first.strip().split(",")]
        skip = 0
    except ValueError:
        skip = 1
    try:
        A = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"dataset={name!r}: not a numeric CSV ({exc})") from None
    if A.shape[1] < 2:
        raise ValueError(f"dataset={name!r}: CSV needs feature columns and a label column")
    y = A[:, -1]
    if task == "regression":
        return A[:, :-1], y, None, path.stem
    if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
        raise ValueError(f"dataset={name!r}: last CSV column (label) must hold integers")
    return A[:, :-1], y.astype(np.int64), None, path.stem
