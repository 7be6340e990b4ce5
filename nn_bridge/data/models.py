"""Networks whose gradient noise is measured.

- ``MLP``: ``depth`` fully connected layers with ReLU between them; ``depth = 3`` and
  width 64 is the "three-layer neural network with ReLU activation" of paper 004 (Sec. 5,
  escape-time experiments on UCI tabular data).
- ``SmallCNN``: ``depth - 1`` 3x3 convolutions (``width``, ``2 width``, ... channels,
  ReLU), one 2x2 max-pool, then a linear classifier; for 8x8 digit images.

Weights are initialised with PyTorch's default scheme (Kaiming-uniform with
``a = sqrt(5)``, bias uniform in ``+-1/sqrt(fan_in)``) but drawn from a
``torch.Generator`` seeded by ``ModelSpec.seed`` on the CPU, so the same spec gives
the same weights on any device and no global RNG is touched.
"""
from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["ModelSpec", "MLP", "SmallCNN", "build_model", "weights_checksum"]

MODEL_KINDS = ("mlp", "cnn")


@dataclass(frozen=True)
class ModelSpec:
    """What network to build.

    kind : ``"mlp"`` or ``"cnn"``.
    in_features : flattened input size; n_classes : number of outputs.
    width : hidden units (MLP) or first-layer channels (CNN).
    depth : number of weight layers (MLP: linear layers; CNN: convolutions + classifier).
    image_shape : ``(C, H, W)``, required for the CNN.
    seed : seed of the weight initialisation.
    """

    kind: str = "mlp"
    in_features: int = 30
    n_classes: int = 2
    width: int = 64
    depth: int = 3
    image_shape: tuple[int, int, int] | None = None
    seed: int = 0

    @classmethod
    def for_dataset(cls, data, kind: str = "mlp", width: int = 64, depth: int = 3,
                    seed: int = 0) -> "ModelSpec":
        """The built-in network of ``kind`` sized for ``data`` (a :class:`Dataset`)."""
        return cls(kind=kind, in_features=data.n_features, n_classes=data.n_classes,
                   width=width, depth=depth, image_shape=data.image_shape, seed=seed)

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model={self.kind!r}: must be one of {', '.join(MODEL_KINDS)}")
        for f in ("in_features", "n_classes", "width"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{f}={v!r}: must be a positive integer")
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 2:
            raise ValueError(f"depth={self.depth!r}: must be an integer >= 2")
        if self.n_classes < 2:
            raise ValueError(f"n_classes={self.n_classes!r}: must be >= 2")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r}: must be a non-negative integer")
        if self.kind == "cnn":
            if self.image_shape is None or len(self.image_shape) != 3:
                raise ValueError(f"image_shape={self.image_shape!r}: the cnn needs (C, H, W) "
                                 "image data (e.g. dataset 'digits')")
            if math.prod(self.image_shape) != self.in_features:
                raise ValueError(f"image_shape={self.image_shape!r}: does not match "
                                 f"in_features={self.in_features}")
            if min(self.image_shape[1:]) < 2:
                raise ValueError(f"image_shape={self.image_shape!r}: images must be at least 2x2")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_shape"] = None if self.image_shape is None else list(self.image_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        d = dict(d)
        if d.get("image_shape") is not None:
            d["image_shape"] = tuple(d["image_shape"])
        return cls(**d)


class MLP(nn.Module):
    """``depth`` linear layers ``fc1..fc{depth}`` with ReLU between them."""

    def __init__(self, in_features: int, n_classes: int, width: int = 64, depth: int = 3):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        sizes = [in_features] + [width] * (depth - 1) + [n_classes]
        for k in range(depth):
            layers[f"fc{k + 1}"] = nn.Linear(sizes[k], sizes[k + 1])
            if k < depth - 1:
                layers[f"relu{k + 1}"] = nn.ReLU()
        self.net = nn.Sequential(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """``depth - 1`` 3x3 same-padding convolutions with ReLU, a 2x2 max-pool and ``fc``."""

    def __init__(self, image_shape: tuple[int, int, int], n_classes: int, width: int = 8,
                 depth: int = 3):
        super().__init__()
        self.image_shape = tuple(image_shape)
        c, h, w = self.image_shape
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for k in range(depth - 1):
            out = width * 2 ** k
            layers[f"conv{k + 1}"] = nn.Conv2d(c, out, 3, padding=1)
            layers[f"relu{k + 1}"] = nn.ReLU()
            c = out
        layers["pool"] = nn.MaxPool2d(2)
        layers["flatten"] = nn.Flatten()
        self.features = nn.Sequential(layers)
        self.fc = nn.Linear(c * (h // 2) * (w // 2), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x.reshape(-1, *self.image_shape)))


def build_model(spec: ModelSpec) -> nn.Module:
    """Build the network of ``spec`` on the CPU with deterministic, seeded weights."""
    if spec.kind == "mlp":
        model: nn.Module = MLP(spec.in_features, spec.n_classes, spec.width, spec.depth)
    else:
        model = SmallCNN(spec.image_shape, spec.n_classes, spec.width, spec.depth)
    gen = torch.Generator().manual_seed(spec.seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=gen)
                fan_in = module.weight[0].numel()
                bound = 1.0 / math.sqrt(fan_in)
                nn.init.uniform_(module.bias, -bound, bound, generator=gen)
    return model


def weights_checksum(model: nn.Module) -> str:
    """sha256 of the parameter names and float32 values (CPU, little-endian), in order."""
    h = hashlib.sha256()
    for name, p in model.named_parameters():
        h.update(name.encode())
        h.update(p.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes())
    return h.hexdigest()
