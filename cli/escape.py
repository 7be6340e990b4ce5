"""``levydyn escape``: first exit from a 1-D quadratic basin, over a list of noise levels."""
from __future__ import annotations

import click

from cli.common import FLOATS, format_table, library_errors, write_json
from levydyn import Box, Problem, Quadratic, parse_schedule, simulate


@click.command("escape")
@click.option("--alpha", type=float, default=1.5, show_default=True,
              help="Tail index in (0, 2]; 2 is Brownian noise.")
@click.option("--widths", type=FLOATS, default="1,2", show_default=True,
              help="Distances d-,d+ from the minimum to the left and right boundary.")
@click.option("--eps", "eps_list", type=FLOATS, default="0.5,0.2,0.1,0.05", show_default=True,
              help="Noise levels eps to simulate.")
@click.option("--curvature", type=float, default=1.0, show_default=True,
              help="h in U(x) = h x^2 / 2.")
@click.option("--schedule", default="constant", show_default=True,
              help="constant | power:GAMMA[:T0] | multistep:T1,T2:F1,F2")
@click.option("--paths", type=int, default=2000, show_default=True, help="Paths per noise level.")
@click.option("--dt", type=float, default=0.01, show_default=True, help="Euler time step.")
@click.option("--t-max", type=float, default=1e4, show_default=True,
              help="Horizon; paths still inside are censored.")
@click.option("--method", type=click.Choice(["euler", "jump_adapted"]), default="euler",
              show_default=True,
              help="euler, or jump_adapted for small eps (skips the quiet time between large jumps).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the results (with CIs) to this JSON file.")
def escape(alpha, widths, eps_list, curvature, schedule, paths, dt, t_max, method, seed,
           json_path):
    """First exit of dX = -U'(X) dt + eps s_t^((alpha-1)/alpha) dL_t from (-d-, d+).

    U(x) = h x^2 / 2 and L is SaS(1) noise (E exp(iwL_1) = exp(-|w|^alpha)). Prints, per
    eps: paths, mean exit time with a 95 % CI, P(exit right) with a Wilson CI, and the
    censored fraction.

    \b
    Examples:
      levydyn escape --alpha 1.5 --widths 1,2
      levydyn escape --alpha 1.2 --eps 0.1,0.05 --paths 5000 --json out.json
      levydyn escape --alpha 1.8 --schedule power:0.7
      levydyn escape --alpha 1.5 --eps 1e-2,1e-3 --method jump_adapted --paths 10000
    """
    if len(widths) != 2:
        raise click.BadParameter(f"need two widths d-,d+, got {widths}", param_hint="--widths")
    with library_errors():
        sched = parse_schedule(schedule)
        problems = [Problem(Quadratic([curvature]), alpha=alpha, eps=e,
                            domain=Box.around([0.0], [widths[0]], [widths[1]]), schedule=sched)
                    for e in eps_list]
        # validate the run parameters once, on a single path, before the long run
        simulate(problems[0], n_paths=1, dt=dt, t_max=dt, seed=seed, method=method)
    rows, results = [], []
    total = paths * len(problems)
    with click.progressbar(length=total, label="simulating", file=click.get_text_stream("stderr")) as bar:
        for k, prob in enumerate(problems):
            last = [0]

            def step(done, _n, last=last):
                bar.update(done - last[0])
                last[0] = done

            with library_errors():
                res = simulate(prob, n_paths=paths, dt=dt, t_max=t_max, seed=seed + k,
                               method=method, progress=step)
            results.append(res)
            mean = res.mean_exit_time()
            right = res.side_probability(+1)
            rows.append([f"{prob.eps[0]:g}", str(res.n_paths), str(mean), str(right),
                         f"{res.censored_fraction:.3f}"])
            if res.interrupted:
                break
    click.echo(f"alpha={alpha:g}  widths=({widths[0]:g}, {widths[1]:g})  U=x^2*{curvature:g}/2  "
               f"schedule={sched}  method={method}  dt={dt:g}  t_max={t_max:g}  seed={seed}")
    click.echo(format_table(["eps", "paths", "mean exit time [95% CI]", "P(exit right) [95% CI]",
                             "censored"], rows))
    if results and results[-1].interrupted:
        click.echo("interrupted: the table shows the paths that finished", err=True)
    if json_path:
        write_json(json_path, {"command": "escape", "results": [r.to_dict() for r in results]})
