"""Issue 26 Deliver 2: the bad-input and fault battery, one test per item (one-line errors
that name the option or field and the value; no traceback, no silent result)."""
import pytest

from levydyn.theory import closed_forms


def test_closed_forms_of_not_a_problem():
    with pytest.raises(ValueError, match="problem must be a levydyn.Problem, got problem=None"):
        closed_forms(None)
