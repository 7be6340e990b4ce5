"""Seeds of independent runs, derived from a base seed and what each run simulates.

One rule for the whole package (``levydyn sweep``'s cells, the CLI's rows): the seed of a
run is ``blake2b(base seed, run parameters)`` as a 63-bit integer, the parameters
serialised as sorted, compact JSON. Two rows of one command (``--eps 0.5,0.2``) therefore
draw from unrelated streams, and a row's numbers depend on what it simulates, not on its
position in a list: ``--eps 0.5,0.2 --seed 0`` and ``--eps 0.2 --seed 0`` give the same
eps = 0.2 row, and ``--seed 1`` a different one (with ``seed + k`` they were shifted copies).
The number of paths is not a parameter of the stream (path ``i`` uses stream ``(seed, i)``),
so a run with more paths extends one with fewer.
"""
from __future__ import annotations

import hashlib
import json
from typing import Mapping

from levydyn.model.validation import check_seed

__all__ = ["derive_seed", "run_seed"]


def derive_seed(base_seed: int, params: Mapping) -> int:
    """``blake2b({"base_seed": base_seed, "params": params})`` as a 63-bit integer."""
    text = json.dumps({"base_seed": check_seed(base_seed), "params": dict(params)},
                      sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


def run_seed(base_seed: int, problem, **run) -> int:
    """The seed of one ``simulate(problem, **run)`` call under ``base_seed``: derived from
    the problem's description and the run settings (``method``, ``dt``, ``t_max`` ...;
    leave ``n_paths`` out so more paths extend fewer)."""
    params = {"problem": problem.describe(), **{k: v for k, v in run.items() if k != "n_paths"}}
    return derive_seed(base_seed, params)
