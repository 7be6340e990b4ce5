"""``levydyn verify``: every theorem's closed form against simulation, as one table."""
from __future__ import annotations

import click

from cli.common import library_errors, output_errors, write_json
from cli.types import SEED, OutputDir, json_file
from levydyn.experiments import verify as _verify


@click.command("verify")
@click.option("--quick", is_flag=True,
              help="Reduced path counts (about a minute on two cores); what the tests run.")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="Run only this check or group (repeatable). Groups: "
                   + ", ".join(_verify.GROUPS) + ".")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Base seed; each experiment adds a fixed offset.")
@click.option("--json", "json_path", type=json_file(),
              help="Write every row (theory, estimate, CI, allowance, assumption) to this file.")
@click.option("--plot", "plot_dir", type=OutputDir("plot"),
              help="Write verify_eps_scaling.png (mean exit time vs eps) into this folder.")
@click.option("--notes/--no-notes", default=True, show_default=True,
              help="Print, under the table, what each row compares and what its allowance assumes.")
def verify(quick, only, seed, json_path, plot_dir, notes):
    """Check each closed form of levydyn.theory against simulation.

    One row per check: the closed form (SaS(1) convention), the simulated value with a
    simultaneous 95 % confidence interval, the allowance for the known small-noise bias,
    the number of paths and pass/FAIL. A row passes when the closed form lies inside the
    interval widened by the allowance. Exit status 1 if any row fails.

    \b
    Examples:
      levydyn verify --quick
      levydyn verify --only thm2 --only cor44_ratio
      levydyn verify --json verify.json --plot plots/
    """
    with library_errors():
        names = list(only) or None
        if names:
            for n in names:
                _verify.group_of(n)      # validate before the long run
        report = _verify.run(quick=quick, only=names, seed=seed,
                             progress=lambda msg: click.echo(msg, err=True))
    mode = "quick" if quick else "full"
    click.echo(f"levydyn verify ({mode}, seed={seed}, dt={_verify.DT:g}, "
               f"{report.wall_time:.0f} s, CI level {report.level:.4g} per row)")
    click.echo(report.table())
    if notes:
        click.echo("")
        click.echo(report.notes())
    if json_path:
        write_json(json_path, report.to_dict())
    if plot_dir:
        with output_errors(plot_dir):
            for path in report.plot(plot_dir):
                click.echo(f"wrote {path}", err=True)
    n_fail = sum(not c.passed for c in report.checks)
    click.echo(f"\n{len(report.checks) - n_fail}/{len(report.checks)} checks pass")
    if n_fail:
        raise SystemExit(1)
