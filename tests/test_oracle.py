"""The oracle comparison (bifurcate.continuation.oracle) without running any oracle: which missing
points warn that the reference's own settings dropped them."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from bifurcate.continuation.oracle import OracleToleranceWarning, compare_points
from bifurcate.results import BifurcationPoint


def _pt(kind, value, located=True):
    return BifurcationPoint(kind, value, np.zeros(2), {"p": value}, 0, located, 0.0, (value, value))


def test_located_pd_missing_from_the_reference_warns_about_its_step():
    ours = [_pt("LPC", 0.7905528280), _pt("PD", 0.7913581964), _pt("PD", 0.6738699960)]
    ref = [("PD", 0.6738699962), ("LPC", 0.7905528280)]
    with pytest.warns(OracleToleranceWarning, match=r"PD at 0\.7913581964.*smaller DSMAX"):
        df = compare_points(ours, ref, 1e-6)
    assert list(df["status"]) == ["match", "only_ours", "match"]


def test_nothing_to_warn_about():
    # an unlocated (bracketed) PD of ours, and a point only the reference has, do not warn
    ours = [_pt("PD", 0.5, located=False), _pt("LPC", 0.7)]
    ref = [("LPC", 0.7), ("NS", 0.9)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", OracleToleranceWarning)
        df = compare_points(ours, ref, 1e-6)
    assert sorted(df["status"]) == ["match", "only_ours", "only_reference"]
    with pytest.raises(ValueError, match="tol"):
        compare_points(ours, ref, 0.0)
