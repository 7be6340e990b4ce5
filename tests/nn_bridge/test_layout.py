"""nn_bridge's layout: stages as subpackages, imports pointing one way, public names kept.

Read from the sources (ast), so a planted back-import (e.g. ``nn_bridge.data`` importing
``nn_bridge.escape``) or a circle between two modules fails here without importing torch.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "nn_bridge"
#: Stages in pipeline order; a module may import its own stage and earlier ones.
STAGES = ("report", "data", "training", "noise", "curvature", "escape", "papers")
#: Known imports of a later stage, each inside a function, with the reason. Training's
#: optional noise tracking (``TrainConfig.track_every``) streams the noise of the SGD
#: minibatches with the noise stage's accumulator.
LATE_IMPORTS = {("nn_bridge.training.train", "nn_bridge.noise.stream"),
                # the Network resolves its device and keys its training run with the
                # training stage's two infrastructure helpers (function-local imports)
                ("nn_bridge.data.network", "nn_bridge.training.device"),
                ("nn_bridge.data.network", "nn_bridge.training.checkpoint")}
#: What users imported from ``nn_bridge`` before the stages existed (README, examples, tests).
PUBLIC = ("BUILTIN_DATASETS", "Dataset", "GradientNoise", "MLP", "MeasureConfig", "Measurement",
          "ModelSpec", "NoiseProfile", "NoiseStats", "SmallCNN", "StreamConfig", "StreamStats",
          "TrainConfig", "TrainResult", "build_model", "collect_noise", "collect_noise_loop",
          "load_dataset", "load_profile", "load_weights", "measure_noise", "minibatch_indices",
          "noise_stats", "per_sample_gradients", "pooled_noise", "resolve_device",
          "run_measurement", "save_profile", "save_weights", "stream_noise", "train",
          "weights_checksum")


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the nn_bridge modules it imports (at any depth of its code)."""
    mods = {_module(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in mods and t != name}
        graph[name] = deps
    return graph


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_circle():
    graph = _imports()
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for d in graph[m]:
            if state.get(d) == "open":
                pytest.fail("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_stages_import_only_earlier_stages():
    order = {s: i for i, s in enumerate(STAGES)}
    bad = []
    for m, deps in _imports().items():
        s = _stage(m)
        if s == "__init__" or m == f"nn_bridge.{s}":     # package doors re-export their stage
            deps = {d for d in deps if _stage(d) == s or s == "__init__"}
        for d in deps:
            if s != "__init__" and order[_stage(d)] > order[s] and (m, d) not in LATE_IMPORTS:
                bad.append(f"{m} -> {d}")
    assert not bad, bad


def test_top_level_small_and_stages_documented():
    top = sorted(p.name for p in ROOT.iterdir()
                 if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    assert len(top) <= 8, top
    for stage in STAGES[1:]:
        doc = ast.get_docstring(ast.parse((ROOT / stage / "__init__.py").read_text()))
        assert doc and "Takes in" in doc and "Hands on" in doc, stage
    long = [str(p) for p in ROOT.rglob("*.py") if len(p.read_text().splitlines()) > 800]
    assert not long, long


def test_public_names_still_import_from_nn_bridge():
    pytest.importorskip("torch")
    import nn_bridge
    from cli.nn_options import MODELS
    from nn_bridge.escape.ladder import MODELS as LADDER_MODELS

    missing = [n for n in PUBLIC if not hasattr(nn_bridge, n)]
    assert not missing, missing
    for stage in ("curvature", "escape", "papers"):        # later stages: on first use
        module = __import__(f"nn_bridge.{stage}", fromlist=["__all__"])
        assert all(getattr(nn_bridge, n) is getattr(module, n) for n in module.__all__)
    assert tuple(MODELS) == tuple(LADDER_MODELS)
