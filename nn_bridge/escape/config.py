"""What a study of a network's escapes depends on (:class:`StudyConfig`), and the names of
the models it can run (how each runs: :mod:`nn_bridge.escape.ladder`).

The network is the built-in MLP of ``dataset``/``width``/``depth``/``seed``, or any
:class:`~nn_bridge.data.network.Network` given as ``network`` (the user's module, its loss
and data; ``dataset`` then takes the network's data name and ``width``/``depth`` are
unused)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from nn_bridge.data.flat import positive, positive_int
from nn_bridge.escape.experiment import MINIMUM_EVALS, EscapeConfig
from nn_bridge.training.train import TrainConfig

__all__ = ["StudyConfig", "MODELS", "DEFAULT_MODELS", "MODEL_LABELS", "LADDER", "TRAIN_BATCH"]

#: Default training minibatch (paper 004), capped at the number of training samples.
TRAIN_BATCH = 128

MODELS = ("levy", "gauss", "lin_gauss", "lin_minibatch", "multiplicative", "multiplicative_exact",
          "nonlinear_frozen", "nonlinear_multiplicative", "nonlinear_gauss")
#: What a study runs unless told: every model but rung (i), whose step is a full-batch
#: gradient per replica (``n / B`` times the network's samples); ask for it with ``--models``.
DEFAULT_MODELS = MODELS[:-1]
MODEL_LABELS = {"levy": "(a) Levy sim", "gauss": "(c) Gauss sim",
                "lin_gauss": "(d) lin Gauss full-cov", "lin_minibatch": "(e) lin true noise",
                "multiplicative": "(f) 2nd-order per-sample",
                "multiplicative_exact": "(f') (f) exact HVP",
                "nonlinear_frozen": "(g) nonlinear frozen",
                "nonlinear_multiplicative": "(h) nonlinear mult.",
                "nonlinear_gauss": "(i) nonlinear, Gauss local cov"}
#: The ladder of the README table, from the network to the SDE model.
LADDER = ("nonlinear_gauss", "nonlinear_multiplicative", "nonlinear_frozen", "multiplicative", "lin_minibatch",
          "lin_gauss", "levy")


@dataclass(frozen=True)
class StudyConfig:
    """Everything a study depends on (module docstring). ``quick()``: a seconds-long version."""

    dataset: str = "breast_cancer"
    width: int = 16
    depth: int = 3
    seed: int = 0
    test_fraction: float = 0.2
    train_lr: float = 0.05
    train_batch_size: int | None = None     # None: min(128, training samples)
    max_epochs: int = 3000
    grad_tol: float = 1e-3
    weight_decay: float = 1e-2
    minimum_evals: int = MINIMUM_EVALS    # L-BFGS budget of find_minimum (evaluations of U)
    batch_sizes: tuple = (4, 8, 16)
    lrs: tuple = (0.2, 0.3, 0.5, 0.8)
    radius: float = 1.0
    loss_rise: float | None = 0.1
    loss_every: int = 10
    n_seeds: int = 200
    max_iter: int = 2000
    n_minibatches: int = 1000
    estimator: str = "cf_regression"
    k: int = 20
    n_paths: int = 200
    torch_paths: int = 64
    models: tuple = DEFAULT_MODELS
    lyap_paths: int = 64
    lyap_steps: int = 1000
    tail_particles: int = 128
    tail_replicas: int = 4
    tail_steps: int = 200
    factor_probes: int = 64
    network: object = field(default=None, compare=False, repr=False)
    splitting: bool = False      # every cell also by splitting (gAMS), used where censored
    split_replicas: int = 64
    split_runs: int = 4
    long_max_iter: int = 100_000  # horizons grow (x10) to this until each mean is measured
    model_max_iter: int = 20_000  # ... and to this for every rung but (f) (escape.cells)
    precision: float = 0.25       # measured: relative CI half-width <= this (escape.horizon)
    slow_cells: int = 4           # cells added from the stability diagram (escape.slow_cells)
    slow_batch_sizes: tuple = (16, 32)
    slow_lrs: tuple = (0.1, 0.15, 0.2, 0.3, 0.5)

    def __post_init__(self):
        if self.network is not None:
            from nn_bridge.data.network import Network

            if not isinstance(self.network, Network):
                raise ValueError(f"network={type(self.network).__name__}: expected a "
                                 "nn_bridge.data.network.Network")
            object.__setattr__(self, "dataset", self.network.data.name)
        object.__setattr__(self, "batch_sizes", tuple(int(b) for b in self.batch_sizes))
        object.__setattr__(self, "lrs", tuple(float(v) for v in self.lrs))
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "slow_batch_sizes", tuple(int(b) for b in self.slow_batch_sizes))
        object.__setattr__(self, "slow_lrs", tuple(float(v) for v in self.slow_lrs))
        for b in self.slow_batch_sizes:
            positive_int("slow_batch_size", b)
        for v in self.slow_lrs:
            positive("slow_lr", v)
        if not 0 < self.precision < 1:
            raise ValueError(f"precision={self.precision!r}: must lie in (0, 1)")
        if not isinstance(self.slow_cells, int) or self.slow_cells < 0:
            raise ValueError(f"slow_cells={self.slow_cells!r}: must be an integer >= 0")
        if not self.batch_sizes or not self.lrs:
            raise ValueError("batch_sizes and lrs: give at least one value each")
        for b in self.batch_sizes:
            positive_int("batch_size", b)
        for v in self.lrs:
            positive("lr", v)
        if len(set(self.lrs)) != len(self.lrs) or len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ValueError(f"lrs={list(self.lrs)} / batch_sizes={list(self.batch_sizes)}: "
                             "contain duplicates")
        bad = [m for m in self.models if m not in MODELS]
        if bad:
            raise ValueError(f"models: {bad[0]!r} is not one of {', '.join(MODELS)}")
        if self.train_batch_size is not None:
            positive_int("train_batch_size", self.train_batch_size)
        positive("radius", self.radius)
        positive("weight_decay", self.weight_decay, allow_zero=True)
        positive_int("minimum_evals", self.minimum_evals)
        for f in ("n_seeds", "max_iter", "n_paths", "torch_paths", "k", "n_minibatches", "loss_every",
                  "lyap_paths", "lyap_steps", "tail_particles", "tail_replicas", "tail_steps",
                  "factor_probes", "split_replicas", "split_runs", "long_max_iter", "model_max_iter"):
            positive_int(f, getattr(self, f))
        if self.loss_rise is not None:
            positive("loss_rise", self.loss_rise)

    @classmethod
    def quick(cls, **overrides) -> "StudyConfig":
        """A small study for tests and smoke runs (width 8, 2 x 2 grid, 16 seeds)."""
        base = dict(width=8, max_epochs=60, grad_tol=0.0, batch_sizes=(8, 32), lrs=(0.4, 0.8),
                    n_seeds=16, max_iter=300, n_minibatches=200, k=5, n_paths=32, torch_paths=16,
                    loss_every=10, lyap_paths=8, lyap_steps=200, tail_particles=32,
                    tail_replicas=2, tail_steps=50, factor_probes=8, long_max_iter=300, model_max_iter=300,
                    slow_cells=0)
        base.update(overrides)
        return cls(**base)

    @classmethod
    def from_options(cls, quick: bool = False, models=None, **given) -> "StudyConfig":
        """A config from command-line style options: ``None`` means the default (of
        :meth:`quick` with ``quick``), ``loss_rise=0`` turns the loss criterion off,
        ``models`` (if given) the models to run."""
        given = {k: v for k, v in given.items() if v is not None}
        for k in ("lrs", "batch_sizes"):
            if k in given:
                given[k] = tuple(given[k])
        if given.get("loss_rise") == 0:
            given["loss_rise"] = None
        if models is not None:
            given["models"] = tuple(models)
        return cls.quick(**given) if quick else cls(**given)

    @classmethod
    def from_dict(cls, d: dict, network=None, **overrides) -> "StudyConfig":
        """The config :meth:`to_dict` wrote (a study report's ``config``), with
        ``overrides`` (``None``: keep the report's; ``loss_rise=0``: off). A study of your
        own network needs it again as ``network`` (the dict holds only its description)."""
        known = {f.name for f in fields(cls)}
        bad = sorted(set(d) - known)
        if bad:
            raise ValueError(f"config: {bad[0]!r} is not a StudyConfig field")
        if d.get("network") is not None and network is None:
            raise ValueError("config: the study ran your own network; give it again "
                             "(network=..., --model-file/--data)")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k != "network"}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        if kw.get("loss_rise") == 0:
            kw["loss_rise"] = None
        return cls(network=network, **kw)

    def to_dict(self) -> dict:
        """JSON-able fields; ``network`` as its description (model source, loss, identity)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "network"}
        for k in ("batch_sizes", "lrs", "models", "slow_batch_sizes", "slow_lrs"):
            d[k] = list(d[k])
        if self.network is not None:
            d["network"] = self.network.model_dict()
        return d

    @property
    def all_batch_sizes(self) -> tuple:
        """The grid's batch sizes and, with slow cells, the candidates' (sorted)."""
        extra = self.slow_batch_sizes if self.slow_cells else ()
        return tuple(sorted(set(self.batch_sizes) | set(extra)))

    @property
    def all_lrs(self) -> tuple:
        """The grid's learning rates and, with slow cells, the candidates' (sorted)."""
        extra = self.slow_lrs if self.slow_cells else ()
        return tuple(sorted(set(self.lrs) | set(extra)))

    def train_config(self, n_train: int | None = None) -> TrainConfig:
        """The training run's config; ``train_batch_size`` None means ``min(128, n_train)``
        (128 when ``n_train`` is not given), and a given one above ``n_train`` is refused."""
        B = self.train_batch_size
        if B is None:
            B = TRAIN_BATCH if n_train is None else min(TRAIN_BATCH, int(n_train))
        elif n_train is not None and B > n_train:
            raise ValueError(f"train_batch_size={B}: larger than the {n_train} training samples")
        return TrainConfig(lr=self.train_lr, batch_size=B,
                           max_epochs=self.max_epochs, grad_tol=self.grad_tol, seed=self.seed)

    def escape_config(self, lr: float, batch_size: int, n_seeds: int | None = None) -> EscapeConfig:
        return EscapeConfig(lr=lr, batch_size=batch_size, n_seeds=n_seeds or self.n_seeds,
                            radius=self.radius, loss_rise=self.loss_rise,
                            loss_every=self.loss_every, max_iter=self.max_iter, seed=self.seed)
