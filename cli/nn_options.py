"""What the ``levydyn nn`` commands share: option groups (click decorators), list types,
the progress log and the printing of the library's text blocks (:mod:`nn_bridge.report`).

Nothing here imports torch: ``levydyn --help`` stays light.
"""
from __future__ import annotations

import click

from cli.common import FLOATS, format_table
from cli.types import OutputFile, json_file

#: The study's models (``nn_bridge.escape.ladder.MODELS``; repeated here so that parsing
#: does not import torch; a test checks the two agree).
MODELS = ("levy", "gauss", "lin_gauss", "lin_minibatch", "multiplicative", "multiplicative_exact",
          "nonlinear_frozen", "nonlinear_multiplicative", "nonlinear_gauss")


class IntList(click.ParamType):
    """Comma-separated distinct positive integers, e.g. ``32,128,512``."""

    name = "INTS"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return list(value)
        try:
            out = [int(v) for v in str(value).split(",") if v.strip()]
        except ValueError:
            self.fail(f"expected comma-separated positive integers, got {value!r}", param, ctx)
        if not out or any(v < 1 for v in out):
            self.fail(f"expected comma-separated positive integers, got {value!r}", param, ctx)
        if len(set(out)) != len(out):
            self.fail(f"contains duplicates: {value!r}", param, ctx)
        return out


def models_option(ctx, param, value):
    """``--models a,b``: names of the study's models, checked."""
    if value is None:
        return value
    out = [v.strip() for v in str(value).split(",") if v.strip()]
    bad = [m for m in out if m not in MODELS]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not one of {', '.join(MODELS)}")
    return out


def options(*opts):
    """One decorator applying ``opts`` in the order written."""
    def apply(f):
        for o in reversed(opts):
            f = o(f)
        return f
    return apply


def network_options(width_default, width_help):
    """The built-in MLP at ``w*``: data set, width, depth, seed, L2 term of U, and the
    evaluation budget of the search for ``w*``."""
    return options(
        click.option("--dataset", default="breast_cancer", show_default=True),
        click.option("--width", type=click.IntRange(min=1), default=width_default,
                     show_default=width_default is not None, help=width_help),
        click.option("--depth", type=click.IntRange(min=2), default=3, show_default=True),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--weight-decay", type=click.FloatRange(min=0), default=1e-2,
                     show_default=True, help="L2 term of U: makes w* an isolated minimum"),
        click.option("--minimum-evals", type=click.IntRange(min=1), default=None,
                     help="budget of the L-BFGS search for w*: full-batch evaluations of U "
                          "and its gradient [4000]; the output says when it was used up"))


def grid_options(batch_help, lr_help):
    """The (batch size, lr) grid."""
    return options(
        click.option("--batch-sizes", type=IntList(), default=None, help=batch_help),
        click.option("--lrs", type=FLOATS, default=None, help=lr_help))


def run_options(workdir_help, json_type=None):
    """Where a run keeps its parts, its JSON report, and -q."""
    return options(
        click.option("--workdir", type=click.Path(file_okay=False), default=".levydyn-nn",
                     show_default=True, help=workdir_help),
        click.option("--json", "json_path", type=json_type or json_file(), default=None),
        click.option("-q", "--quiet", is_flag=True, help="no progress lines on stderr"))


#: Your own network on every ``nn`` command: model file, its data and loss.
user_network_options = options(
    click.option("--model-file", default=None, metavar="FILE.py[:FUNC]",
                 help="your own network: FUNC() (default build) returns an nn.Module or "
                      "(module, loss_fn); replaces the built-in model"),
    click.option("--data", "data_file", default=None, metavar="NAME|FILE",
                 help="with --model-file: its data, a built-in name or .npz (X, y) / .csv "
                      "(target last); standardised, 20 % held out (nn train/measure: "
                      "--test-fraction)"),
    click.option("--loss", default=None, type=click.Choice(["cross_entropy", "mse"]),
                 help="with --model-file: the loss [cross_entropy, or the loss_fn FUNC "
                      "returns]"))

device_option = click.option("--device", default="auto", show_default=True,
                             help="auto (cuda if available, else cpu), cpu, cuda, cuda:N")


def user_network(model_file, data_file, loss, *, seed: int = 0, device="auto",
                 test_fraction: float = 0.2):
    """The :class:`~nn_bridge.data.network.Network` of ``--model-file/--data/--loss``, or
    ``None`` without ``--model-file`` (call inside ``library_errors``)."""
    if model_file is None and data_file is None and loss is None:
        return None
    if model_file is None or data_file is None:
        raise click.BadParameter("--model-file and --data go together (--loss needs them)",
                                 param_hint="'--model-file'/'--data'")
    from nn_bridge.data.network import Network

    return Network.from_file(model_file, data_file, loss, seed=seed, device=device,
                             test_fraction=test_fraction)


#: What a study's escapes depend on besides the network (so the keys of their parts in
#: --workdir): ``nn study``, ``nn escape`` and ``nn mechanism`` share them.
escape_run_options = options(
    click.option("--radius", type=click.FloatRange(min=0, min_open=True), default=1.0,
                 show_default=True, help="distance criterion ||w - w*|| > radius"),
    click.option("--loss-rise", type=click.FloatRange(min=0), default=0.1,
                 show_default=True, help="loss criterion U(w) - U(w*) > this (0: off)"),
    click.option("--seeds", type=click.IntRange(min=2), default=None,
                 help="SGD replicas per cell [200; quick: 16]"),
    click.option("--max-iter", type=click.IntRange(min=1), default=None,
                 help="first censoring horizon in iterations [2000; quick: 300]"),
    click.option("--long-max-iter", type=click.IntRange(min=1), default=None,
                 help="horizons grow x10 to this until each mean is known to --precision "
                      "[100000; quick: 300]"),
    click.option("--model-max-iter", type=click.IntRange(min=1), default=None,
                 help="... and to this for every rung but (f) (their steps cost as much as "
                      "the network's or more) [20000]"),
    click.option("--precision", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                 default=None, help="a mean is measured when its relative CI half-width is "
                                    "at most this [0.25]"),
    click.option("--slow-cells", type=click.IntRange(min=0), default=None,
                 help="cells added from rung (f)'s probe of slow (B, lr) before any escape "
                      "is measured [4; quick: 0]"),
    click.option("--train-batch-size", type=click.IntRange(min=1), default=None,
                 help="minibatch of the training run that finds w* [min(128, training "
                      "samples)]"),
)

study_options = options(
    network_options(None, "hidden units of the 3-layer ReLU MLP [16; quick: 8]"),
    user_network_options, device_option,
    grid_options("escape batch sizes [4,8,16; quick: 8,32]",
                 "escape learning rates [0.2,0.3,0.5,0.8; quick: 0.4,0.8]"),
    escape_run_options,
    click.option("--splitting", is_flag=True,
                 help="also estimate every cell's mean escape by adaptive multilevel "
                      "splitting (gAMS on the SGD replicas); it is the measurement where "
                      "brute force is censored (JSON: measured.method, measured.splitting)"),
    click.option("--split-replicas", type=click.IntRange(min=2), default=None,
                 help="replicas per splitting run [64]"),
    click.option("--split-runs", type=click.IntRange(min=2), default=None,
                 help="independent splitting runs (CI over runs) [4]"),
    click.option("--quick", is_flag=True, help="seconds-long smoke version (tests)"),
    run_options("checkpoints and finished parts; reruns resume"),
    click.option("--basin-out", type=OutputFile(None, "basin_out"), default=None,
                 help="write w*, curvature (.npz) for `levydyn nn predict`"),
    click.option("--profile-out", type=OutputFile(None, "profile_out"), default=None,
                 help="noise profiles PATH.json|.npz, written as PATH_b<B>.<ext>"),
)


def progress(quiet: bool):
    """The log function handed to the library: progress lines on stderr unless ``quiet``."""
    return (lambda s: None) if quiet else (lambda s: click.echo(s, err=True))


def echo_blocks(blocks) -> None:
    """Print the library's text blocks: a line as it is, a ``Table`` fixed-width."""
    for b in blocks:
        click.echo(b if isinstance(b, str) else format_table(b.head, b.rows))


def echo_wrote(path) -> None:
    click.echo(f"wrote {path}", err=True)
