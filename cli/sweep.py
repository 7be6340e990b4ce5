"""``levydyn sweep``: a grid of escape problems from a YAML/TOML spec, on Dask or serially."""
from __future__ import annotations

import math

import click

from cli.common import CliError, format_table, library_errors, output_errors
from cli.types import OutputFile, cluster_options
from levydyn.experiments.sweep import CellError, sweep as run_sweep

MAX_ROWS_SHOWN = 40


def _fmt(x) -> str:
    return "-" if isinstance(x, float) and math.isnan(x) else f"{x:.4g}"


def _ci(row, name) -> str:
    return f"{_fmt(row[name])} [{_fmt(row[name + '_low'])}, {_fmt(row[name + '_high'])}]"


def summary_table(report) -> str:
    """The grid values, mean exit time and P(upper face) with CIs, and the closed forms."""
    keys = [k for k in report.grid_keys if k != "widths"]
    if "widths" in report.grid_keys:
        keys += ["d_minus", "d_plus"]
    rows = []
    for r in report.rows[:MAX_ROWS_SHOWN]:
        vals = []
        for k in keys:
            v = r[k] if k in r else ",".join(f"{r[c]:g}" for c in report.columns
                                            if c.startswith(k + "_") and c[len(k) + 1:].isdigit())
            vals.append(f"{v:g}" if isinstance(v, float) else str(v))
        rows.append(vals + [_ci(r, "mean_exit_time"), _fmt(r["theory_mean_exit_time"]),
                            _ci(r, "p_upper"), _fmt(r["theory_p_upper"]),
                            f"{r['censored_fraction']:.3f}"])
    out = format_table(keys + ["mean exit time [CI]", "theory", "P(upper) [CI]", "theory",
                               "censored"], rows)
    if len(report.rows) > MAX_ROWS_SHOWN:
        out += f"\n... {len(report.rows) - MAX_ROWS_SHOWN} more rows in {report.path}"
    return out


@click.command("sweep")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=OutputFile(None, "out"),
              help="Table to write: .csv (or .parquet with pyarrow). Cells already in it are skipped.")
@cluster_options("a LocalCluster")
@click.option("--serial", is_flag=True, help="Run the cells one after another in this process.")
def sweep(spec, out, scheduler, workers, serial):
    """Run a grid of escape problems; one row per cell, with CIs and closed forms.

    SPEC (.yaml or .toml) fixes parameters at the top level and lists values under
    `grid`; every combination is a cell: first exit of dX = -h X dt + eps dL (SaS(1)
    noise) from (-d-, d+), simulated, summarised and compared with levydyn.theory.
    Each cell has its own seed derived from the base seed and its parameters, so the
    table does not depend on where or in which order cells run. Finished cells are
    appended to OUT as they arrive; rerun the command to resume after a kill.

    \b
    Runs on a dask.distributed LocalCluster by default, on an existing cluster with
    --scheduler, or serially with --serial (or when Dask is not installed).

    \b
    Examples:
      levydyn sweep examples/sweep_escape.yaml --out escape.csv
      levydyn sweep examples/sweep_escape.yaml --out escape.csv --serial
      levydyn sweep spec.toml --out big.csv --scheduler tcp://10.0.0.5:8786
    """
    err = click.get_text_stream("stderr")
    bar, last = None, [0]

    def step(done, total):
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="cells", file=err)
            bar.__enter__()
            if done:
                click.echo(f"{done} of {total} cells already in {out}", err=True)
        bar.update(done - last[0])
        last[0] = done

    try:
        with library_errors(), output_errors(out):      # a full disk: one line, not a traceback
            try:
                report = run_sweep(spec, out, scheduler=scheduler, workers=workers, serial=serial,
                                   progress=step)
            except CellError as exc:
                raise click.ClickException(" ".join(str(exc).split())) from None
            except (ConnectionError, TimeoutError) as exc:
                raise CliError(" ".join(str(exc).split())) from None
    except KeyboardInterrupt:
        click.echo(f"interrupted: the finished cells are in {out}; rerun to resume", err=True)
        raise SystemExit(130) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(summary_table(report))
    via = "" if not report.computed else (" serially" if report.executor == "serial"
                                          else f" on {report.executor}")
    click.echo(f"wrote {report.path}: {len(report.rows)} cells ({report.computed} computed{via}, "
               f"{report.skipped} already there) in {report.wall_time:.1f} s", err=True)


if __name__ == "__main__":
    sweep()
