"""Parameter sweeps: a grid of escape problems, one independent task per cell, on Dask.

A *spec* (YAML or TOML, or an already-parsed mapping) fixes some parameters and lists
values for others under ``grid``; every combination of grid values is a *cell*::

    seed: 0                      # base seed; each cell derives its own from it
    widths: [1, 2]               # fixed for every cell (d-, d+)
    paths: 2000
    grid:
      alpha: [1.2, 1.5, 1.8]
      eps: [0.5, 0.2, 0.1, 0.05]

A cell is the first exit of ``dX^l = -h_l X^l dt + eps_l s_t^((alpha_l-1)/alpha_l) dL^l``
(``U = sum_l h_l x_l^2 / 2``, SaS(1) noise, ``E exp(i w L_1) = exp(-|w|^alpha)``) from the box
``prod_l (-d-_l, d+_l)`` started at 0. Each cell is one task -- :func:`simulate`, the
closed forms of :mod:`levydyn.theory` for the same problem, and the summaries with their
confidence intervals -- returning one row of a tidy table.

Reproducibility. A cell's seed is a hash of the base seed and the cell's parameters
(everything except ``paths``, so more paths extend a run: path i's stream is unchanged),
never of its position in the grid or of the order cells finish in. Tables are therefore
identical whether cells run serially, on a ``LocalCluster`` or on a remote cluster, and
the simulator is bit-identical for any thread count.

Resumability. Each finished cell is appended to the table as one line (``O_APPEND``,
then ``fsync``) by the driver, so a killed sweep keeps every finished cell; a torn last
line is dropped on the next run. A rerun with the same spec skips the cells already in
the table (matched by ``cell_id``, a hash of the parameters, base seed and CI level)
and, once every cell is done, rewrites the table atomically in grid order. Parquet output
(needs ``pyarrow``) keeps its rows in a ``<out>.partial.csv`` journal while running and
becomes a Parquet file at the end.

Execution. ``distributed.LocalCluster`` by default when Dask is installed, an existing
cluster through its scheduler address, or a plain loop (``serial=True``, or when Dask is
not installed). Dask does the scheduling, and re-runs the task of a worker that dies.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from levydyn.experiments.dask_client import (check_cluster_options, dask_available, dask_client,
                                             run_tasks)
from levydyn.model.domains import Box
from levydyn.output_files import atomic_write_bytes
from levydyn.model.potentials import Quadratic
from levydyn.model.problem import Problem
from levydyn.model.schedules import MultiStep, Power, parse_schedule
from levydyn.seeding import derive_seed
from levydyn.solvers import METHODS

try:  # fcntl is POSIX-only; without it two sweeps on one table are not kept apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

# --------------------------------------------------------------------------- the spec

#: Cell parameters (fixed at the top level of a spec, or listed under ``grid``) and defaults.
PARAMETERS = {
    "alpha": None,          # tail index per axis, in (0, 2]  (required)
    "eps": None,            # noise level per axis, > 0        (required)
    "widths": [1.0, 2.0],   # [d-, d+] for every axis, or one pair per axis
    "curvature": 1.0,       # h_l in U = sum h_l x_l^2 / 2
    "schedule": "constant",  # constant | power:GAMMA[:T0] | multistep:T1,T2:F1,F2
    "method": "euler",      # euler | jump_adapted
    "paths": 2000,
    "dt": 0.01,
    "t_max": 1e4,
    "replicate": 0,         # enters only the seed: independent repeats of a cell
}
#: Top-level keys that are not cell parameters.
SETTINGS = ("seed", "level", "grid", "name", "description")


def _number(field_name: str, value) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{field_name} must be a number, got {field_name}={value!r}")
    try:
        return float(value)   # also "1e4": YAML 1.1 reads exponents without a dot as text
    except (TypeError, ValueError):
        raise ValueError(f"{field_name} must be a number, got {field_name}={value!r}") from None


def _positive(field_name: str, value) -> float:
    v = _number(field_name, value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{field_name} must be a positive finite number, got {field_name}={value!r}")
    return v


def _integer(field_name: str, value, low: int) -> int:
    v = _number(field_name, value)
    if not (math.isfinite(v) and v == int(v) and v >= low):
        raise ValueError(f"{field_name} must be an integer >= {low}, got {field_name}={value!r}")
    return int(v)


def _per_axis(field_name: str, value) -> list[float]:
    vals = value if isinstance(value, (list, tuple)) else [value]
    if not vals:
        raise ValueError(f"{field_name} must be a number or a list with one per axis, got "
                         f"{field_name}={value!r}")
    return [_number(field_name, v) for v in vals]


def _widths(value) -> tuple[list[float], list[float]]:
    if not isinstance(value, (list, tuple)):
        w = _number("widths", value)
        return [w], [w]
    if len(value) == 2 and not any(isinstance(v, (list, tuple)) for v in value):
        return [_number("widths", value[0])], [_number("widths", value[1])]
    dm, dp = [], []
    for pair in value:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError(f"widths must be [d-, d+] or one [d-, d+] pair per axis, got "
                             f"widths={value!r}")
        dm.append(_number("widths", pair[0]))
        dp.append(_number("widths", pair[1]))
    return dm, dp


def canonical_schedule(text) -> str:
    """The schedule as an exact string (floats by ``repr``) that :func:`parse_schedule` reads back."""
    s = parse_schedule(text)
    if isinstance(s, Power):
        return f"power:{float(s.gamma)!r}" + (f":{float(s.t0)!r}" if s.t0 else "")
    if isinstance(s, MultiStep):
        return ("multistep:" + ",".join(repr(m) for m in s.milestones) + ":"
                + ",".join(repr(v) for v in s.values))
    return "constant"


def _canonical(raw: dict) -> dict:
    """Checked, canonical (JSON-exact) cell parameters from raw spec values."""
    for key in ("alpha", "eps"):
        if raw.get(key) is None:
            raise ValueError(f"the spec must give {key} (at the top level or under grid)")
    alpha, eps = _per_axis("alpha", raw["alpha"]), _per_axis("eps", raw["eps"])
    curv = _per_axis("curvature", raw["curvature"])
    dm, dp = _widths(raw["widths"])
    sizes = {"alpha": len(alpha), "eps": len(eps), "curvature": len(curv), "widths": len(dm)}
    dim = max(sizes.values())
    for key, n in sizes.items():
        if n not in (1, dim):
            raise ValueError(f"{key} has {n} entries but another parameter has {dim} axes; give "
                             f"one value or one per axis")
    axes = lambda v: v * dim if len(v) == 1 else v  # noqa: E731
    method = raw["method"]
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    params = {"alpha": axes(alpha), "eps": axes(eps), "curvature": axes(curv),
              "d_minus": axes(dm), "d_plus": axes(dp),
              "schedule": canonical_schedule(raw["schedule"]), "method": method,
              "paths": _integer("paths", raw["paths"], 1), "dt": _positive("dt", raw["dt"]),
              "t_max": _positive("t_max", raw["t_max"]),
              "replicate": _integer("replicate", raw["replicate"], 0)}
    if params["dt"] > params["t_max"]:
        raise ValueError(f"dt must not exceed t_max, got dt={params['dt']} t_max={params['t_max']}")
    if method == "jump_adapted" and all(a == 2.0 for a in params["alpha"]):
        raise ValueError("method jump_adapted needs at least one axis with alpha < 2")
    build_problem(params)   # the Problem's own validation (alpha range, eps, widths, curvature)
    return params


def build_problem(params: Mapping) -> Problem:
    """The :class:`Problem` of one cell: quadratic well at 0 in the box (-d-, d+)."""
    dim = len(params["alpha"])
    return Problem(Quadratic(params["curvature"]), alpha=params["alpha"], eps=params["eps"],
                   domain=Box.around([0.0] * dim, params["d_minus"], params["d_plus"]),
                   schedule=parse_schedule(params["schedule"]))


def _digest(payload: dict, n_bytes: int = 8) -> bytes:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=n_bytes).digest()


def cell_seed(base_seed: int, params: Mapping) -> int:
    """``blake2b(base seed, parameters except paths)`` as a 63-bit integer.

    Depends on what is simulated, not on the cell's place in the grid or the order of
    execution; ``paths`` is left out so a run with more paths extends one with fewer.
    """
    return derive_seed(base_seed, {k: v for k, v in params.items() if k != "paths"})


def cell_key(base_seed: int, params: Mapping, level: float) -> str:
    """Identity of a finished cell in a table (16 hex digits)."""
    return _digest({"base_seed": base_seed, "params": dict(params), "level": level}).hex()


@dataclass(frozen=True)
class Cell:
    """One grid point: canonical parameters, derived seed, identity and grid position."""

    index: int
    cell_id: str
    seed: int
    params: dict
    label: str   # the grid values, for messages


@dataclass
class Plan:
    """A parsed spec: the cells in grid order and the table's columns (name -> type)."""

    cells: list[Cell]
    columns: dict
    dim: int
    base_seed: int
    level: float
    grid_keys: list[str]


def load_spec(spec) -> dict:
    """A spec mapping from a ``.yaml``/``.yml``/``.toml`` path, or the mapping itself."""
    if isinstance(spec, Mapping):
        return dict(spec)
    if not isinstance(spec, (str, os.PathLike)):
        raise ValueError(f"spec must be a mapping or a .yaml/.yml/.toml path, got spec={spec!r}")
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".toml"):
        raise ValueError(f"spec must be a .yaml, .yml or .toml file, got spec={str(path)!r}")
    if not path.is_file():
        raise ValueError(f"spec file not found: {str(path)!r}")
    try:
        if suffix == ".toml":
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        else:
            import yaml

            with open(path) as fh:
                data = yaml.safe_load(fh)
    except Exception as err:  # noqa: BLE001 - any parser error becomes one line
        raise ValueError(f"cannot parse spec {str(path)!r}: {' '.join(str(err).split())}") from None
    if not isinstance(data, dict):
        raise ValueError(f"spec {str(path)!r} must be a mapping of parameters, got {type(data).__name__}")
    return data


def plan(spec) -> Plan:
    """Parse and check a spec (path or mapping) into its cells; bad input raises one ValueError."""
    data = load_spec(spec)
    unknown = [k for k in data if k not in PARAMETERS and k not in SETTINGS]
    if unknown:
        raise ValueError(f"unknown spec key {unknown[0]!r}; known keys: "
                         f"{', '.join([*SETTINGS, *PARAMETERS])}")
    grid = data.get("grid") or {}
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid must be a mapping of parameter -> list of values, got grid={grid!r}")
    for key, values in grid.items():
        if key not in PARAMETERS:
            raise ValueError(f"unknown grid parameter {key!r}; grid parameters: {', '.join(PARAMETERS)}")
        if key in data:
            raise ValueError(f"{key} is given both at the top level and under grid")
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"grid {key} must be a non-empty list of values, got {key}={values!r}")
    base_seed = _integer("seed", data.get("seed", 0), 0)
    if base_seed >= 2**64:
        raise ValueError(f"seed must be below 2^64, got seed={base_seed}")
    level = _number("level", data.get("level", 0.95))
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got level={level!r}")
    fixed = {k: data.get(k, d) for k, d in PARAMETERS.items()}
    keys = list(grid)
    cells, seen, dims = [], {}, set()
    for index, combo in enumerate(itertools.product(*(grid[k] for k in keys))):
        label = ", ".join(f"{k}={v}" for k, v in zip(keys, combo)) or "the only cell"
        try:
            params = _canonical({**fixed, **dict(zip(keys, combo))})
        except ValueError as err:
            raise ValueError(f"cell {index} ({label}): {err}") from None
        cid = cell_key(base_seed, params, level)
        if cid in seen:
            raise ValueError(f"cells {seen[cid]} and {index} ({label}) are the same cell; "
                             "use replicate: [0, 1, ...] for independent repeats")
        seen[cid] = index
        dims.add(len(params["alpha"]))
        cells.append(Cell(index, cid, cell_seed(base_seed, params), params, label))
    if len(dims) > 1:
        raise ValueError(f"all cells of a sweep must have the same number of axes, got {sorted(dims)}")
    dim = dims.pop()
    return Plan(cells, table_columns(dim), dim, base_seed, level, keys)


# --------------------------------------------------------------------------- one cell

_AXIS_PARAMS = ("alpha", "eps", "curvature", "d_minus", "d_plus")


def table_columns(dim: int) -> dict:
    """Ordered column name -> type (int, float or str) of a sweep table with ``dim`` axes."""
    ax = lambda name: [name] if dim == 1 else [f"{name}_{l}" for l in range(dim)]  # noqa: E731
    cols: dict = {"cell": int, "cell_id": str, "seed": int}
    for p in _AXIS_PARAMS:
        cols.update({c: float for c in ax(p)})
    cols.update({"schedule": str, "method": str, "paths": int, "dt": float, "t_max": float,
                 "replicate": int, "ci_level": float, "n_exited": int,
                 "censored_fraction": float, "mean_exit_time": float, "mean_exit_time_low": float,
                 "mean_exit_time_high": float, "mean_exit_time_method": str, "p_upper": float,
                 "p_upper_low": float, "p_upper_high": float})
    if dim > 1:
        for l in range(dim):
            cols.update({f"p_axis_{l}": float, f"p_axis_{l}_low": float, f"p_axis_{l}_high": float})
    cols.update({"theory_mean_exit_time": float, "theory_p_upper": float})
    if dim > 1:
        cols.update({f"theory_p_axis_{l}": float for l in range(dim)})
    cols["theory"] = str
    return cols


def theory_columns(params: Mapping) -> dict:
    """Closed forms for one cell: :func:`levydyn.theory.closed_forms` of its Problem (SaS(1)
    noise, i.e. Levy measure ``c_alpha |y|^(-1-alpha)``).

    * every alpha_l < 2: the small-noise limit -- :mod:`levydyn.theory.exit_interval`
      (1-D, paper 000 Thm 1), :mod:`levydyn.theory.box` (N-D, paper 004), or
      :mod:`levydyn.theory.schedules` under a Power / MultiStep schedule;
    * alpha = 2, 1-D, constant schedule: the exact Brownian mean exit time and side
      probability of :mod:`levydyn.theory.gaussian`;
    * otherwise (alpha = 2 axes mixed with jumps, or Brownian with a schedule): NaN.

    The ``theory`` column names the model (``ClosedForms.model``). The limits hold as
    eps -> 0; at moderate eps expect the simulation to sit off them.
    """
    from levydyn.theory import closed_forms

    dim = len(params["alpha"])
    out = {"theory_mean_exit_time": math.nan, "theory_p_upper": math.nan}
    if dim > 1:
        out.update({f"theory_p_axis_{l}": math.nan for l in range(dim)})
    try:
        cf = closed_forms(build_problem(params))
        if "mean_exit_time" not in cf:
            out["theory"] = "none"
            return out
        sides = np.asarray(cf.value("exit_side_probabilities"))
        out["theory_mean_exit_time"] = float(cf.value("mean_exit_time"))
        out["theory_p_upper"] = float(sides[:, 1].sum())
        if dim > 1:
            out.update({f"theory_p_axis_{l}": float(sides[l].sum()) for l in range(dim)})
        out["theory"] = cf.model
    except (ValueError, ImportError) as err:
        out["theory"] = "unavailable: " + " ".join(str(err).split())
    return out


_SIMULATE_LOCK = threading.Lock()   # one numba parallel region per process at a time


def run_cell(params: dict, seed: int, level: float = 0.95) -> dict:
    """Simulate one cell and summarise it: the result and theory columns of its table row.

    Runs on a Dask worker (or in the driver, serially). Calls in one process take turns
    on the simulator, which uses every numba thread, so a multi-threaded worker stays safe.
    """
    from levydyn.simulate import simulate

    problem = build_problem(params)
    with _SIMULATE_LOCK:
        res = simulate(problem, n_paths=params["paths"], dt=params["dt"], t_max=params["t_max"],
                       seed=seed, method=params["method"])
    if res.interrupted:   # Ctrl-C in a serial run: never record a partial cell
        raise KeyboardInterrupt
    mean, upper = res.mean_exit_time(level), res.side_probability(1, level=level)
    row = {"n_exited": res.n_exited, "censored_fraction": res.censored_fraction,
           "mean_exit_time": mean.value, "mean_exit_time_low": mean.low,
           "mean_exit_time_high": mean.high, "mean_exit_time_method": mean.method,
           "p_upper": upper.value, "p_upper_low": upper.low, "p_upper_high": upper.high}
    if problem.dim > 1:
        for l in range(problem.dim):
            p = res.axis_probability(l, level)
            row.update({f"p_axis_{l}": p.value, f"p_axis_{l}_low": p.low, f"p_axis_{l}_high": p.high})
    row.update(theory_columns(params))
    return row


def _param_columns(cell: Cell, dim: int, level: float) -> dict:
    p = cell.params
    row = {"cell": cell.index, "cell_id": cell.cell_id, "seed": cell.seed}
    for name in _AXIS_PARAMS:
        if dim == 1:
            row[name] = p[name][0]
        else:
            row.update({f"{name}_{l}": v for l, v in enumerate(p[name])})
    row.update({k: p[k] for k in ("schedule", "method", "paths", "dt", "t_max", "replicate")})
    row["ci_level"] = level
    return row


# --------------------------------------------------------------------------- the table on disk

def _format(value, kind) -> str:
    if kind is float:
        return repr(float(value))        # shortest exact round trip; 'nan', 'inf'
    if kind is int:
        return str(int(value))
    return " ".join(str(value).split())  # one line per row


def _parse(text: str, kind):
    return kind(text) if kind is not str else text


def _csv_line(values: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (:func:`levydyn.output_files.atomic_write_bytes`: temporary
    sibling, fsync, rename; the temporary file is removed if the write fails)."""
    atomic_write_bytes(path, data)


def _read_csv(path: Path, columns: dict | None = None) -> tuple[list[str], list[dict], bool]:
    """``(header, typed rows, repaired)``; a torn last line (killed mid-write) is dropped."""
    data = path.read_bytes()
    torn = bool(data) and not data.endswith(b"\n")
    if torn:
        data = data[: data.rfind(b"\n") + 1]
    lines = list(csv.reader(io.StringIO(data.decode())))
    if not lines:
        return [], [], torn
    header, body = lines[0], lines[1:]
    kinds = columns if columns is not None else {}
    rows = []
    for n, values in enumerate(body, start=2):
        if len(values) != len(header):
            if n == len(body) + 1:   # an incomplete last line
                torn = True
                break
            raise ValueError(f"{str(path)!r} line {n} has {len(values)} fields, the header "
                             f"{len(header)}: not a sweep table, or damaged")
        try:
            rows.append({h: _parse(v, kinds.get(h, str)) for h, v in zip(header, values)})
        except ValueError:
            raise ValueError(f"{str(path)!r} line {n} has a malformed value") from None
    return header, rows, torn


def read_table(path) -> list[dict]:
    """The rows of a sweep table (``.csv`` or ``.parquet``) as dicts with typed values."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    header, _, _ = _read_csv(path)
    dim = 1 + max([int(h.rsplit("_", 1)[1]) for h in header if h.startswith("alpha_")] or [0])
    return _read_csv(path, table_columns(dim))[1]


class _Table:
    """A sweep table being written: a CSV journal with one appended line per finished cell.

    For ``.csv`` output the journal is the table itself; for ``.parquet`` it is
    ``<out>.partial.csv`` and the Parquet file is written (atomically) by :meth:`finish`.
    A lock file ``<out>.lock`` keeps a second sweep off the same table while this one runs.
    """

    def __init__(self, out, columns: dict):
        self.out = Path(out)
        suffix = self.out.suffix.lower()
        if suffix == ".csv":
            self.parquet = False
        elif suffix in (".parquet", ".pq"):
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ValueError("writing Parquet needs pyarrow (pip install pyarrow); "
                                 f"or write a .csv table, got out={str(self.out)!r}") from None
            self.parquet = True
        else:
            raise ValueError(f"out must end in .csv or .parquet, got out={str(self.out)!r}")
        if not self.out.parent.is_dir():
            raise ValueError(f"directory of out does not exist: {str(self.out.parent)!r}")
        self.columns = columns
        self.journal = self.out.with_name(self.out.name + ".partial.csv") if self.parquet else self.out
        self._lock_path = self.out.with_name(self.out.name + ".lock")
        self._lock_fd = None
        self._fd = None

    def open(self) -> list[dict]:
        """Lock, load (and repair) what earlier runs left; returns the finished rows."""
        self._lock_fd = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(self._lock_fd)
                self._lock_fd = None
                raise ValueError(f"another sweep is writing {str(self.out)!r} "
                                 f"(lock {str(self._lock_path)!r})") from None
        self._remove_stale_temporaries()
        rows, rewrite = [], True
        if self.journal.exists() and self.journal.stat().st_size:
            got, rows, torn = _read_csv(self.journal, self.columns)
            self._check_header(got)
            rewrite = torn
        elif self.parquet and self.out.exists():
            import pyarrow.parquet as pq

            tab = pq.read_table(self.out)
            self._check_header(tab.column_names)
            rows = tab.to_pylist()
        if rewrite:
            self._rewrite(self.journal, rows)
        self._fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND)
        return rows

    def _remove_stale_temporaries(self) -> None:
        """Temporary files a killed sweep left beside the table (we hold the lock, so no
        live writer owns them)."""
        for target in {self.out, self.journal}:
            for pattern in (f".{target.name}.tmp-*", f".{target.name}.*.tmp"):
                for tmp in target.parent.glob(pattern):
                    tmp.unlink(missing_ok=True)

    def _check_header(self, got) -> None:
        if list(got) != list(self.columns):
            raise ValueError(f"{str(self.out)!r} has other columns than this spec's table "
                             "(written by another spec?); write to a new out or delete it")

    def _rewrite(self, path: Path, rows: list[dict]) -> None:
        lines = [_csv_line(list(self.columns))]
        lines += [_csv_line([_format(r[c], k) for c, k in self.columns.items()]) for r in rows]
        _atomic_write(path, b"".join(lines))

    def append(self, row: dict) -> None:
        """One line, one ``write`` on an ``O_APPEND`` descriptor, then ``fsync``."""
        data = _csv_line([_format(row[c], k) for c, k in self.columns.items()])
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def finish(self, rows: list[dict]) -> None:
        """Rewrite the table atomically with ``rows`` (grid order); Parquet: drop the journal."""
        if not self.parquet:
            self._rewrite(self.out, rows)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {int: pa.int64(), float: pa.float64(), str: pa.string()}
        table = pa.table({c: pa.array([r[c] for r in rows], type=types[k])
                          for c, k in self.columns.items()})
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        _atomic_write(self.out, buf.getvalue().to_pybytes())
        self.journal.unlink(missing_ok=True)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            self._lock_path.unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None


# --------------------------------------------------------------------------- execution

class CellError(RuntimeError):
    """Some cells raised; the finished ones are in the table. ``report`` has the details."""

    def __init__(self, message: str, report: "SweepReport"):
        super().__init__(message)
        self.report = report


@dataclass
class SweepReport:
    """What a sweep did: the table (rows in grid order) and how it was computed."""

    path: Path
    columns: list[str]
    rows: list[dict]
    computed: int
    skipped: int
    executor: str
    wall_time: float
    failed: list[tuple[int, str]] = field(default_factory=list)
    grid_keys: list[str] = field(default_factory=list)


def sweep(spec, out, scheduler: str | None = None, workers: int | None = None,
          serial: bool = False, progress: Callable[[int, int], None] | None = None,
          timeout: float | None = None) -> SweepReport:
    """Run every cell of ``spec`` not yet in the table ``out``; return the whole table.

    Parameters
    ----------
    spec : path of a ``.yaml``/``.yml``/``.toml`` spec, or the parsed mapping (see the
        module docstring and :data:`PARAMETERS`).
    out : ``.csv`` table (or ``.parquet``, with pyarrow). Finished cells are appended as
        they arrive; cells already there are skipped, so a rerun resumes.
    scheduler : address of a running Dask scheduler (``tcp://host:8786``); its workers
        need levydyn installed. Default: a ``distributed.LocalCluster`` on 127.0.0.1.
    workers : LocalCluster worker processes (default one per core, at most one per
        cell); each gets ``cores // workers`` numba threads.
    serial : run the cells in this process, one after another (also the behaviour when
        Dask is not installed).
    progress : called as ``progress(done, total)`` with cell counts, first with the
        cells already in the table.
    timeout : seconds to wait for the cluster's results before ``TimeoutError``
        (finished cells stay in the table); default no limit.

    Raises
    ------
    ValueError : bad spec or output path (one line naming the field and value).
    CellError : some cells raised; the others are in the table.
    """
    start = time.perf_counter()
    pl = plan(spec)
    have_dask = dask_available()
    check_cluster_options(scheduler, workers, serial, have_dask)
    table = _Table(out, pl.columns)
    by_id = {c.cell_id: c for c in pl.cells}
    done: dict[str, dict] = {}
    failed: list[tuple[int, str]] = []
    executor = "nothing to run"
    try:
        for row in table.open():
            if row["cell_id"] not in by_id:
                raise ValueError(f"{str(out)!r} holds cells that are not in this spec "
                                 f"(cell_id {row['cell_id']}: different seed, paths, level or "
                                 "grid?); write to a new out or delete it")
            done.setdefault(row["cell_id"], row)
        skipped = len(done)
        pending = [c for c in pl.cells if c.cell_id not in done]
        total = len(pl.cells)
        if progress is not None:
            progress(skipped, total)

        def record(cell: Cell, result: dict) -> None:
            row = {**_param_columns(cell, pl.dim, pl.level), **result}
            table.append(row)
            done[cell.cell_id] = row
            if progress is not None:
                progress(len(done), total)

        if pending and (serial or not have_dask):
            executor = "serial"
            for cell in pending:
                try:
                    result = run_cell(cell.params, cell.seed, pl.level)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as err:  # noqa: BLE001 - reported per cell below
                    failed.append((cell.index, f"{type(err).__name__}: {err}"))
                    continue
                record(cell, result)
        elif pending:
            executor = _run_dask(pl, pending, record, failed, scheduler, workers, timeout)
        rows = [{**done[c.cell_id], "cell": c.index} for c in pl.cells if c.cell_id in done]
        table.finish(rows)
    finally:
        table.close()
    report = SweepReport(Path(out), list(pl.columns), rows, len(done) - skipped, skipped,
                         executor, time.perf_counter() - start, failed, pl.grid_keys)
    if failed:
        idx, msg = failed[0]
        raise CellError(f"{len(failed)} of {len(pl.cells)} cells failed; first, cell {idx} "
                        f"({pl.cells[idx].label}): {msg}", report)
    return report


def _run_dask(pl: Plan, pending: list[Cell], record, failed, scheduler, workers, timeout) -> str:
    with dask_client(scheduler, workers, len(pending)) as (client, executor):
        tasks = [(cell, f"levydyn-cell-{cell.cell_id}", run_cell, (cell.params, cell.seed, pl.level))
                 for cell in pending]
        for cell, result, error in run_tasks(client, tasks, timeout):
            if error is None:
                record(cell, result)
            else:
                failed.append((cell.index, error))
    return executor


__all__ = ["PARAMETERS", "Cell", "CellError", "Plan", "SweepReport", "build_problem",
           "canonical_schedule", "cell_key", "cell_seed", "load_spec", "plan", "read_table",
           "run_cell", "sweep", "table_columns", "theory_columns"]
