"""Offline classification datasets for gradient-noise measurements.

Built-in (shipped with scikit-learn, no download):

- ``breast_cancer``: 569 x 30 tabular, 2 classes -- the stand-in for paper 004's UCI
  "Cardio" (a small tabular set on which a 3-layer ReLU MLP is trained);
- ``wine``: 178 x 13 tabular, 3 classes;
- ``digits``: 1797 x 64 (8 x 8 grey images, MNIST-like), 10 classes.

A user's own data: a ``.npz`` with arrays ``X`` (n x d or n x h x w) and ``y`` (n integer
labels), or a numeric ``.csv`` whose last column is the label (an optional header row is
skipped). Labels are mapped to ``0..C-1``.

Features are standardised with the *training* part's mean and standard deviation
(constant features keep scale 1). The train/test split is stratified and fixed by
``seed``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "BUILTIN_DATASETS", "load_dataset"]

BUILTIN_DATASETS = ("breast_cancer", "digits", "wine")


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
    _checksum: str = field(default="", repr=False, compare=False)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

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
                "seed": self.seed, "test_fraction": self.test_fraction, "checksum": self.checksum}


def load_dataset(name: str, *, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load, split (stratified, ``seed``) and standardise a dataset.

    Parameters
    ----------
    name : a built-in name (``breast_cancer``, ``wine``, ``digits``) or a path to a
        ``.npz``/``.csv`` file.
    test_fraction : held-out fraction in [0, 0.9]; 0 keeps every sample for training.
    seed : seed of the split.
    """
    if not isinstance(test_fraction, (int, float)) or not 0.0 <= float(test_fraction) <= 0.9:
        raise ValueError(f"test_fraction={test_fraction!r}: must be a number in [0, 0.9]")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be a non-negative integer")
    X, y, image_shape, label = _read(name)
    if X.ndim > 2:
        image_shape = (1,) + tuple(X.shape[1:]) if X.ndim == 3 else tuple(X.shape[1:])
        X = X.reshape(X.shape[0], -1)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise ValueError(f"dataset={name!r}: X has shape {X.shape} but y has {y.shape[0]} labels")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"dataset={name!r}: features contain NaN or inf")
    classes, y = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"dataset={name!r}: needs at least 2 classes, found {classes.size}")
    idx = np.arange(X.shape[0])
    if test_fraction > 0:
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(idx, test_size=float(test_fraction), random_state=int(seed),
                                  stratify=y)
        tr, te = np.sort(tr), np.sort(te)
    else:
        tr, te = idx, idx[:0]
    mu = X[tr].mean(axis=0)
    sd = X[tr].std(axis=0)
    sd[sd == 0] = 1.0
    Xs = ((X - mu) / sd).astype(np.float32)
    return Dataset(name=label, X_train=Xs[tr], y_train=y[tr].astype(np.int64),
                   X_test=Xs[te], y_test=y[te].astype(np.int64), n_classes=int(classes.size),
                   image_shape=image_shape, seed=int(seed), test_fraction=float(test_fraction))


def _read(name: str):
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
        if y.ndim != 1:
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
    if not np.all(y == np.round(y)):
        raise ValueError(f"dataset={name!r}: last CSV column (label) must hold integers")
    return A[:, :-1], y.astype(np.int64), None, path.stem
