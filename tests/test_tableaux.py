"""Butcher tableaux satisfy their order conditions (a wrong coefficient fails these)."""
import numpy as np
import pytest

from bifurcate.tableaux import DOP853, DP5, RK4


@pytest.mark.parametrize("tab", [DP5, DOP853, RK4], ids=lambda t: t.name)
def test_order_conditions(tab):
    A, b, c = tab.A, tab.B, tab.C
    np.testing.assert_allclose(A.sum(axis=1), c, atol=1e-14)  # row-sum condition
    # conditions up to order 4 (enough to catch a typo in any coefficient that matters)
    assert b.sum() == pytest.approx(1, abs=1e-14)
    assert b @ c == pytest.approx(1 / 2, abs=1e-14)
    assert b @ c ** 2 == pytest.approx(1 / 3, abs=1e-14)
    assert b @ A @ c == pytest.approx(1 / 6, abs=1e-14)
    assert b @ c ** 3 == pytest.approx(1 / 4, abs=1e-14)
    assert b @ (c * (A @ c)) == pytest.approx(1 / 8, abs=1e-14)
    assert b @ A @ c ** 2 == pytest.approx(1 / 12, abs=1e-14)
    assert b @ A @ A @ c == pytest.approx(1 / 24, abs=1e-14)
    if tab.E5.size:
        # error weights annihilate constants: sum(E) = 0 (both b and b_hat sum to 1)
        assert tab.E5.sum() == pytest.approx(0, abs=1e-14)
