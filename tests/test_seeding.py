"""Per-row seeds (issue 18 item 3): derived from (seed, row parameters), the sweep rule."""
import json

from click.testing import CliRunner

from cli.main import main
from levydyn import Box, Problem, Quadratic
from levydyn.seeding import derive_seed, run_seed
from levydyn.experiments.sweep import cell_seed


def test_one_rule_for_sweep_cells_and_cli_rows():
    params = {"alpha": [1.5], "eps": [0.1], "t_max": 1e4}
    assert cell_seed(7, {**params, "paths": 300}) == derive_seed(7, params)
    assert 0 <= derive_seed(2**64 - 1, params) < 2**63


def test_rows_depend_on_what_they_simulate_not_on_their_position():
    box = Box.around([0.0], [1.0], [2.0])
    p = [Problem(Quadratic([1.0]), alpha=1.5, eps=e, domain=box) for e in (0.5, 0.2)]
    run = dict(method="euler", dt=0.01, t_max=1e4)
    assert run_seed(0, p[1], **run) == run_seed(0, p[1], n_paths=10, **run)   # paths extend
    assert run_seed(0, p[0], **run) != run_seed(0, p[1], **run)
    # with seed + k the eps = 0.2 row of seed 0 was the first row of seed 1: no longer
    assert run_seed(1, p[0], **run) != run_seed(0, p[1], **run)
    assert run_seed(0, p[1], **run) != run_seed(1, p[1], **run)


def _rows(tmp_path, *args):
    js = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
    res = CliRunner().invoke(main, ["escape", "--paths", "40", "--json", str(js), *args])
    assert res.exit_code == 0, res.output
    return {r["problem"]["eps"][0]: r for r in json.loads(js.read_text())["results"]}


def test_cli_multi_eps_rows_are_independent_streams(tmp_path):
    """`--eps 0.5,0.2 --seed 0` used to give the eps = 0.2 row of `--eps 0.2 --seed 1`
    (seed + k); now the row equals `--eps 0.2 --seed 0`'s and differs from seed 1's."""
    both = _rows(tmp_path, "--eps", "0.5,0.2", "--seed", "0")
    alone = _rows(tmp_path, "--eps", "0.2", "--seed", "0")
    other = _rows(tmp_path, "--eps", "0.2", "--seed", "1")
    assert both[0.2]["seed"] == alone[0.2]["seed"] != other[0.2]["seed"]
    assert both[0.2]["summary"] == alone[0.2]["summary"]
    assert both[0.2]["summary"] != other[0.2]["summary"]
    assert both[0.5]["seed"] not in (0, 1) and both[0.5]["seed"] != both[0.2]["seed"]
