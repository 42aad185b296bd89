"""Equilibrium continuation against AUTO-07p's stored numbers (``tests/data/auto_reference.json``,
written by ``python -m bifurcate.backends.auto07p --write ...``; AUTO-07p through bifpy, EPSS 1e-10).

The whole pipeline is ours: find_equilibria -> continue_equilibria -> HB point -> continue_cycles.
Points of AUTO's two-parameter curves are checked as one-parameter special points of ours; our own
two-parameter curves are checked against the closed forms in ``test_codim2.py``.
The issues ask for agreement to 1e-5 in special-point parameters and periods.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from bifurcate import continue_cycles, continue_equilibria, find_equilibria
from bifurcate.models import LMG_DIMER, NORMAL_STATE

REF = json.loads((pathlib.Path(__file__).parent / "data" / "auto_reference.json").read_text())
TOL = 1e-5


@pytest.mark.parametrize("row", REF["normal_bp_in_J"]["points"], ids=lambda r: f"lam={r['lam']}")
def test_bp_of_normal_state(row):
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params={"lam": row["lam"]}, p_min=0, p_max=1.5)
    (bp,) = b.special("BP")
    assert bp.located and abs(bp.param - row["J"]) < TOL


def test_hopf_of_normal_state_at_j02():
    r = REF["normal_hopf_in_lam"]
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params={"J": r["J"]}, p_min=0, p_max=1.5)
    hb = b.special("HB")[0]
    assert abs(hb.param - r["lam"]) < TOL
    assert abs(2 * np.pi / hb.data["omega"] - r["period"]) < TOL
    assert hb.data["criticality"] == r["criticality"] == "subcritical"


@pytest.fixture(scope="module")
def broken_branch():
    r = REF["broken_J1"]
    eq = find_equilibria(LMG_DIMER, {"J": 1.0, "lam": 0.0})
    ref_state = np.array([r["fixed_point_lam0"][k] for k in LMG_DIMER.state_names])
    states = eq.stable_states()
    y0 = states[np.argmin(np.linalg.norm(states - ref_state, axis=1))]
    np.testing.assert_allclose(y0, ref_state, atol=1e-8)
    return continue_equilibria(LMG_DIMER, y0, param="lam", params={"J": 1.0, "lam": 0.0}, p_min=0, p_max=1.0)


def test_hopf_of_broken_state_at_j1(broken_branch):
    r = REF["broken_J1"]["hopf"]
    hb = broken_branch.special("HB")[0]
    assert abs(hb.param - r["lam"]) < TOL
    assert abs(2 * np.pi / hb.data["omega"] - r["period"]) < TOL
    assert hb.data["criticality"] == "supercritical"
    ref_state = np.array([r["state"][k] for k in LMG_DIMER.state_names])
    # the Z2 image is the same point for AUTO's purposes; compare with the nearer one
    d = min(np.abs(hb.state - ref_state).max(), np.abs(LMG_DIMER.symmetries[0](hb.state) - ref_state).max())
    assert d < 1e-6


def test_cycles_from_our_hopf_point_reach_autos_period_doubling(broken_branch):
    r = REF["broken_J1"]["cycles"]["pd"]
    hb = broken_branch.special("HB")[0]
    br = continue_cycles(LMG_DIMER, hb, param="lam", ntst=60)
    pd = br.special("PD")[0]
    assert abs(pd.param - r["lam"]) < TOL and abs(pd.data["period"] - r["period"]) < TOL


@pytest.mark.parametrize("row", REF["bp_curve"]["points"][1:], ids=lambda r: f"lam={r['lam']:.3f}")
def test_points_of_autos_bp_curve_are_our_bp_points(row):
    # a point of AUTO's two-parameter BP curve is a BP of our one-parameter branch at its lam
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params={"lam": row["lam"]}, p_min=0, p_max=2.0)
    assert abs(b.special("BP")[0].param - row["J"]) < TOL


@pytest.mark.parametrize("row", REF["hopf_curve"]["points"], ids=lambda r: f"J={r['J']}")
def test_points_of_autos_hopf_curve_are_our_hopf_points(row):
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params={"J": row["J"]}, p_min=0, p_max=1.5)
    hb = b.special("HB")[0]
    assert abs(hb.param - row["lam"]) < TOL and abs(2 * np.pi / hb.data["omega"] - row["period"]) < TOL
