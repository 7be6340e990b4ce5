"""levydyn.seeding: the seed of a row against an independent computation of the documented
rule, and its dependence on every run setting (issue 26: tests never varied dt, method or
t_max)."""
import hashlib
import itertools
import json

import pytest
from click.testing import CliRunner

from cli.main import main
from levydyn import Box, Problem, Quadratic
from levydyn.seeding import derive_seed, run_seed


def _by_hand(base: int, params: dict) -> int:
    """The docstring's rule written out: blake2b-64 of the sorted compact JSON of
    {"base_seed", "params"}, little-endian, top bit dropped."""
    text = '{"base_seed":%d,"params":%s}' % (base, json.dumps(params, sort_keys=True,
                                                                separators=(",", ":")))
    h = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") // 2


@pytest.mark.parametrize("base", [0, 1, 12345, 2**63 - 1])
def test_derive_seed_is_the_documented_hash(base):
    params = {"eps": [0.1], "alpha": 1.5, "method": "euler", "b": {"z": 1, "a": 2}}
    assert derive_seed(base, params) == _by_hand(base, params)
    assert 0 <= derive_seed(base, params) < 2**63


def test_derive_seed_ignores_key_order_but_not_values():
    assert derive_seed(3, {"a": 1, "b": 2}) == derive_seed(3, {"b": 2, "a": 1})
    assert derive_seed(3, {"a": 1, "b": 2}) != derive_seed(3, {"a": 2, "b": 1})
    assert derive_seed(3, {"a": 1}) != derive_seed(4, {"a": 1})


def _problem(eps=0.3, alpha=1.5, half=1.0):
    return Problem(Quadratic([1.0]), alpha=alpha, eps=eps, domain=Box.around([0.0], [half], [half]))


def test_run_seed_matches_the_rule_and_changes_with_every_setting():
    p = _problem()
    base = {"method": "euler", "dt": 0.01, "t_max": 100.0}
    s0 = run_seed(5, p, **base)
    assert s0 == _by_hand(5, {"problem": p.describe(), **base})
    variants = [{**base, "method": "jump_adapted"}, {**base, "dt": 0.005},
                {**base, "t_max": 200.0}, {**base, "extra": 1}]
    seeds = [run_seed(5, p, **v) for v in variants]
    problems = [_problem(eps=0.2), _problem(alpha=1.2), _problem(half=2.0)]
    seeds += [run_seed(5, q, **base) for q in problems]
    # every setting moves the seed, and no two settings collide
    assert s0 not in seeds and len(set(seeds)) == len(seeds)
    # ... but the number of paths does not (more paths extend fewer)
    assert run_seed(5, p, n_paths=10, **base) == run_seed(5, p, n_paths=99, **base) == s0


def _cli_seed(tmp_path, *args) -> int:
    js = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
    res = CliRunner().invoke(main, ["escape", "--paths", "4", "--eps", "0.5", "--json", str(js), *args])
    assert res.exit_code == 0, res.output
    return json.loads(js.read_text())["results"][0]["seed"]


def test_cli_row_seed_varies_with_dt_method_and_t_max(tmp_path):
    # the CLI's rows: one seed per (dt, method, t_max) combination, all distinct
    seeds = {}
    for dt, method, t_max in itertools.product(("0.01", "0.02"), ("euler", "jump_adapted"), ("5", "10")):
        seeds[(dt, method, t_max)] = _cli_seed(tmp_path, "--dt", dt, "--method", method,
                                               "--t-max", t_max, "--seed", "0")
    assert len(set(seeds.values())) == len(seeds), seeds
