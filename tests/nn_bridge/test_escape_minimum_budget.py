"""Tests of find_minimum's evaluation budget (``nn_bridge.escape.experiment``): the
``minimum_evals`` field of ``StudyConfig`` and ``--minimum-evals`` of ``nn study | escape |
stability``.

- the budget bounds the L-BFGS search (counted independently, by wrapping the objective)
  and the minimum says which rule ended it (hand-built cases of the three rules);
- it reaches ``find_minimum`` from the config and from each command (a planted bug -- the
  option parsed but not passed on -- leaves the default 4000 and fails these tests);
- the cache keeps the key minima had before the budget existed, and a stored minimum
  without the new entries reads back with the defaults;
- bad values: one-line errors naming the option / field and the value;
- what made the search slow on shared cores: ``levydyn nn`` sets ``OMP_WAIT_POLICY=PASSIVE``
  before torch loads (unless the environment gives a value).
"""
import json
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
from click.testing import CliRunner  # noqa: E402

from cli.nn import nn as nn_cli  # noqa: E402
from cli_checks import assert_one_line_error  # noqa: E402
from nn_bridge.data.datasets import load_dataset  # noqa: E402
from nn_bridge.data.flat import FlatModel  # noqa: E402
from nn_bridge.data.models import ModelSpec, build_model  # noqa: E402
from nn_bridge.escape import basin as basin_mod  # noqa: E402
from nn_bridge.escape.config import StudyConfig  # noqa: E402
from nn_bridge.escape.experiment import MINIMUM_EVALS, Minimum, find_minimum  # noqa: E402
from nn_bridge.training.checkpoint import config_key  # noqa: E402

torch.set_num_threads(1)

#: evaluations past the budget: torch caps each line search by what is left, and a step's
#: last line search may still make its first evaluation.
LINE_SEARCH = 1


@pytest.fixture(scope="module")
def wine_mlp():
    data = load_dataset("wine")
    torch.manual_seed(0)
    return build_model(ModelSpec.for_dataset(data, "mlp", 6, 3, 0)), data


def _counting(monkeypatch):
    """Count evaluations of U with requires_grad (L-BFGS's closure), apart from n_evals."""
    calls = []
    orig = FlatModel.objective

    def counted(self, w, X, y, wd):
        if w.requires_grad and w.grad_fn is None:       # the optimised leaf, not the check
            calls.append(1)
        return orig(self, w, X, y, wd)

    monkeypatch.setattr(FlatModel, "objective", counted)
    return calls


@pytest.mark.parametrize("budget", [3, 10, 40])
def test_budget_bounds_the_search(wine_mlp, monkeypatch, budget):
    model, data = wine_mlp
    calls = _counting(monkeypatch)
    mn = find_minimum(model, data, 1e-2, max_evals=budget)
    assert mn.n_evals == len(calls) - 1          # minus the final gradient check at w*
    assert budget <= mn.n_evals <= budget + LINE_SEARCH
    assert mn.max_evals == budget and mn.stopped == "evaluation budget" and mn.budget_exhausted
    line = mn.budget_line()
    assert f"budget of {budget} evaluations" in line and "\n" not in line
    s = mn.summary()
    assert (s["max_evals"], s["stopped"], s["grad_tol"]) == (budget, "evaluation budget", 1e-7)


def test_more_budget_goes_further(wine_mlp):
    """The untruncated search from the same start lowers U below a 3-evaluation one."""
    model, data = wine_mlp
    short, full = find_minimum(model, data, 1e-2, max_evals=3), find_minimum(model, data, 1e-2)
    assert full.objective < short.objective and full.n_evals > short.n_evals


def test_stopped_says_which_rule_ended_the_search():
    def m(grad_norm, n_evals, max_evals=100):
        return Minimum(w=np.zeros(2), objective=0.1, loss=0.1, grad_norm=grad_norm,
                       train_acc=1.0, weight_decay=0.01, n_evals=n_evals, max_evals=max_evals,
                       grad_tol=1e-6)
    assert m(1e-7, 100).stopped == "gradient tolerance"       # tolerance met on the last one
    assert m(1e-3, 100).stopped == "evaluation budget"
    assert m(1e-3, 101).stopped == "evaluation budget"        # line search past the budget
    assert m(1e-3, 99).stopped == "no progress"
    assert m(1e-3, 99).budget_line() is None
    with pytest.warns(UserWarning, match="whole budget of 100 evaluations"):
        basin_mod.warn_minimum(m(1e-3, 100), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        basin_mod.warn_minimum(m(1e-3, 99), 0.0)


def test_cache_key_and_old_entries(wine_mlp, tmp_path):
    model, data = wine_mlp
    store = basin_mod.part_store(tmp_path)
    a = basin_mod.cached_minimum(store, model, data, "sha", 1e-2)
    # the default budget keeps the key of minima stored before the budget was an option
    key = config_key({"weights": "sha", "wd": 1e-2})
    part = store.load("minimum", key)
    assert part is not None and np.array_equal(part["w"], a.w)
    b = basin_mod.cached_minimum(store, model, data, "sha", 1e-2, max_evals=5)
    assert b.max_evals == 5 and b.n_evals < a.n_evals      # another part, not the cached one
    # an entry written before: no max_evals / grad_tol / stopped -> the defaults it had
    meta = {k: v for k, v in a.summary().items()
            if k not in ("w_norm", "n_params", "max_evals", "grad_tol", "stopped")}
    old = Minimum.from_summary(a.w, json.loads(json.dumps(meta)))
    assert (old.max_evals, old.grad_tol, old.n_evals) == (MINIMUM_EVALS, 1e-7, a.n_evals)


def test_config_passes_the_budget(monkeypatch, tmp_path):
    seen = []
    real = basin_mod.find_minimum

    def spy(*args, **kw):
        seen.append(kw.get("max_evals"))
        return real(*args, **kw)

    monkeypatch.setattr(basin_mod, "find_minimum", spy)
    cfg = StudyConfig(dataset="wine", width=4, max_epochs=2, minimum_evals=7)
    assert cfg.to_dict()["minimum_evals"] == 7
    _, _, _, mn = basin_mod.network_minimum(cfg, workdir=tmp_path)
    assert seen == [7] and mn.max_evals == 7 and mn.n_evals <= 7 + LINE_SEARCH
    assert StudyConfig().minimum_evals == MINIMUM_EVALS == 4000


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_budget_is_one_line_error(bad):
    with pytest.raises(ValueError, match=f"minimum_evals={bad!r}: must be an integer >= 1"):
        StudyConfig(minimum_evals=bad)
    with pytest.raises(ValueError, match=f"max_evals={bad!r}"):
        find_minimum(torch.nn.Linear(2, 2), None, max_evals=bad)


@pytest.mark.parametrize("command", ["study", "escape", "stability"])
def test_cli_bad_budget(command):
    res = CliRunner().invoke(nn_cli, [command, "--minimum-evals", "0"])
    assert_one_line_error(res, "'--minimum-evals': 0")


class _Stop(Exception):
    pass


@pytest.mark.parametrize("command", ["study", "escape"])
def test_cli_study_and_escape_pass_the_budget(monkeypatch, command, tmp_path):
    import nn_bridge.escape.study as study_mod

    seen = []

    def fake_run_study(cfg, **kw):
        seen.append(cfg.minimum_evals)
        raise _Stop

    monkeypatch.setattr(study_mod, "run_study", fake_run_study)
    res = CliRunner().invoke(nn_cli, [command, "--quick", "--minimum-evals", "9", "--workdir",
                                      str(tmp_path), "-q"])
    assert isinstance(res.exception, _Stop) and seen == [9]
    CliRunner().invoke(nn_cli, [command, "--quick", "--workdir", str(tmp_path), "-q"])
    assert seen == [9, MINIMUM_EVALS]


def test_cli_stability_reports_a_used_up_budget(tmp_path):
    """End to end on wine: w* searched with 3 evaluations, matrix-free lambda_1 (tiny grid);
    the progress line and the warning (stderr, via ``warnings``) say the budget ended it."""
    runner = CliRunner()
    w = tmp_path / "w.pt"
    res = runner.invoke(nn_cli, ["train", "--dataset", "wine", "--width", "4", "--max-epochs",
                                 "2", "--out", str(w)])
    assert res.exit_code == 0, res.output
    with pytest.warns(UserWarning, match="used its whole budget of 3 evaluations"):
        res = runner.invoke(nn_cli, ["stability", "--dataset", "wine", "--weights", str(w),
                                     "--minimum-evals", "3", "--matrix-free", "--batch-sizes",
                                     "4", "--lrs", "0.5", "--lyap-paths", "2", "--lyap-steps",
                                     "10", "--workdir", str(tmp_path / "wd")])
    assert res.exit_code == 0, res.output
    assert "of 3 evaluations, stopped by evaluation budget" in res.output


@pytest.mark.parametrize("given, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_nn_commands_default_to_passive_openmp_threads(given, expected):
    """``levydyn nn`` sets OMP_WAIT_POLICY before torch is loaded; a value given wins."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    code = ("import os, sys, cli.main, cli.nn; "
            "print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [expected, "False"]
