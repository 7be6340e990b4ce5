"""levydyn.model.validation: one set of constraints for the classes and the CLI's click types."""
import math

import click
import numpy as np
import pytest

from cli.types import ALPHA_T, FloatList, Int, Number
from levydyn import Box, Power, Problem, Quadratic
from levydyn.model.validation import (ALPHA, POSITIVE, as_float, as_int, as_vector, check_index,
                                per_axis)


def _click_message(ptype, value, name):
    param = click.Option([f"--{name}"])
    with pytest.raises(click.BadParameter) as err:
        ptype.convert(value, param, None)
    return err.value.message


@pytest.mark.parametrize("text,value", [("3", 3.0), ("0", 0.0), ("nan", math.nan)])
def test_cli_type_and_library_say_the_same_sentence(text, value):
    with pytest.raises(ValueError) as lib:
        Problem(Quadratic([1.0]), alpha=value, eps=0.1, domain=Box.around([0], [1], [1]))
    assert _click_message(ALPHA_T, text, "alpha") == str(lib.value)


def test_conversions():
    assert as_float("x", np.float32(1.5)) == 1.5 and as_int("n", np.int64(3), 1) == 3
    assert per_axis("alpha", 1.5, 3, ALPHA).tolist() == [1.5] * 3
    assert as_vector("c", (1, 2)).tolist() == [1.0, 2.0]
    for bad in (True, "1.5", None, [1.0]):
        with pytest.raises(ValueError, match="x must"):
            as_float("x", bad, POSITIVE)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got n=2.0"):
        as_int("n", 2.0, 1)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 2\], got alpha=2.5 \(entry 1\)"):
        per_axis("alpha", [1.5, 2.5], 2, ALPHA)
    with pytest.raises(ValueError, match=r"axis must be an integer axis in 0..1, got axis=True"):
        check_index("axis", True, 2)
    assert Power(1).gamma == 1.0 and isinstance(Power(1).gamma, float)


def test_float_list_is_strict():
    assert FloatList(POSITIVE, "eps").convert("0.5, 0.2", None, None) == [0.5, 0.2]
    for text in ("1,,2", "1,2,", ",1", "", "a,b"):
        msg = _click_message(FloatList(POSITIVE, "eps"), text, "eps")
        assert f"eps={text!r}" in msg or "eps must" in msg
    assert "(item 2)" in _click_message(FloatList(POSITIVE, "eps"), "0.5,-1", "eps")


def test_int_type():
    assert Int(0, 50).convert("7", None, None) == 7
    assert _click_message(Int(1, field="n_paths"), "1e3", "paths") == \
        "n_paths must be an integer, got n_paths='1e3'"
    assert "x=-1" in _click_message(Number(POSITIVE), "-1", "x")
